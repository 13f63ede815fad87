"""Bulletin pages. Every bulletin comes from `access_bulletin` (404 outside what the user may
see); every write goes through a service, which refuses with a Chinese message and changes
nothing. Opening or downloading a published bulletin records its centre's read receipt."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.background.services import run_start
from kejiyun.common.errors import ServiceError
from kejiyun.common.files import attachment_disposition
from kejiyun.common.ratelimit import client_ip
from kejiyun.common.refusals import refusal_status, refusal_text
from kejiyun.ops.bulletins.content import display, lag_reason
from kejiyun.ops.bulletins.files import (
    CONTENT_TYPES,
    FILE_KIND,
    bulletin_content,
    bulletin_file_cached,
    file_run_key,
)
from kejiyun.ops.bulletins.forms import BulletinForm, ReturnForm
from kejiyun.ops.bulletins.selectors import (
    access_bulletin,
    bulletin_receipts,
    bulletins_for,
    is_author_side,
)
from kejiyun.ops.bulletins.services import (
    author_region,
    bulletin_approve,
    bulletin_create,
    bulletin_export_record,
    bulletin_read,
    bulletin_return,
    bulletin_submit,
    bulletin_update,
    may_approve,
)
from kejiyun.ops.indicators import BY_KEY
from kejiyun.ops.models import Bulletin, BulletinStatus
from kejiyun.ops.periods import Period, PeriodKind


def _may_author(request: AuthenticatedRequest) -> bool:
    try:
        author_region(request.user)
    except PermissionDenied:
        return False
    return True


@staff_required
def bulletin_list(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    bulletins = list(bulletins_for(user)[:200])
    for bulletin in bulletins:
        bulletin.mine = is_author_side(user, bulletin)  # type: ignore[attr-defined]
    return render(
        request,
        "ops/bulletins/list.html",
        {"bulletins": bulletins, "may_author": _may_author(request)},
    )


def _content(bulletin: Bulletin) -> dict[str, Any]:
    """The frozen content, or for a draft a preview of what submitting would freeze now."""
    return bulletin_content(bulletin)


def _shown(content: dict[str, Any]) -> dict[str, Any]:
    """The content with its figures formatted for the page."""
    keys = [i["key"] for i in content["indicators"]]
    first = keys[0] if keys else None
    top = max((r["values"].get(first) or 0 for r in content["ranking"]), default=0) if first else 0
    return {
        "headline": [
            {
                "name": line["name"],
                "value": display(line["key"], line["value"]),
                "previous": display(line["key"], line["previous"]),
                "last_year": display(line["key"], line["last_year"]),
            }
            for line in content["headline"]
        ],
        "ranking": [
            {
                "rank": row["rank"],
                "name": row["name"],
                "code": row["code"],
                "values": [display(k, row["values"].get(k)) for k in keys],
                "bar": row["values"].get(first) or 0 if first else 0,
            }
            for row in content["ranking"]
        ],
        "bar_max": top,
        "lagging": [
            {
                "name": centre["name"],
                "indicator": lag["name"],
                "value": display(lag["key"], lag["value"]),
                "median": display(lag["key"], lag["median"]),
                "reason": lag_reason(lag, content["lag_percent"], BY_KEY[lag["key"]].better),
            }
            for centre in content["lagging"]
            for lag in centre["lags"]
        ],
    }


def _detail(
    request: AuthenticatedRequest,
    bulletin: Bulletin,
    *,
    status: int = 200,
    edit_form: BulletinForm | None = None,
    return_form: ReturnForm | None = None,
    refusal: str = "",
) -> HttpResponse:
    user = request.user
    content = _content(bulletin)
    author_side = is_author_side(user, bulletin)
    is_author = user.pk == bulletin.author_id
    draft = bulletin.status == BulletinStatus.DRAFT
    pending = bulletin.status == BulletinStatus.PENDING
    if edit_form is None and draft and is_author:
        edit_form = BulletinForm(
            initial={
                "title": bulletin.title,
                "period": bulletin.period,
                "indicators": bulletin.indicators,
                "lag_percent": bulletin.lag_percent,
                "commentary": bulletin.commentary,
            }
        )
    return render(
        request,
        "ops/bulletins/detail.html",
        {
            "bulletin": bulletin,
            "content": content,
            "shown": _shown(content),
            "author_side": author_side,
            "may_submit": draft and is_author,
            "may_approve": pending and may_approve(user, bulletin),
            "author_waits": pending and is_author,
            "edit_form": edit_form if draft and is_author else None,
            "return_form": return_form or ReturnForm(),
            "receipts": bulletin_receipts(bulletin) if author_side else [],
            "events": bulletin.events.select_related("actor").order_by("at", "id"),
            "refusal": refusal,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def bulletin_new(request: AuthenticatedRequest) -> HttpResponse:
    try:
        region = author_region(request.user)
    except PermissionDenied as error:
        raise Http404("页面不存在") from error
    last_half = Period.containing(PeriodKind.HALF, timezone.localdate()).previous()
    form = BulletinForm(request.POST or None, initial={"period": last_half.token})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            bulletin = bulletin_create(
                author=request.user,
                period=data["period"],
                indicators=data["indicators"],
                commentary=data["commentary"],
                lag_percent=data["lag_percent"],
                title=data["title"],
            )
        except ServiceError as error:
            form.add_error(None, refusal_text(error))
        else:
            messages.success(request, "通报草稿已保存")
            return redirect("ops:bulletins:detail", bulletin.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "ops/bulletins/new.html", {"form": form, "region": region}, status=status
    )


@staff_required
def bulletin_detail(request: AuthenticatedRequest, bulletin_id: int) -> HttpResponse:
    bulletin = access_bulletin(request.user, bulletin_id)
    bulletin_read(reader=request.user, bulletin=bulletin)
    return _detail(request, bulletin)


@staff_required
@require_POST
def bulletin_edit(request: AuthenticatedRequest, bulletin_id: int) -> HttpResponse:
    bulletin = access_bulletin(request.user, bulletin_id)
    form = BulletinForm(request.POST)
    if not form.is_valid():
        return _detail(request, bulletin, status=400, edit_form=form)
    data = form.cleaned_data
    try:
        bulletin_update(
            actor=request.user,
            bulletin=bulletin,
            period=data["period"],
            indicators=data["indicators"],
            commentary=data["commentary"],
            lag_percent=data["lag_percent"],
            title=data["title"],
        )
    except ServiceError as error:
        return _refused(request, bulletin_id, error)
    messages.success(request, "通报草稿已保存")
    return redirect("ops:bulletins:detail", bulletin.pk)


def _refused(request: AuthenticatedRequest, bulletin_id: int, error: ServiceError) -> HttpResponse:
    """The page re-drawn from the current state with the refusal and its status."""
    fresh = access_bulletin(request.user, bulletin_id)
    return _detail(request, fresh, status=refusal_status(error), refusal=refusal_text(error))


@staff_required
@require_POST
def bulletin_submit_view(request: AuthenticatedRequest, bulletin_id: int) -> HttpResponse:
    bulletin = access_bulletin(request.user, bulletin_id)
    try:
        bulletin_submit(actor=request.user, bulletin=bulletin)
    except ServiceError as error:
        return _refused(request, bulletin_id, error)
    messages.success(request, "已提交审核，内容已冻结")
    return redirect("ops:bulletins:detail", bulletin.pk)


@staff_required
@require_POST
def bulletin_approve_view(request: AuthenticatedRequest, bulletin_id: int) -> HttpResponse:
    bulletin = access_bulletin(request.user, bulletin_id)
    try:
        bulletin_approve(actor=request.user, bulletin=bulletin, ip=client_ip(request))
    except ServiceError as error:
        return _refused(request, bulletin_id, error)
    messages.success(request, "通报已审核发布，下级中心将在站内信中收到")
    return redirect("ops:bulletins:detail", bulletin.pk)


@staff_required
@require_POST
def bulletin_return_view(request: AuthenticatedRequest, bulletin_id: int) -> HttpResponse:
    bulletin = access_bulletin(request.user, bulletin_id)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return _detail(request, bulletin, status=400, return_form=form)
    try:
        bulletin_return(
            actor=request.user,
            bulletin=bulletin,
            reason=form.cleaned_data["reason"],
            ip=client_ip(request),
        )
    except ServiceError as error:
        return _refused(request, bulletin_id, error)
    messages.success(request, "通报已退回起草人")
    return redirect("ops:bulletins:detail", bulletin.pk)


# Files the cache holds go at once; any other is made in the background (files.py).
FILE_FRESH_SECONDS = 600


def _download(request: AuthenticatedRequest, bulletin_id: int, extension: str) -> HttpResponseBase:
    bulletin = access_bulletin(request.user, bulletin_id)
    data = bulletin_file_cached(bulletin, extension)
    if data is None:
        run = run_start(
            kind=FILE_KIND,
            owner=request.user,
            title=_("生成通报文件：%(title)s.%(ext)s")
            % {"title": bulletin.title, "ext": extension},
            key=file_run_key(bulletin, extension, request.user),
            params={"bulletin": bulletin.pk, "format": extension},
            back_url=reverse("ops:bulletins:detail", args=[bulletin.pk]),
            # A draft's preview follows the rollups: a new run once the last one finished.
            fresh_seconds=FILE_FRESH_SECONDS if bulletin.content is not None else 0,
        )
        return redirect("background:run", run_id=run.pk)
    bulletin_read(reader=request.user, bulletin=bulletin)
    bulletin_export_record(
        actor=request.user, bulletin=bulletin, fmt=extension, ip=client_ip(request)
    )
    response = HttpResponse(data, content_type=CONTENT_TYPES[extension])
    response["Content-Disposition"] = attachment_disposition(f"{bulletin.title}.{extension}")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@staff_required
def bulletin_pdf_view(request: AuthenticatedRequest, bulletin_id: int) -> HttpResponseBase:
    return _download(request, bulletin_id, "pdf")


@staff_required
def bulletin_xlsx_view(request: AuthenticatedRequest, bulletin_id: int) -> HttpResponseBase:
    return _download(request, bulletin_id, "xlsx")
