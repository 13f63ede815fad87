"""The allocation workflow as data: which status may follow which, and who moves it.

`allocation_transition` in services.py refuses any move this table does not list. Holders of
the scheme role submit a draft; a holder of the approver role who neither created nor
submitted it approves it, or returns it with a reason. An approved allocation is frozen: no
move leaves it, and nothing in it can be changed (409).

    draft ──submit──▶ pending ──approve (a second person)──▶ approved (frozen)
      ▲                 │
      └──return (reason)┘
"""

from __future__ import annotations

from kejiyun.common.workflow import Move, MoveTable
from kejiyun.performance.models import Allocation

MANAGER = "manager"  # holds performance.manage_scheme
APPROVER = "approver"  # holds performance.approve_allocation

S = Allocation.Status
ALLOCATION_MOVES = MoveTable(
    S.values,
    [
        Move(S.DRAFT, S.PENDING, MANAGER),
        Move(S.PENDING, S.DRAFT, APPROVER, needs_reason=True),
        Move(S.PENDING, S.APPROVED, APPROVER),
    ],
)
