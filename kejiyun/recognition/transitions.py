"""The application workflow as data: which status may follow which, and who moves it.

`application_transition` (services.py) refuses any move this table does not list. The
applicant submits; the staff of the application's county recommend it or return it with
reasons; the staff of its city endorse it or return it; the province (staff holding
`recognition.manage_recognition`) moves it into review by assigning reviewers, closes
scoring, puts the proposed result on public notice (公示), and makes the result final once
every objection is answered. A returned application goes back to the applicant.

    draft ─submit─▶ submitted ─recommend─▶ recommended ─endorse─▶ endorsed ─assign─▶ reviewing
                      │  ▲                    │                                      │ close scoring
              return  │  │ submit again       │ return                                ▼
                      ▼  │                    ▼                                    scored
                    returned ◀────────────────┘                             propose │
                                                                            ▼
                                  recognised ◀─finalise─ notice ─finalise─▶ not_recognised
"""

from __future__ import annotations

from kejiyun.common.workflow import Move, MoveTable
from kejiyun.recognition.models import Application, Batch

APPLICANT = "applicant"
COUNTY = "county"  # staff of the application's county centre
CITY = "city"  # staff of the city centre above that county
PROVINCE = "province"  # province staff with recognition.manage_recognition

S = Application.Status
APPLICATION_MOVES = MoveTable(
    S.values,
    [
        Move(S.DRAFT, S.SUBMITTED, APPLICANT),
        Move(S.RETURNED, S.SUBMITTED, APPLICANT),
        Move(S.DRAFT, S.WITHDRAWN, APPLICANT),
        Move(S.RETURNED, S.WITHDRAWN, APPLICANT),
        Move(S.SUBMITTED, S.WITHDRAWN, APPLICANT),
        Move(S.SUBMITTED, S.RECOMMENDED, COUNTY),
        Move(S.SUBMITTED, S.RETURNED, COUNTY, needs_reason=True),
        Move(S.RECOMMENDED, S.ENDORSED, CITY),
        Move(S.RECOMMENDED, S.RETURNED, CITY, needs_reason=True),
        Move(S.ENDORSED, S.REVIEWING, PROVINCE),
        Move(S.REVIEWING, S.SCORED, PROVINCE),
        Move(S.SCORED, S.NOTICE, PROVINCE),
        Move(S.SCORED, S.NOT_RECOGNISED, PROVINCE),
        Move(S.NOTICE, S.RECOGNISED, PROVINCE),
        Move(S.NOTICE, S.NOT_RECOGNISED, PROVINCE, needs_reason=True),
    ],
)

# A batch (年度批次): prepared as a draft, open for applications between its dates, under
# review once applications close, on public notice (公示) with its proposed result, final
# once the result is published. Only the province moves it (or the periodic job
# `recognition.advance` on its behalf: opening on `opens_on`, closing after `closes_on`,
# finalising after the notice period).
B = Batch.Status
BATCH_MOVES = MoveTable(
    B.values,
    [
        Move(B.DRAFT, B.OPEN, PROVINCE),
        Move(B.OPEN, B.REVIEW, PROVINCE),
        Move(B.REVIEW, B.NOTICE, PROVINCE),
        Move(B.NOTICE, B.FINAL, PROVINCE),
    ],
)
