"""Staff pages for Excel templates, imports and exports."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.audit.limits import export_limited
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
def export_download(request: AuthenticatedRequest, name: str) -> HttpResponse:
    user = request.user
    # Bulk personal data leaves only at a human pace (docs/security.md item 21): 429.
    refused = export_limited(request)
    if refused is not None:
        return refused
    export = list_export(name=name, actor=user)
    return FileResponse(
        export.file, as_attachment=True, filename=export.filename, content_type=XLSX_TYPE
    )
