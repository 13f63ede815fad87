"""The 一单一策 workflow as data: which step may follow which, and who may make the move.

`case_transition` in services.py refuses any move this table does not list. Staff move a case
along its main line; the enterprise alone closes it (by confirming the outcome) or sends it
back from acceptance (by disputing it). Side exits need a reason.
"""

from __future__ import annotations

from kejiyun.cases.models import Step
from kejiyun.common.workflow import Move, MoveTable

STAFF = "staff"
ENTERPRISE = "enterprise"

S = Step
CASE_MOVES = MoveTable(
    Step.values,
    [
        Move(S.INTAKE, S.DIAGNOSIS, STAFF),
        Move(S.INTAKE, S.WITHDRAWN, STAFF, needs_reason=True),
        Move(S.INTAKE, S.UNSOLVABLE, STAFF, needs_reason=True),
        Move(S.DIAGNOSIS, S.MATCHING, STAFF),
        Move(S.DIAGNOSIS, S.WITHDRAWN, STAFF, needs_reason=True),
        Move(S.DIAGNOSIS, S.UNSOLVABLE, STAFF, needs_reason=True),
        Move(S.MATCHING, S.DOCKING, STAFF),
        Move(S.MATCHING, S.WITHDRAWN, STAFF, needs_reason=True),
        Move(S.MATCHING, S.UNSOLVABLE, STAFF, needs_reason=True),
        # Only with an expert who accepted the docking request, or with a reason (the
        # enterprise found its own partner): `rules.require_agreement_basis`, which
        # `case_transition` applies to this move.
        Move(S.DOCKING, S.AGREEMENT, STAFF),
        # The docking came to nothing: look for other experts.
        Move(S.DOCKING, S.MATCHING, STAFF, needs_reason=True),
        Move(S.DOCKING, S.WITHDRAWN, STAFF, needs_reason=True),
        Move(S.DOCKING, S.UNSOLVABLE, STAFF, needs_reason=True),
        Move(S.AGREEMENT, S.DELIVERY, STAFF),
        Move(S.AGREEMENT, S.WITHDRAWN, STAFF, needs_reason=True),
        Move(S.AGREEMENT, S.UNSOLVABLE, STAFF, needs_reason=True),
        # Leaving delivery records the outcome (case_outcome_record), which moves to
        # acceptance through this same table.
        Move(S.DELIVERY, S.ACCEPTANCE, STAFF),
        Move(S.DELIVERY, S.WITHDRAWN, STAFF, needs_reason=True),
        Move(S.ACCEPTANCE, S.CLOSED, ENTERPRISE),
        Move(S.ACCEPTANCE, S.DELIVERY, ENTERPRISE, needs_reason=True),
    ],
)
