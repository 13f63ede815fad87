"""Domain events other layers may listen to without being imported by the apps that send
them (the open API's webhooks listen; see `kejiyun/api/receivers.py`).

`domain_event` is sent with `name` (e.g. "demand.published", "case.closed") and `instance`
(the model row), inside the transaction of the write that made the event happen, so a
receiver that writes (an outbox row) commits or rolls back with it."""

from __future__ import annotations

from django.dispatch import Signal

DEMAND_PUBLISHED = "demand.published"
CASE_CLOSED = "case.closed"

domain_event = Signal()
