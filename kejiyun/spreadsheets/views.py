"""Staff pages for Excel templates, imports and exports."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.audit.limits import export_limited
from kejiyun.background.services import run_start
from kejiyun.common.errors import NotPermitted, ServiceError
from kejiyun.spreadsheets.approvals import (
    APPROVE_PERMISSION,
    access_export_request,
    export_request_check,
    export_request_create,
    export_request_decide,
    export_request_download,
    export_requests_for,
    may_decide,
)
from kejiyun.spreadsheets.background import EXPORT_KIND, IMPORT_KIND, import_key
from kejiyun.spreadsheets.exporters import EXPORT_LISTS, get_export_list
from kejiyun.spreadsheets.forms import ConfirmForm, UploadForm
from kejiyun.spreadsheets.importers import (
    EXISTS_MESSAGE,
    IMPORTERS,
    get_importer,
    import_batch_report,
)
from kejiyun.spreadsheets.selectors import access_import_batch
from kejiyun.spreadsheets.services import import_batch_check, import_batch_create, list_export
from kejiyun.spreadsheets.workbooks import SheetError, template_workbook

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The same large export asked for again within this many seconds shows the same run.
EXPORT_FRESH_SECONDS = 120


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
    """Start the import as a background run and show its progress (one run per batch and
    choice: confirming twice shows the same run)."""
    user = request.user
    batch = access_import_batch(user, batch_id)
    importer = get_importer(batch.kind)
    form = ConfirmForm(request.POST)
    form.is_valid()
    valid_rows_only = bool(form.cleaned_data.get("valid_rows_only"))
    try:
        import_batch_check(batch=batch, actor=user)
    except NotPermitted:
        raise
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("spreadsheets:batch", batch_id=batch.pk)
    run = run_start(
        kind=IMPORT_KIND,
        owner=user,
        title=_("导入%(title)s") % {"title": importer.title},
        key=f"{import_key(batch.pk)}:{int(valid_rows_only)}",
        params={"batch": batch.pk, "valid_rows_only": valid_rows_only},
        back_url=reverse("spreadsheets:batch", kwargs={"batch_id": batch.pk}),
    )
    return redirect("background:run", run_id=run.pk)


@staff_required
def export_download(request: AuthenticatedRequest, name: str) -> HttpResponseBase:
    user = request.user
    # Bulk personal data leaves only at a human pace (docs/security.md item 21): 429.
    refused = export_limited(request)
    if refused is not None:
        return refused
    # One count decides both: personal data above the bulk threshold needs a second
    # person's approval; a large list is written in the background.
    listed = get_export_list(name)
    rows = listed.queryset(user=user).count()
    if listed.personal and rows > settings.BULK_EXPORT_APPROVAL_ROWS:
        pending = export_request_create(name=name, actor=user, row_count=rows)
        messages.info(
            request,
            f"该导出含个人信息，共{rows}行，超过{settings.BULK_EXPORT_APPROVAL_ROWS}行，"
            "已提交审批。获批后请在本页下载（限一次）。",
        )
        return redirect("spreadsheets:export_request", request_id=pending.pk)
    if rows > settings.BACKGROUND_EXPORT_ROWS:
        # The same request again within two minutes answers with the same run.
        run = run_start(
            kind=EXPORT_KIND,
            owner=user,
            title=_("导出%(title)s") % {"title": listed.title},
            key=f"{EXPORT_KIND}:{user.pk}:{listed.name}",
            params={"list": listed.name},
            back_url=reverse("spreadsheets:index"),
            fresh_seconds=EXPORT_FRESH_SECONDS,
        )
        return redirect("background:run", run_id=run.pk)
    export = list_export(name=name, actor=user)
    return FileResponse(
        export.file, as_attachment=True, filename=export.filename, content_type=XLSX_TYPE
    )


# --- Bulk exports of personal data waiting for a second person ------------------------------


def _list_title(name: str) -> str:
    return EXPORT_LISTS[name].title if name in EXPORT_LISTS else name


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
            "title": _list_title(pending.list_name),
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
    if pending.row_count > settings.BACKGROUND_EXPORT_ROWS:
        try:
            export_request_check(request=pending, actor=request.user)
        except NotPermitted:
            raise
        except ServiceError as exc:
            messages.error(request, exc.messages[0])
            return redirect("spreadsheets:export_request", request_id=pending.pk)
        run = run_start(
            kind=EXPORT_KIND,
            owner=request.user,
            title=_("导出%(title)s（已批准）") % {"title": _list_title(pending.list_name)},
            key=f"{EXPORT_KIND}:request:{pending.pk}",
            params={"request": pending.pk},
            back_url=reverse("spreadsheets:export_request", kwargs={"request_id": pending.pk}),
        )
        return redirect("background:run", run_id=run.pk)
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
