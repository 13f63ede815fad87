"""The CSRF-failure page (`CSRF_FAILURE_VIEW`) and the handler of unhandled errors
(`handler500`), which tells a database outage (503) and a full upload disk (507) apart from
a bug (500). The 400, 403 and 404 pages need no view: Django's default handlers render
templates/400.html and the others."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views import defaults

from kejiyun.common.files import StorageFull


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form was sent with a missing or stale CSRF token, most often because the page was
    open too long or the person signed in or out elsewhere. Say so in Chinese and lead back
    to the page the form was on (the Referer, when it is this site's), where a reload gets a
    fresh token; this response sets a new token cookie too. Django logs `reason`."""
    referer = request.headers.get("Referer", "")
    back_url = (
        referer
        if referer
        and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        else ""
    )
    # An htmx request gets a fragment to show where the person is looking.
    htmx = bool(request.headers.get("HX-Request"))
    template = "errors/_csrf_failure.html" if htmx else "csrf_failure.html"
    return render(request, template, {"back_url": back_url}, status=403)


# SQLSTATE classes of a database that is not there: connection exceptions (08) and operator
# intervention (57P: shut down, crashed, starting up). A connection refused before any
# SQLSTATE is exchanged carries none.
_OUTAGE_SQLSTATES = ("08", "57P")


def database_unavailable(error: BaseException | None) -> bool:
    """Whether `error` says the database cannot be reached (it is down, restarting or the
    connection broke), as opposed to a query that failed on a working database."""
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    return sqlstate is None or str(sqlstate).startswith(_OUTAGE_SQLSTATES)


def _outage_page(request: HttpRequest, *, status: int, heading: str, message: str) -> HttpResponse:
    """A standalone page (no database, no context processors, like 500.html), or a problem
    document under the API."""
    if request.path.startswith("/api/"):
        code = "unavailable" if status == 503 else "storage_full"
        body = {
            "type": f"https://kejiyun.cn/problems/{code}",
            "title": heading,
            "status": status,
            "detail": message,
            "code": code,
        }
        return JsonResponse(
            body,
            status=status,
            content_type="application/problem+json",
            json_dumps_params={"ensure_ascii": False},
        )
    page = loader.get_template("errors/unavailable.html").render(
        {"code": status, "heading": heading, "message": message}
    )
    return HttpResponse(page, status=status)


def server_error(request: HttpRequest) -> HttpResponse:
    """`handler500`: the page for an error nobody handled (docs/resilience.md).

    Django calls it while the exception is being handled, so `sys.exc_info()` names it. A
    database that cannot be reached answers 503 with `Retry-After` and says so in Chinese (the
    persistent connections are checked before reuse, so the site answers again by itself once
    PostgreSQL is back); a full upload disk that a view did not answer itself answers 507;
    anything else gets Django's own 500 page (templates/500.html)."""
    error = sys.exc_info()[1]
    if database_unavailable(error):
        response = _outage_page(
            request,
            status=503,
            heading=gettext("服务暂时不可用"),
            message=gettext(
                "数据库暂时无法连接，您的操作没有完成，已保存的数据不受影响。"
                "请稍等片刻后刷新页面重试。"
            ),
        )
        response["Retry-After"] = "30"
        return response
    if isinstance(error, StorageFull):
        return _outage_page(
            request, status=507, heading=gettext("存储空间不足"), message=error.messages[0]
        )
    return defaults.server_error(request)
