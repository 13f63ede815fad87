"""The event workflow as data. The organiser (staff whose jurisdiction holds the event's
region) moves it on, one step at a time:

    draft ─▶ collecting (centres nominate exhibits) ─▶ open (sign-up) ─▶ running ─▶ closed

`event_transition` (services.py) refuses any move this table does not list.
"""

from __future__ import annotations

from kejiyun.common.workflow import Move, MoveTable
from kejiyun.events.models import Event

ORGANISER = "organiser"

S = Event.Status
EVENT_MOVES = MoveTable(
    S.values,
    [
        Move(S.DRAFT, S.COLLECTING, ORGANISER),
        Move(S.COLLECTING, S.OPEN, ORGANISER),
        Move(S.OPEN, S.RUNNING, ORGANISER),
        Move(S.RUNNING, S.CLOSED, ORGANISER),
    ],
)
