"""The security auditor's pages: the audit trail with filters, its chain status, and an
.xlsx export of the filtered rows (docs/security.md items 11 and 12).

Only the security auditor and users given `accounts.view_audit_trail`; anyone else signed in
gets a 404, anonymous visitors the login page. Each filter search writes one AUDIT_VIEW row
(turning pages does not), each export one AUDIT_EXPORT row.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kejiyun.audit.limits import export_limited
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record, audit_verify
from kejiyun.security.forms import AuditFilterForm
from kejiyun.security.selectors import actor_ids, audit_events, may_view_audit, user_names
from kejiyun.spreadsheets.workbooks import write_export

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 50
MAX_EXPORT_ROWS = 100_000


def auditor_required(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """The security auditor and holders of `accounts.view_audit_trail`; others signed in get a
    404, anonymous visitors the login page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not may_view_audit(request.user):
            raise Http404("页面不存在")
        return view(request, *args, **kwargs)

    return wrapper


def _audited_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """The filters as the audit row records them: dates as text, an actor by user ids
    (a typed name is not kept)."""
    out: dict[str, Any] = {}
    for name, value in filters.items():
        if name == "actor":
            out["actor_ids"] = actor_ids(str(value))[:20]
        else:
            out[name] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return out


def _query(form: AuditFilterForm, filters: dict[str, Any]) -> str:
    return urlencode({name: form.data.get(name, "") for name in filters})


@require_GET
@auditor_required
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    filters = form.filters()
    page = Paginator(audit_events(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    if "page" not in request.GET:  # a search, not a turn of the page
        audit_record(
            action=AuditAction.AUDIT_VIEW,
            user=request.user,  # type: ignore[arg-type]
            object_type="auditevent",
            detail={"filters": _audited_filters(filters)},
        )
    names = user_names({e.user_id for e in page if e.user_id})
    broken = audit_verify()
    return render(
        request,
        "security/audit_list.html",
        {
            "form": form,
            "page": page,
            "rows": [(e, names.get(e.user_id or 0, "")) for e in page],
            "broken": broken[:20],
            "broken_count": len(broken),
            "extra_query": _query(form, filters),
        },
    )


def _rows(events: Any, names: dict[int, str]) -> Iterator[list[object]]:
    for e in events:
        yield [
            e.pk,
            timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            e.user_id or "",
            names.get(e.user_id or 0, ""),
            e.ip or "",
            e.action,
            e.get_action_display(),
            e.object_type,
            e.object_id,
            e.get_outcome_display(),
            str(e.detail) if e.detail else "",
            e.hash,
        ]


@require_GET
@auditor_required
def audit_export(request: HttpRequest) -> HttpResponseBase:
    refused = export_limited(request)
    if refused is not None:
        return refused
    form = AuditFilterForm(request.GET)
    filters = form.filters()
    events = list(audit_events(filters)[:MAX_EXPORT_ROWS])
    names = user_names({e.user_id for e in events if e.user_id})
    now = timezone.localtime()
    target = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it)
    headers = ["编号", "时间", "用户编号", "用户", "IP 地址", "操作代码", "操作", "对象类型"]
    headers += ["对象编号", "结果", "详情", "哈希"]
    try:
        write_export(
            target,
            sheet_title="审计日志",
            headers=headers,
            rows=_rows(events, names),
            notes=lambda: [
                "审计日志",
                f"导出时间：{now:%Y-%m-%d %H:%M}",
                f"共{len(events)}行。",
            ],
        )
    except BaseException:
        target.close()
        raise
    target.seek(0)
    audit_record(
        action=AuditAction.AUDIT_EXPORT,
        user=request.user,  # type: ignore[arg-type]
        object_type="auditevent",
        detail={"filters": _audited_filters(filters), "rows": len(events)},
    )
    return FileResponse(
        target,
        as_attachment=True,
        filename=f"审计日志-{now:%Y%m%d-%H%M}.xlsx",
        content_type=XLSX_TYPE,
    )
