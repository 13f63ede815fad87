"""The science-content workflow as data: which status may follow which, and who moves it.

`content_transition` in services.py refuses any move this table does not list. The centre
staff who manage the content (its editors) send it to review, take it down and withdraw it
for changes; a reviewer publishes it or returns it, and a return needs a reason (the
review note).

    draft ──submit──▶ in_review ──approve──▶ published ──archive──▶ archived
      ▲                  │                      │
      │               return (note)             └──withdraw (撤回修改)──▶ draft
      └── returned ◀─────┘       returned ──submit──▶ in_review
"""

from __future__ import annotations

from kejiyun.common.workflow import Move, MoveTable
from kejiyun.popsci.models import Article

EDITOR = "editor"  # centre staff whose jurisdiction holds the content's centre, or an admin
REVIEWER = "reviewer"  # a reviewer-role user who did not write the content

S = Article.Status
CONTENT_MOVES = MoveTable(
    S.values,
    [
        Move(S.DRAFT, S.IN_REVIEW, EDITOR),
        Move(S.RETURNED, S.IN_REVIEW, EDITOR),
        Move(S.IN_REVIEW, S.PUBLISHED, REVIEWER),
        Move(S.IN_REVIEW, S.RETURNED, REVIEWER, needs_reason=True),
        Move(S.PUBLISHED, S.ARCHIVED, EDITOR),
        # 撤回修改: hidden until it is reviewed again.
        Move(S.PUBLISHED, S.DRAFT, EDITOR),
    ],
)
