"""The 一单一策 workflow as data: which step may follow which, and who may make the move.

`case_transition` in services.py refuses any move this table does not list. Staff move a case
along its main line; the enterprise alone closes it (by confirming the outcome) or sends it
back from acceptance (by disputing it). Side exits need a reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from kejiyun.cases.models import Step

STAFF = "staff"
ENTERPRISE = "enterprise"


@dataclass(frozen=True)
class Move:
    to: str
    by: str
    needs_reason: bool = False


TRANSITIONS: dict[str, tuple[Move, ...]] = {
    Step.INTAKE: (
        Move(Step.DIAGNOSIS, STAFF),
        Move(Step.WITHDRAWN, STAFF, needs_reason=True),
        Move(Step.UNSOLVABLE, STAFF, needs_reason=True),
    ),
    Step.DIAGNOSIS: (
        Move(Step.MATCHING, STAFF),
        Move(Step.WITHDRAWN, STAFF, needs_reason=True),
        Move(Step.UNSOLVABLE, STAFF, needs_reason=True),
    ),
    Step.MATCHING: (
        Move(Step.DOCKING, STAFF),
        Move(Step.WITHDRAWN, STAFF, needs_reason=True),
        Move(Step.UNSOLVABLE, STAFF, needs_reason=True),
    ),
    Step.DOCKING: (
        Move(Step.AGREEMENT, STAFF),
        # The docking came to nothing: look for other experts.
        Move(Step.MATCHING, STAFF, needs_reason=True),
        Move(Step.WITHDRAWN, STAFF, needs_reason=True),
        Move(Step.UNSOLVABLE, STAFF, needs_reason=True),
    ),
    Step.AGREEMENT: (
        Move(Step.DELIVERY, STAFF),
        Move(Step.WITHDRAWN, STAFF, needs_reason=True),
        Move(Step.UNSOLVABLE, STAFF, needs_reason=True),
    ),
    # Leaving delivery records the outcome (case_outcome_record), which moves to acceptance.
    Step.DELIVERY: (
        Move(Step.ACCEPTANCE, STAFF),
        Move(Step.WITHDRAWN, STAFF, needs_reason=True),
    ),
    Step.ACCEPTANCE: (
        Move(Step.CLOSED, ENTERPRISE),
        Move(Step.DELIVERY, ENTERPRISE, needs_reason=True),
    ),
    Step.CLOSED: (),
    Step.WITHDRAWN: (),
    Step.UNSOLVABLE: (),
}


def move_for(from_step: str, to_step: str) -> Move | None:
    """The allowed move from one step to another, or None if the table has none."""
    for move in TRANSITIONS.get(from_step, ()):
        if move.to == to_step:
            return move
    return None


def staff_moves(from_step: str) -> tuple[Move, ...]:
    return tuple(m for m in TRANSITIONS.get(from_step, ()) if m.by == STAFF)
