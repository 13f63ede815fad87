"""The progress page of a run: the whole page, the fragment htmx polls, retry and the result.

Every run comes from `access_run` (404 to everyone but its owner and those allowed to follow
runs; the audit middleware records the refusal like any other). Retry and the result file are
the owner's alone.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from kejiyun.background.models import Run
from kejiyun.background.progress import run_with_live_figures
from kejiyun.background.registry import HANDLERS
from kejiyun.background.selectors import access_run
from kejiyun.background.services import run_result_forget, run_result_take, run_retry
from kejiyun.common.errors import NotPermitted, ServiceError
from kejiyun.common.files import private_file_response
from kejiyun.common.ratelimit import client_ip
from kejiyun.common.refusals import refusal_text


def _context(request: HttpRequest, run: Run) -> dict[str, object]:
    return {
        "run": run_with_live_figures(run),
        "is_owner": run.owner_id == request.user.pk,
    }


@login_required
@require_GET
def run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    run = access_run(request.user, run_id)
    return render(request, "background/run.html", _context(request, run))


@login_required
@require_GET
def run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    """The part of the page that moves: polled by htmx every second until the run ends."""
    run = access_run(request.user, run_id)
    return render(request, "background/_progress.html", _context(request, run))


@login_required
@require_POST
def run_retry_view(request: HttpRequest, run_id: int) -> HttpResponse:
    run = access_run(request.user, run_id)
    try:
        run_retry(run=run, actor=request.user)
    except NotPermitted:
        raise
    except ServiceError as error:
        messages.error(request, refusal_text(error))
    return redirect("background:run", run_id=run.pk)


@login_required
@require_GET
def run_result(request: HttpRequest, run_id: int) -> HttpResponseBase:
    run = access_run(request.user, run_id)
    try:
        run_result_take(run=run, actor=request.user)
    except NotPermitted:
        raise
    except ServiceError as error:
        messages.error(request, refusal_text(error))
        return redirect("background:run", run_id=run.pk)
    response = private_file_response(
        run.result_file, filename=run.result_name, content_type=run.result_type
    )
    handler = HANDLERS.get(run.kind)
    if handler is not None and handler.delivered is not None:
        handler.delivered(run, request.user, client_ip(request))
    # A one-download file goes as soon as its bytes are open (they stream from the open
    # handle). With X-Accel-Redirect nginx still has to read it: the purge job removes it.
    if run.result_once and hasattr(response, "streaming_content"):
        run_result_forget(run=run)
    return response
