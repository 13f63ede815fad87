"""How views answer a refused write: one place maps a refusal to its message and status.

A `Stale` refusal answers 409 with the page re-drawn from the current state, a refusal for
lack of permission 403, any other refusal the status the page asks for (400 by default).
Nothing was changed in any of these cases.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from kejiyun.common.errors import ServiceError, Stale

# A page re-drawn from the current state with this message and HTTP status.
Redraw = Callable[[str, int], HttpResponse]


def refusal_text(error: ValidationError | PermissionDenied) -> str:
    """The Chinese message of a refusal (all messages of a ValidationError, joined)."""
    if isinstance(error, ValidationError):
        return "；".join(error.messages)
    return str(error) or "无权操作。"


def refusal_status(error: ValidationError | PermissionDenied, *, otherwise: int = 400) -> int:
    """409 for a stale write, 403 for a refusal for lack of permission, else `otherwise`."""
    if isinstance(error, Stale):
        return 409
    if isinstance(error, PermissionDenied):  # NotPermitted is one too
        return 403
    return otherwise


def run_service(
    request: HttpRequest,
    action: Callable[[], object],
    *,
    success: str,
    done_url: str,
    redraw: Redraw | None = None,
    redraw_every_refusal: bool = False,
) -> HttpResponse:
    """Run one service call for a POST and answer it.

    Done: `success` is flashed and the user goes to `done_url`. Refused (nothing changed):
    a stale write re-draws the page with 409 through `redraw`; other refusals are flashed
    and the user goes back to `done_url`, or, with `redraw_every_refusal`, the page is
    re-drawn with the refusal's status. Without `redraw` every refusal is flashed.
    """
    try:
        action()
    except (ServiceError, PermissionDenied) as error:
        text = refusal_text(error)
        status = refusal_status(error)
        if redraw is not None and (status == 409 or redraw_every_refusal):
            return redraw(text, status)
        messages.error(request, text)
        return redirect(done_url)
    messages.success(request, success)
    return redirect(done_url)
