"""Pages of gaming detection (刷量识别): the flags of the viewer's jurisdiction, one flag with
its evidence, and the decision of a higher centre. Flags come from `access_flag` (404
outside the jurisdiction); a decision goes through `flag_decide`, which refuses with a
Chinese message (403 for someone who may not decide, 409 for a stale page) and changes
nothing."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.common.errors import ServiceError
from kejiyun.common.ratelimit import client_ip
from kejiyun.common.refusals import refusal_status, refusal_text
from kejiyun.integrity.forms import DecideForm
from kejiyun.integrity.models import Flag, Kind
from kejiyun.integrity.selectors import (
    access_flag,
    flag_view,
    flags_filtered,
    flags_for,
    kind_counts,
)
from kejiyun.integrity.services import decide_refusal, flag_decide, flag_decide_refused
from kejiyun.regions.selectors import centres_in_jurisdiction

PER_PAGE = 30


def _month(raw: str) -> tuple[date | None, str]:
    """The month of a "YYYY-MM" filter, and an error for a malformed one."""
    raw = raw.strip()
    if not raw:
        return None, ""
    try:
        year, month = (int(part) for part in raw.split("-"))
        return date(year, month, 1), ""
    except ValueError:
        return None, f"月份“{raw[:20]}”无效，请写成 2026-05 这样的格式。"


@staff_required
def flag_list(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    kind = request.GET.get("kind", "")
    kind = kind if kind in Kind.values else ""
    status = request.GET.get("status", "")
    status = status if status in Flag.Status.values else ""
    centres = list(centres_in_jurisdiction(user=user).order_by("region__path"))
    raw_centre = request.GET.get("centre", "")
    centre = next((c.pk for c in centres if str(c.pk) == raw_centre), None)
    month, month_error = _month(request.GET.get("month", ""))
    visible = flags_for(user)
    scoped = flags_filtered(visible, status=status, centre=centre, month=month)
    page = Paginator(
        flags_filtered(scoped, kind=kind).order_by("-day", "-confidence", "-id"), PER_PAGE
    ).get_page(request.GET.get("page"))
    query = {
        "kind": kind,
        "status": status,
        "centre": str(centre or ""),
        "month": month.strftime("%Y-%m") if month else "",
    }
    return render(
        request,
        "integrity/list.html",
        {
            "page": page,
            "flags": page.object_list,
            "counts": kind_counts(scoped),
            "kinds": Kind.choices,
            "statuses": Flag.Status.choices,
            "centres": centres,
            "kind": kind,
            "status": status,
            "centre": centre,
            "month": query["month"],
            "month_error": month_error,
            "extra_query": urlencode({k: v for k, v in query.items() if v}),
        },
        status=400 if month_error else 200,
    )


def _detail(
    request: AuthenticatedRequest,
    flag: Flag,
    *,
    form: DecideForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    refusal = decide_refusal(user, flag)
    context: dict[str, Any] = {
        "flag": flag,
        "view": flag_view(user, flag),
        "may_decide": refusal is None and flag.status == Flag.Status.OPEN,
        "refusal": refusal if flag.status == Flag.Status.OPEN else None,
        "form": form or DecideForm(initial={"version": flag.version}),
        "error": error,
    }
    return render(request, "integrity/detail.html", context, status=status)


@staff_required
def flag_detail(request: AuthenticatedRequest, flag_id: int) -> HttpResponse:
    return _detail(request, access_flag(request.user, flag_id))


@staff_required
@require_POST
def flag_decide_view(request: AuthenticatedRequest, flag_id: int) -> HttpResponse:
    user = request.user
    flag = access_flag(user, flag_id)
    form = DecideForm(request.POST)
    if not form.is_valid():
        refusal = decide_refusal(user, flag)
        if refusal is not None:
            decision = str(request.POST.get("decision", ""))
            flag_decide_refused(flag, user, decision, refusal, client_ip(request))
            return _detail(request, flag, error=refusal, status=403)
        return _detail(request, flag, form=form, status=400)
    data = form.cleaned_data
    try:
        flag_decide(
            flag,
            user,
            data["decision"],
            data["note"],
            data["version"],
            ip=client_ip(request),
        )
    except (ServiceError, PermissionDenied) as refused:
        code = refusal_status(refused)
        fresh = access_flag(user, flag_id)
        kept = form if code == 400 else DecideForm(initial={"version": fresh.version})
        return _detail(request, fresh, form=kept, error=refusal_text(refused), status=code)
    messages.success(
        request, "已确认为刷量。" if data["decision"] == "confirm" else "已排除该标记。"
    )
    return redirect("integrity:detail", flag.pk)
