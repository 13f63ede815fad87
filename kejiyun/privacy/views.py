"""The "my data" pages (PIPL §§44-47): see, export, correct, withdraw consents, cancel.
Every page shows and changes only the signed-in user's own data."""

from __future__ import annotations

import io
import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from openpyxl import Workbook  # type: ignore[import-untyped]

from kejiyun.accounts.guards import AuthenticatedRequest
from kejiyun.cases.models import Case
from kejiyun.common.errors import ServiceError
from kejiyun.common.ratelimit import client_ip
from kejiyun.common.refusals import refusal_text, run_service
from kejiyun.popsci.models import CitizenProfile
from kejiyun.privacy.forms import CancelForm, CorrectionForm, MobileChangeForm
from kejiyun.privacy.selectors import PAGE_ROWS, personal_data
from kejiyun.privacy.services import (
    CONFIRM_PHRASE,
    LIBRARY,
    TARGETING,
    Cancellation,
    Correction,
    account_cancel,
    account_correct,
    account_mobile_change,
    cancellation_blockers,
    consent_withdraw,
    personal_data_export_record,
)


def _consents(request: AuthenticatedRequest) -> list[dict[str, object]]:
    """The consents the user may withdraw, each with what a POST needs."""
    user = request.user
    rows: list[dict[str, object]] = []
    citizen = CitizenProfile.objects.filter(user=user).first()
    if citizen is not None and citizen.targeting_consent:
        rows.append(
            {
                "consent": TARGETING,
                "object_id": "",
                "label": "科普内容精准推送",
                "detail": f"同意的政策版本：{citizen.consent_version or '—'}",
            }
        )
    if user.organisation_id:
        for case in (
            Case.objects.filter(demand__organisation_id=user.organisation_id)
            .exclude(library_consent_at=None)
            .select_related("demand")
            .order_by("id")
        ):
            rows.append(
                {
                    "consent": LIBRARY,
                    "object_id": case.pk,
                    "label": "案例库公开展示",
                    "detail": case.demand.title,
                }
            )
    # Hook: the expert-directory listing consent (helper C) adds its row here.
    return rows


def _page(
    request: AuthenticatedRequest,
    *,
    correction: CorrectionForm | None = None,
    cancel: CancelForm | None = None,
    mobile: MobileChangeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    correction = correction or CorrectionForm(
        initial={"display_name": user.display_name, "email": user.email, "region": user.region}
    )
    response = render(
        request,
        "privacy/my_data.html",
        {
            "categories": personal_data(user),
            "page_rows": PAGE_ROWS,
            "consents": _consents(request),
            "correction": correction,
            "cancel": cancel or CancelForm(),
            "mobile_form": mobile or MobileChangeForm(),
            "blockers": cancellation_blockers(user),
            "confirm_phrase": CONFIRM_PHRASE,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
@never_cache
def my_data(request: AuthenticatedRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_GET
@never_cache
def export(request: AuthenticatedRequest, fmt: str) -> HttpResponse:
    """The user's own data as JSON or .xlsx, built in memory (no file is left on disk).
    The mobile and the ID number are given in full: they are the user's own."""
    if fmt not in ("json", "xlsx"):
        raise Http404("没有这种导出格式")
    user = request.user
    categories = personal_data(user, masked=False)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "json":
        payload = {
            "exported_at": timezone.now().isoformat(),
            "categories": [
                {
                    "key": c.key,
                    "label": c.label,
                    "note": c.note,
                    "rows": [dict(zip(c.columns, row, strict=True)) for row in c.rows],
                }
                for c in categories
            ],
        }
        body = json.dumps(payload, ensure_ascii=False, indent=2).encode()
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        name = f"my-data-{stamp}.json"
    else:
        book = Workbook()
        first = book.active
        for i, c in enumerate(categories):
            sheet = first if i == 0 else book.create_sheet()
            assert sheet is not None
            sheet.title = c.label[:31].replace("/", "-")
            sheet.append(c.columns)
            for row in c.rows:
                sheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        name = f"my-data-{stamp}.xlsx"
    personal_data_export_record(user=user, fmt=fmt, ip=client_ip(request))
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def correct(request: AuthenticatedRequest) -> HttpResponse:
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        return _page(request, correction=form, status=400)
    correction = Correction(
        display_name=form.cleaned_data["display_name"],
        email=form.cleaned_data["email"],
        region=form.cleaned_data["region"],
    )
    try:
        changed = account_correct(user=request.user, correction=correction, ip=client_ip(request))
    except ServiceError as error:
        form.add_error(None, refusal_text(error))
        return _page(request, correction=form, status=400)
    messages.success(request, "已保存您的更正。" if changed else "信息没有变化。")
    return redirect("privacy:my_data")


@login_required
@require_POST
def change_mobile(request: AuthenticatedRequest) -> HttpResponse:
    form = MobileChangeForm(request.POST)
    if not form.is_valid():
        return _page(request, mobile=form, status=400)
    try:
        account_mobile_change(
            user=request.user,
            mobile=form.cleaned_data["mobile"],
            sms_code=form.cleaned_data["sms_code"],
            ip=client_ip(request),
        )
    except ServiceError as error:
        form.add_error(None, refusal_text(error))
        return _page(request, mobile=form, status=400)
    messages.success(request, "手机号已更换，下次请用新手机号登录。")
    return redirect("privacy:my_data")


@login_required
@require_POST
def withdraw(request: AuthenticatedRequest) -> HttpResponse:
    consent = request.POST.get("consent", "")
    raw = request.POST.get("object_id", "")
    object_id = int(raw) if raw.isdigit() and len(raw) < 19 else None
    return run_service(
        request,
        lambda: consent_withdraw(
            user=request.user, consent=consent, object_id=object_id, ip=client_ip(request)
        ),
        success="已撤回授权，下一次推送或展示起生效。",
        done_url=reverse("privacy:my_data"),
    )


@login_required
@require_http_methods(["POST"])
def cancel(request: AuthenticatedRequest) -> HttpResponse:
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _page(request, cancel=form, status=400)
    try:
        account_cancel(
            user=request.user,
            cancellation=Cancellation(
                password=form.cleaned_data["password"],
                confirmation=form.cleaned_data["confirmation"],
            ),
            ip=client_ip(request),
        )
    except ServiceError as error:
        form.add_error(None, refusal_text(error))
        return _page(request, cancel=form, status=400)
    logout(request)
    messages.success(request, "您的账号已注销，个人信息已删除或匿名化。感谢您使用科技云。")
    return redirect("/")
