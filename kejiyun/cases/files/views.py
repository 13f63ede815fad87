"""A case's private files: the downloads (for everyone who may see the case, see
`selectors.case_for_files`) and the staff upload of an attachment from the case page.

A download is sent by `kejiyun.common.files.private_file_response` (stored content type,
`attachment` under the sender's file name, `nosniff`, `no-store`; X-Accel-Redirect in
production) and audited. A refused upload re-draws the case page with 400 and the reason on
the upload form; nothing is stored.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.accounts.models import User
from kejiyun.cases.files.selectors import case_attachment_for, case_for_files
from kejiyun.cases.files.services import case_file_download_record
from kejiyun.cases.workflow import forms as f
from kejiyun.cases.workflow import services
from kejiyun.cases.workflow.selectors import access_case
from kejiyun.cases.workflow.views import _detail_context, case_form_act
from kejiyun.common.files import download_name, private_file_response
from kejiyun.common.ratelimit import client_ip


@require_GET
def attachment_download(request: HttpRequest, case_id: int, attachment_id: int) -> HttpResponseBase:
    case = case_for_files(request.user, case_id)
    item = case_attachment_for(case, attachment_id)
    response = private_file_response(
        item.file,
        filename=download_name(item.original_name or item.name or item.file.name),
        content_type=item.content_type,
    )
    assert isinstance(request.user, User)  # case_for_files refuses anyone else
    case_file_download_record(
        case=case, user=request.user, file="attachment", file_id=item.pk, ip=client_ip(request)
    )
    return response


@require_GET
def evidence_download(request: HttpRequest, case_id: int) -> HttpResponseBase:
    case = case_for_files(request.user, case_id)
    response = private_file_response(
        case.evidence,
        filename=download_name(case.evidence_name or case.evidence.name or ""),
        content_type=case.evidence_type,
    )
    assert isinstance(request.user, User)
    case_file_download_record(case=case, user=request.user, file="evidence", ip=client_ip(request))
    return response


@staff_required
@require_POST
def attachment_upload(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    user = request.user
    case = access_case(user, case_id)
    form = f.AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        ctx = _detail_context(request, case, attachment_form=form)
        return render(request, "cases/detail.html", ctx, status=400)
    return case_form_act(
        request,
        case,
        lambda: services.case_attachment_add(
            case=case, actor=user, upload=form.cleaned_data["file"], name=form.cleaned_data["name"]
        ),
        "已上传附件。",
        form_name="attachment_form",
        form=form,
        field="file",
    )
