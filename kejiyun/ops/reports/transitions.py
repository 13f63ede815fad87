"""The work-report workflow as data: which status may follow which, and who moves it.

`report_transition` in services.py refuses any move this table does not list. The staff of
the filing centre submit; the staff of the centre one level up return a report for
corrections (with a reason) or accept it. An accepted report is final: no move leaves it,
and nothing in it can be changed.

    draft ──submit──▶ submitted ──accept──▶ accepted (final)
                        │   ▲
              return (reason) │ submit again
                        ▼   │
                      returned
"""

from __future__ import annotations

from kejiyun.common.workflow import Move, MoveTable
from kejiyun.ops.models import WorkReport

FILER = "filer"  # staff of the centre that files the report
REVIEWER = "reviewer"  # staff of the centre one level up

S = WorkReport.Status
REPORT_MOVES = MoveTable(
    S.values,
    [
        Move(S.DRAFT, S.SUBMITTED, FILER),
        Move(S.RETURNED, S.SUBMITTED, FILER),
        Move(S.SUBMITTED, S.RETURNED, REVIEWER, needs_reason=True),
        Move(S.SUBMITTED, S.ACCEPTED, REVIEWER),
    ],
)
