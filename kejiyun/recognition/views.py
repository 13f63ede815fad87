"""Recognition pages (典型选树): the public call, notice (公示) and result of each batch; the
applicant's applications; the county and city queues; the province's batch management.

Applications are found through `access_application` (404 for anyone but the applicant and
staff whose part of the chain covers it), batches and objections for management through
`access_batch` / `access_objection` (404 for anyone but province managers). Every write goes
through the services; a refused write changes nothing and re-draws the page (409 for a
stale version) or is flashed.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.accounts.models import User
from kejiyun.common.errors import ServiceError
from kejiyun.common.files import download_name, private_file_response
from kejiyun.common.masking import mask_personal_text
from kejiyun.common.ratelimit import client_ip, rate_limit_exceeded
from kejiyun.common.refusals import refusal_status, refusal_text
from kejiyun.recognition.access import application_roles, is_province_manager
from kejiyun.recognition.eligibility import (
    Subject,
    application_reasons,
    batch_reasons,
    subjects_offered,
)
from kejiyun.recognition.forms import (
    AnswerForm,
    ApplicationEditForm,
    AttachmentForm,
    BatchForm,
    CriteriaForm,
    MoveForm,
    NewApplicationForm,
    ObjectionForm,
    VersionForm,
)
from kejiyun.recognition.models import Application, Batch, Objection
from kejiyun.recognition.programmes import answered_questions
from kejiyun.recognition.selectors import (
    access_application,
    access_batch,
    access_objection,
    application_for_files,
    applications_of,
    attachment_of,
    batch_objections,
    batch_public,
    batch_status_counts,
    batches_managed,
    batches_open,
    batches_public,
    notice_applications,
    result_applications,
    staff_queue,
    subject_name,
    timeline,
)
from kejiyun.recognition.services import (
    application_attachment_add,
    application_attachment_remove,
    application_create,
    application_file_download_record,
    application_move,
    application_update,
    batch_create,
    batch_criteria_problems,
    batch_criteria_replace,
    batch_finalise,
    batch_notice_start,
    batch_transition,
    batch_update,
    objection_answer,
    objection_contact_view_record,
    objection_file,
)
from kejiyun.recognition.transitions import APPLICATION_MOVES, BATCH_MOVES

Status = Application.Status
# Objections one address may file per hour.
OBJECTION_LIMIT = 5
OBJECTION_WINDOW = 60 * 60
Refusal = ServiceError | PermissionDenied
REFUSALS = (ServiceError, PermissionDenied)


def _apply_errors(form: Form, error: ValidationError | PermissionDenied) -> None:
    """Put a refusal on the form: messages keyed by a field under it, the rest above."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, refusal_text(error))


def _flash_form(request: HttpRequest, form: Form) -> None:
    for errors in form.errors.values():
        for text in errors:
            messages.error(request, str(text))


def masked_contact(contact: str) -> str:
    """A contact as staff see it before opening the objection: mobiles, ID numbers and
    e-mail addresses masked, anything else but its first and last characters."""
    masked = mask_personal_text(contact)
    if masked != contact:
        return masked
    if len(contact) <= 2:
        return "*" * len(contact)
    return f"{contact[0]}{'*' * (len(contact) - 2)}{contact[-1]}"


# --- Public pages -----------------------------------------------------------------------


@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "recognition/batch_list.html",
        {
            "batches": batches_public(),
            "manager": isinstance(user, User) and is_province_manager(user),
            "staff": isinstance(user, User) and user.is_centre_staff,
        },
    )


@require_GET
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = batch_public(batch_id)
    return render(
        request,
        "recognition/batch_detail.html",
        {
            "batch": batch,
            "criteria": list(batch.criteria.all()),
            "taking": not batch_reasons(batch, timezone.localdate()),
        },
    )


def _notice_rows(batch: Batch) -> list[tuple[Application, str]]:
    return [(a, subject_name(a)) for a in notice_applications(batch)]


def _notice_open(batch: Batch) -> bool:
    now = timezone.now()
    return (
        batch.status == Batch.Status.NOTICE
        and batch.notice_ends_at is not None
        and now < batch.notice_ends_at
    )


@require_http_methods(["GET", "POST"])
def batch_notice(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The public notice (公示): the proposed result and a form to object to any of it."""
    batch = batch_public(batch_id)
    if batch.notice_starts_at is None:
        raise Http404("该批次尚未公示")
    form = ObjectionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        key = f"recognition-objection:{client_ip(request) or 'unknown'}"
        if rate_limit_exceeded(key=key, limit=OBJECTION_LIMIT, window_seconds=OBJECTION_WINDOW):
            form.is_valid()
            form.add_error(None, "提交过于频繁，请稍后再试。")
            status = 429
        elif form.is_valid():
            application = batch.applications.filter(pk=form.cleaned_data["application"]).first()
            if application is None:
                form.add_error(None, "请选择公示名单中的申报。")
            else:
                user = request.user if isinstance(request.user, User) else None
                try:
                    objection_file(application=application, data=form.objection_input(), user=user)
                except ServiceError as error:
                    _apply_errors(form, error)
                else:
                    messages.success(request, "已收到您的异议，我们将核实后答复。")
                    return redirect("recognition:notice", batch.pk)
    return render(
        request,
        "recognition/notice.html",
        {"batch": batch, "rows": _notice_rows(batch), "form": form, "open": _notice_open(batch)},
        status=status,
    )


@require_GET
def batch_results(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = batch_public(batch_id)
    if batch.status != Batch.Status.FINAL:
        raise Http404("该批次尚未发布结果")
    rows = [(a, subject_name(a)) for a in result_applications(batch)]
    return render(request, "recognition/results.html", {"batch": batch, "rows": rows})


# --- The applicant ----------------------------------------------------------------------


@login_required
@require_GET
def mine(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "recognition/mine.html",
        {
            "applications": applications_of(request.user).order_by("-created_at", "-id"),
            "open_batches": batches_open(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: AuthenticatedRequest, batch_id: int) -> HttpResponse:
    """A new application to an open batch: the eligible subjects only, with the reasons the
    others may not apply."""
    user = request.user
    batch = batch_public(batch_id)
    today = timezone.localdate()
    closed = batch_reasons(batch, today)
    eligible: list[tuple[Subject, list[str]]] = []
    refused: list[tuple[Subject, list[str]]] = []
    if not closed:
        for subject in subjects_offered(batch=batch, user=user):
            reasons = application_reasons(batch=batch, subject=subject, user=user, today=today)
            (refused if reasons else eligible).append((subject, reasons))
    form = NewApplicationForm(
        request.POST or None, programme=batch.programme, subjects=[s for s, _ in eligible]
    )
    status = 200
    if request.method == "POST":
        status = 400
        if closed:
            form.is_valid()
            form.add_error(None, closed[0])
        elif form.is_valid():
            try:
                application = application_create(
                    batch=batch,
                    actor=user,
                    subject=form.chosen_subject(),
                    data=form.application_input(),
                    ip=client_ip(request),
                )
            except REFUSALS as error:
                _apply_errors(form, error)
                status = refusal_status(error)
            else:
                messages.success(request, "已保存申报草稿，请上传附件后提交。")
                return redirect("recognition:application", application.pk)
    return render(
        request,
        "recognition/apply.html",
        {"batch": batch, "form": form, "closed": closed, "eligible": eligible, "refused": refused},
        status=status,
    )


def _detail_context(
    request: AuthenticatedRequest,
    application: Application,
    **extra: object,
) -> dict[str, object]:
    user = request.user
    roles = application_roles(user, application)
    is_applicant = application.applicant_id == user.pk
    moves = [
        m
        for m in APPLICATION_MOVES.moves_from(application.status)
        if m.by in roles and m.by != "province"
    ]
    questions = answered_questions(application.batch.programme, application.answers)
    staff_view = not is_applicant or user.is_centre_staff
    return {
        "application": application,
        "subject": subject_name(application),
        "questions": questions,
        "is_applicant": is_applicant,
        "editable": is_applicant and application.status in (Status.DRAFT, Status.RETURNED),
        "moves": moves,
        "move_form": MoveForm(initial={"version": application.version}),
        "attachment_form": AttachmentForm(),
        "attachments": list(application.attachments.all()),
        "events": timeline(application, for_applicant=not staff_view),
        "named_people": application.named_people.splitlines(),
        **extra,
    }


@login_required
@require_GET
def application_detail(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    application = access_application(request.user, application_id)
    return render(
        request, "recognition/application_detail.html", _detail_context(request, application)
    )


def _redraw(
    request: AuthenticatedRequest, application_id: int, error: Refusal, **extra: object
) -> HttpResponse:
    application = access_application(request.user, application_id)
    messages.error(request, refusal_text(error))
    return render(
        request,
        "recognition/application_detail.html",
        _detail_context(request, application, **extra),
        status=refusal_status(error),
    )


@login_required
@require_http_methods(["GET", "POST"])
def application_edit(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    user = request.user
    application = access_application(user, application_id)
    programme = application.batch.programme
    editable = application.applicant_id == user.pk and application.status in (
        Status.DRAFT,
        Status.RETURNED,
    )
    if not editable and request.method == "GET":
        messages.error(request, "只有申报人可以修改草稿或退回修改的申报。")
        return redirect("recognition:application", application.pk)
    status = 200
    if request.method == "POST":
        form = ApplicationEditForm(request.POST, programme=programme)
        status = 400
        if form.is_valid():
            try:
                application_update(
                    application=application,
                    actor=user,
                    data=form.application_input(),
                    version=form.cleaned_data["version"],
                )
            except REFUSALS as error:
                _apply_errors(form, error)
                status = refusal_status(error)
            else:
                messages.success(request, "已保存。")
                return redirect("recognition:application", application.pk)
    else:
        form = ApplicationEditForm(
            initial={
                **ApplicationEditForm.initial_from(application),
                "version": application.version,
            },
            programme=programme,
        )
    return render(
        request,
        "recognition/application_form.html",
        {"application": application, "form": form},
        status=status,
    )


@login_required
@require_POST
def application_move_view(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    """One move of the chain: submit, withdraw, recommend, endorse or return."""
    user = request.user
    application = access_application(user, application_id)
    form = MoveForm(request.POST)
    if not form.is_valid():
        _flash_form(request, form)
        return redirect("recognition:application", application.pk)
    to = form.cleaned_data["to"]
    try:
        application_move(
            application=application,
            to=to,
            actor=user,
            version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
            ip=client_ip(request),
        )
    except REFUSALS as error:
        return _redraw(request, application.pk, error)
    done = {
        Status.SUBMITTED: "已提交，等待区县服务中心推荐。",
        Status.WITHDRAWN: "已撤回申报。",
        Status.RECOMMENDED: "已推荐，等待市州审核。",
        Status.ENDORSED: "已审核通过，报送省级评审。",
        Status.RETURNED: "已退回申报人修改。",
    }.get(to, "已办理。")
    messages.success(request, done)
    if user.pk != application.applicant_id and user.is_centre_staff:
        return redirect("recognition:queue")
    return redirect("recognition:application", application.pk)


@login_required
@require_POST
def attachment_upload(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    user = request.user
    application = access_application(user, application_id)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(
            request,
            "recognition/application_detail.html",
            _detail_context(request, application, attachment_form=form),
            status=400,
        )
    try:
        application_attachment_add(
            application=application,
            actor=user,
            upload=form.cleaned_data["file"],
            name=form.cleaned_data["name"],
        )
    except REFUSALS as error:
        form.add_error("file", refusal_text(error))
        return render(
            request,
            "recognition/application_detail.html",
            _detail_context(request, application, attachment_form=form),
            status=refusal_status(error),
        )
    messages.success(request, "已上传附件。")
    return redirect("recognition:application", application.pk)


@login_required
@require_POST
def attachment_delete(
    request: AuthenticatedRequest, application_id: int, attachment_id: int
) -> HttpResponse:
    application = access_application(request.user, application_id)
    attachment = attachment_of(application, attachment_id)
    try:
        application_attachment_remove(attachment=attachment, actor=request.user)
    except REFUSALS as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, "已删除附件。")
    return redirect("recognition:application", application.pk)


@require_GET
def attachment_download(
    request: HttpRequest, application_id: int, attachment_id: int
) -> HttpResponseBase:
    """An attachment, for the applicant, staff whose part of the chain covers the
    application and reviewers assigned to it; 404 for anyone else. Audited."""
    application = application_for_files(request.user, application_id)
    item = attachment_of(application, attachment_id)
    response = private_file_response(
        item.file,
        filename=download_name(item.original_name or item.name or item.file.name),
        content_type=item.content_type,
    )
    assert isinstance(request.user, User)  # application_for_files refuses anyone else
    application_file_download_record(attachment=item, user=request.user, ip=client_ip(request))
    return response


# --- County and city staff --------------------------------------------------------------


@staff_required
@require_GET
def queue(request: AuthenticatedRequest) -> HttpResponse:
    """The applications waiting for this centre: a county's to recommend, a city's to
    endorse."""
    rows = [(a, subject_name(a)) for a in staff_queue(request.user)]
    return render(
        request,
        "recognition/queue.html",
        {"rows": rows, "manager": is_province_manager(request.user)},
    )


# --- Province managers ------------------------------------------------------------------


def _require_manager(request: AuthenticatedRequest) -> None:
    if not is_province_manager(request.user):
        raise Http404("页面不存在")


@staff_required
@require_GET
def manage(request: AuthenticatedRequest) -> HttpResponse:
    _require_manager(request)
    return render(request, "recognition/manage.html", {"batches": batches_managed()})


@staff_required
@require_http_methods(["GET", "POST"])
def batch_new(request: AuthenticatedRequest) -> HttpResponse:
    _require_manager(request)
    form = BatchForm(request.POST or None, initial={"year": timezone.localdate().year})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                batch = batch_create(
                    actor=request.user, data=form.batch_input(), ip=client_ip(request)
                )
            except REFUSALS as error:
                _apply_errors(form, error)
                status = refusal_status(error)
            else:
                messages.success(request, "已创建批次，请设置评审指标。")
                return redirect("recognition:batch_criteria", batch.pk)
    return render(
        request, "recognition/batch_form.html", {"form": form, "batch": None}, status=status
    )


@staff_required
@require_http_methods(["GET", "POST"])
def batch_edit(request: AuthenticatedRequest, batch_id: int) -> HttpResponse:
    batch = access_batch(request.user, batch_id)
    status = 200
    if request.method == "POST":
        form = BatchForm(request.POST)
        version = VersionForm(request.POST)
        status = 400
        if form.is_valid() and version.is_valid():
            try:
                batch_update(
                    batch=batch,
                    actor=request.user,
                    data=form.batch_input(),
                    version=version.cleaned_data["version"],
                    ip=client_ip(request),
                )
            except REFUSALS as error:
                _apply_errors(form, error)
                status = refusal_status(error)
            else:
                messages.success(request, "已保存批次设置。")
                return redirect("recognition:batch_manage", batch.pk)
        elif not version.is_valid():
            form.add_error(None, "页面已过期，请刷新后再试。")
    else:
        form = BatchForm(initial=BatchForm.initial_from(batch))
    return render(
        request, "recognition/batch_form.html", {"form": form, "batch": batch}, status=status
    )


@staff_required
@require_http_methods(["GET", "POST"])
def batch_criteria(request: AuthenticatedRequest, batch_id: int) -> HttpResponse:
    """The criteria and their weights (sum 100); locked (409) once the batch is open."""
    batch = access_batch(request.user, batch_id)
    locked = batch.status != Batch.Status.DRAFT
    status = 200
    if request.method == "POST":
        form = CriteriaForm(request.POST)
        status = 400
        if locked:
            form.is_valid()
            form.add_error(None, "批次已开始申报，评审指标已公布，不能再修改。")
            status = 409
        elif form.is_valid():
            try:
                batch_criteria_replace(
                    batch=batch,
                    actor=request.user,
                    criteria=form.criteria,
                    version=form.cleaned_data["version"],
                    ip=client_ip(request),
                )
            except REFUSALS as error:
                _apply_errors(form, error)
                status = refusal_status(error)
            else:
                messages.success(request, "已保存评审指标。")
                return redirect("recognition:batch_manage", batch.pk)
    else:
        form = CriteriaForm(initial=CriteriaForm.initial_from(batch))
    return render(
        request,
        "recognition/criteria_form.html",
        {"form": form, "batch": batch, "locked": locked},
        status=status,
    )


def _manage_context(batch: Batch) -> dict[str, object]:
    objections = list(batch_objections(batch))
    return {
        "batch": batch,
        "counts": batch_status_counts(batch),
        "criteria": list(batch.criteria.all()),
        "criteria_problems": batch_criteria_problems(batch),
        "moves": [m.to for m in BATCH_MOVES.moves_from(batch.status)],
        "objections": [(o, masked_contact(o.contact)) for o in objections],
        "open_objections": sum(1 for o in objections if o.answered_at is None),
        "now": timezone.now(),
    }


@staff_required
@require_GET
def batch_manage(request: AuthenticatedRequest, batch_id: int) -> HttpResponse:
    batch = access_batch(request.user, batch_id)
    return render(request, "recognition/batch_manage.html", _manage_context(batch))


def _batch_act(
    request: AuthenticatedRequest, batch: Batch, action: Callable[[int], object], success: str
) -> HttpResponse:
    form = VersionForm(request.POST)
    if not form.is_valid():
        _flash_form(request, form)
        return redirect("recognition:batch_manage", batch.pk)
    try:
        action(form.cleaned_data["version"])
    except REFUSALS as error:
        messages.error(request, refusal_text(error))
        batch.refresh_from_db()
        return render(
            request,
            "recognition/batch_manage.html",
            _manage_context(batch),
            status=refusal_status(error),
        )
    messages.success(request, success)
    return redirect("recognition:batch_manage", batch.pk)


@staff_required
@require_POST
def batch_move(request: AuthenticatedRequest, batch_id: int) -> HttpResponse:
    """Open a draft batch or close an open one (to review)."""
    batch = access_batch(request.user, batch_id)
    to = request.POST.get("to", "")
    if to not in (Batch.Status.OPEN, Batch.Status.REVIEW):
        messages.error(request, "不支持的操作。")
        return redirect("recognition:batch_manage", batch.pk)
    return _batch_act(
        request,
        batch,
        lambda v: batch_transition(
            batch=batch, to=to, actor=request.user, version=v, ip=client_ip(request)
        ),
        "已开始申报。" if to == Batch.Status.OPEN else "已截止申报，进入评审。",
    )


@staff_required
@require_POST
def batch_notice_start_view(request: AuthenticatedRequest, batch_id: int) -> HttpResponse:
    batch = access_batch(request.user, batch_id)
    return _batch_act(
        request,
        batch,
        lambda v: batch_notice_start(
            batch=batch, actor=request.user, version=v, ip=client_ip(request)
        ),
        "拟认定名单已公示。",
    )


@staff_required
@require_POST
def batch_finalise_view(request: AuthenticatedRequest, batch_id: int) -> HttpResponse:
    batch = access_batch(request.user, batch_id)
    return _batch_act(
        request,
        batch,
        lambda v: batch_finalise(batch=batch, actor=request.user, version=v, ip=client_ip(request)),
        "已发布认定结果。",
    )


@staff_required
@require_http_methods(["GET", "POST"])
def objection_page(request: AuthenticatedRequest, objection_id: int) -> HttpResponse:
    """One objection, with its contact in full (the answering staff opened it), and the
    answer form while it is unanswered."""
    objection: Objection = access_objection(request.user, objection_id)
    form = AnswerForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                objection_answer(
                    objection=objection,
                    actor=request.user,
                    answer=form.cleaned_data["answer"],
                    upheld=form.cleaned_data["upheld"],
                    ip=client_ip(request),
                )
            except REFUSALS as error:
                _apply_errors(form, error)
                status = refusal_status(error)
            else:
                messages.success(request, "已答复异议。")
                return redirect("recognition:batch_manage", objection.application.batch_id)
    objection_contact_view_record(objection=objection, actor=request.user, ip=client_ip(request))
    return render(
        request,
        "recognition/objection.html",
        {
            "objection": objection,
            "application": objection.application,
            "subject": subject_name(objection.application),
            "form": form,
        },
        status=status,
    )
