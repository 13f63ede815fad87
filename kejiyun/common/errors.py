"""The one error style of every service.

A service that refuses a write raises a `ServiceError` (a `ValidationError`, so forms and
views can show its Chinese message, `error.messages[0]`) and has changed nothing. Each app
subclasses it for its own refusals (`CaseError`, `DemandError`, …). A write refused because
someone else changed the record since the page was read raises a `Stale` subclass; the views
answer it with 409 (`kejiyun.common.refusals`). A write refused because the actor may not
touch the record raises `NotPermitted`, which is also Django's `PermissionDenied`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model

STALE_MESSAGE = "该记录已被他人修改，请刷新后再试。"


class ServiceError(ValidationError):
    """A refused write; `messages[0]` is the message for the user. Nothing was changed."""


class Stale(ServiceError):
    """The record changed after the page was read (the version the caller saw is gone)."""

    message_text = STALE_MESSAGE

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message_text, code="stale")


class NotPermitted(ServiceError, PermissionDenied):
    """The actor may not do this to this record (for example, it lies outside their
    jurisdiction). Caught as a ServiceError by views, as PermissionDenied by Django."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="not_permitted")


def record_check(
    record: Model, *, error: type[ServiceError] = ServiceError, exclude: list[str] | None = None
) -> None:
    """Run the model's own validation (`full_clean`) and refuse with `error` — the service's
    refusal — rather than a bare ValidationError, so callers handle one kind of refusal."""
    try:
        record.full_clean(exclude=exclude)
    except ValidationError as invalid:
        raise error(
            invalid.message_dict if hasattr(invalid, "error_dict") else invalid.messages
        ) from invalid
