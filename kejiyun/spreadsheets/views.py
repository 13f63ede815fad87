"""Staff pages for Excel templates, imports and exports."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.audit.limits import export_limited
from kejiyun.common.errors import NotPermitted, ServiceError
from kejiyun.spreadsheets.approvals import (
    APPROVE_PERMISSION,
    access_export_request,
    export_needs_approval,
    export_request_create,
    export_request_decide,
    export_request_download,
    export_requests_for,
    may_decide,
)
from kejiyun.spreadsheets.exporters import EXPORT_LISTS
from kejiyun.spreadsheets.forms import ConfirmForm, UploadForm
from kejiyun.spreadsheets.importers import (
    EXISTS_MESSAGE,
    IMPORTERS,
    get_importer,
    import_batch_report,
)
from kejiyun.spreadsheets.selectors import access_import_batch
from kejiyun.spreadsheets.services import import_batch_apply, import_batch_create, list_export
from kejiyun.spreadsheets.workbooks import SheetError, template_workbook

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@staff_required
def index(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "spreadsheets/index.html",
        {"importers": IMPORTERS.values(), "exports": EXPORT_LISTS.values()},
    )


@staff_required
def template_download(request: AuthenticatedRequest, kind: str) -> HttpResponse:
    importer = get_importer(kind)
    data = template_workbook(sheet_title=importer.sheet_title, columns=importer.columns)
    disposition = content_disposition_header(
        as_attachment=True, filename=f"{importer.title}导入模板.xlsx"
    )
    assert disposition is not None  # always set for an attachment
    return HttpResponse(data, content_type=XLSX_TYPE, headers={"Content-Disposition": disposition})


@staff_required
def import_upload(request: AuthenticatedRequest, kind: str) -> HttpResponse:
    user = request.user
    importer = get_importer(kind)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = import_batch_create(
                kind=importer.kind,
                actor=user,
                data=form.cleaned_data["file"],
                filename=form.filename,
            )
        except SheetError as exc:
            form.add_error("file", exc.messages[0])
        else:
            return redirect("spreadsheets:batch", batch_id=batch.pk)
    # A refused file answers 400 with the reason on the form; nothing was stored.
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "spreadsheets/import_upload.html",
        {"importer": importer, "form": form},
        status=status,
    )


@staff_required
def import_report(request: AuthenticatedRequest, batch_id: int) -> HttpResponse:
    user = request.user
    batch = access_import_batch(user, batch_id)
    importer = get_importer(batch.kind)
    report = None if batch.is_applied else import_batch_report(batch=batch, user=user)
    return render(
        request,
        "spreadsheets/import_report.html",
        {
            "batch": batch,
            "importer": importer,
            "report": report,
            "exists_message": EXISTS_MESSAGE,
            "expired": batch.is_expired(),
        },
    )


@staff_required
@require_POST
def import_confirm(request: AuthenticatedRequest, batch_id: int) -> HttpResponse:
    user = request.user
    batch = access_import_batch(user, batch_id)
    form = ConfirmForm(request.POST)
    form.is_valid()
    valid_rows_only = bool(form.cleaned_data.get("valid_rows_only"))
    try:
        result = import_batch_apply(batch=batch, actor=user, valid_rows_only=valid_rows_only)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(
            request, f"导入完成：新增{result.created}条，已存在跳过{result.skipped}条。"
        )
    return redirect("spreadsheets:batch", batch_id=batch.pk)


@staff_required
def export_download(request: AuthenticatedRequest, name: str) -> HttpResponseBase:
    user = request.user
    # Bulk personal data leaves only at a human pace (docs/security.md item 21): 429.
    refused = export_limited(request)
    if refused is not None:
        return refused
    # Personal data above the bulk threshold needs a second person's approval.
    rows = export_needs_approval(name=name, actor=user)
    if rows is not None:
        pending = export_request_create(name=name, actor=user, row_count=rows)
        messages.info(
            request,
            f"该导出含个人信息，共{rows}行，超过{settings.BULK_EXPORT_APPROVAL_ROWS}行，"
            "已提交审批。获批后请在本页下载（限一次）。",
        )
        return redirect("spreadsheets:export_request", request_id=pending.pk)
    export = list_export(name=name, actor=user)
    return FileResponse(
        export.file, as_attachment=True, filename=export.filename, content_type=XLSX_TYPE
    )


# --- Bulk exports of personal data waiting for a second person ------------------------------


@staff_required
def export_requests(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    page = Paginator(export_requests_for(user), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "spreadsheets/export_requests.html",
        {"page": page, "may_approve": user.has_perm(APPROVE_PERMISSION)},
    )


@staff_required
def export_request_detail(request: AuthenticatedRequest, request_id: int) -> HttpResponse:
    pending = access_export_request(request.user, request_id)
    return render(
        request,
        "spreadsheets/export_request.html",
        {
            "item": pending,
            "title": EXPORT_LISTS[pending.list_name].title
            if pending.list_name in EXPORT_LISTS
            else pending.list_name,
            "may_decide": pending.requester_id != request.user.pk
            and may_decide(request.user, pending),
            "is_requester": pending.requester_id == request.user.pk,
        },
    )


@require_POST
@staff_required
def export_request_decision(request: AuthenticatedRequest, request_id: int) -> HttpResponse:
    pending = access_export_request(request.user, request_id)
    decision = request.POST.get("decision", "")
    if decision not in ("approve", "refuse"):
        messages.error(request, "请选择批准或驳回。")
        return redirect("spreadsheets:export_request", request_id=pending.pk)
    try:
        export_request_decide(
            request=pending,
            actor=request.user,
            approve=decision == "approve",
            reason=request.POST.get("reason", ""),
        )
    except NotPermitted:
        raise
    except ServiceError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(
            request, "已批准，申请人可下载一次。" if decision == "approve" else "已驳回。"
        )
    return redirect("spreadsheets:export_request", request_id=pending.pk)


@staff_required
def export_request_file(request: AuthenticatedRequest, request_id: int) -> HttpResponseBase:
    pending = access_export_request(request.user, request_id)
    refused = export_limited(request)
    if refused is not None:
        return refused
    try:
        export = export_request_download(request=pending, actor=request.user)
    except NotPermitted:
        raise
    except ServiceError as exc:
        messages.error(request, exc.messages[0])
        return redirect("spreadsheets:export_request", request_id=pending.pk)
    return FileResponse(
        export.file, as_attachment=True, filename=export.filename, content_type=XLSX_TYPE
    )
