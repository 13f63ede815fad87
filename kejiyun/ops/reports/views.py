"""Pages for half-year work reports: the list, a report, the form the filer edits, and the
actions of both sides. Every POST redirects to a page (POST-redirect-GET) unless it was
refused, when the page is drawn again with the input kept and the refusal shown.

Reports are found through `access_report` (404 for anyone but the filing centre's staff
and the staff one level up); every write goes through the services.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.common.errors import ServiceError, Stale
from kejiyun.common.refusals import refusal_status, refusal_text
from kejiyun.ops.models import WorkReport
from kejiyun.ops.periods import Period
from kejiyun.ops.reports.forms import (
    CommentForm,
    NewReportForm,
    ReportForm,
    ReturnForm,
    VersionForm,
    half_filter,
)
from kejiyun.ops.reports.selectors import (
    ReportRole,
    access_report,
    centres_reviewed_by,
    filing_centre,
    half_of,
    report_detail,
    report_figure_rows,
    report_halves_open,
    report_halves_startable,
    report_last_return,
    report_lines,
    report_role,
    report_roster,
    reports_visible,
)
from kejiyun.ops.reports.services import (
    report_accept,
    report_comment,
    report_create,
    report_return,
    report_submit,
    report_update,
)
from kejiyun.ops.reports.transitions import FILER, REPORT_MOVES, REVIEWER

# How many half-years back the list's filter offers.
FILTER_HALVES = 6


def _apply_errors(form: Form, error: ValidationError | PermissionDenied) -> None:
    """Put a refusal on the form: each message keyed by a field under it, the rest above."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, refusal_text(error))


def _filter_halves(today: date) -> list[Period]:
    halves = [report_halves_open(today)[0]]
    while len(halves) < FILTER_HALVES:
        halves.append(halves[-1].previous())
    return halves


def _filtered(qs: QuerySet[WorkReport], half: Period | None, status: str) -> QuerySet[WorkReport]:
    if half is not None:
        qs = qs.filter(year=half.start.year, half=half_of(half))
    if status:
        qs = qs.filter(status=status)
    return qs


@staff_required
def report_list(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    half = half_filter(request.GET.get("half", ""))
    status = request.GET.get("status", "")
    if status not in WorkReport.Status.values:
        status = ""
    centre = filing_centre(user)
    visible = reports_visible(user)
    mine = (
        report_lines(_filtered(visible.filter(centre=centre), half, status), today)
        if centre
        else None
    )
    reviews = centres_reviewed_by(user).exists()
    below = (
        report_lines(_filtered(visible.exclude(centre=centre), half, status), today)
        if reviews
        else None
    )
    roster_half = half or report_halves_open(today)[1]
    roster = report_roster(user, roster_half, today) if reviews and not status else []
    can_start = report_halves_startable(centre, today)
    return render(
        request,
        "ops/reports/list.html",
        {
            "today": today,
            "centre": centre,
            "mine": mine,
            "below": below,
            "roster": roster,
            "roster_half": roster_half,
            "can_start": can_start,
            "half": half,
            "halves": _filter_halves(today),
            "status": status,
            "statuses": WorkReport.Status.choices,
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def report_new(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    centre = filing_centre(user)
    if centre is None:
        messages.error(request, "只有市级和县级服务中心的工作人员可以填报工作汇报。")
        return redirect("ops:reports:list")
    halves = report_halves_startable(centre, timezone.localdate())
    if not halves:
        messages.info(request, "本半年和上一个半年的工作汇报都已创建。")
        return redirect("ops:reports:list")
    form = NewReportForm(request.POST or None, halves=halves)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            year, half = form.half()
            try:
                report = report_create(actor=user, year=year, half=half)
            except (ServiceError, PermissionDenied) as error:
                _apply_errors(form, error)
                status = refusal_status(error)
            else:
                messages.success(request, "已创建工作汇报，运营数据已从统计汇总中读取。")
                return redirect("ops:reports:edit", report.pk)
    return render(request, "ops/reports/new.html", {"form": form}, status=status)


@staff_required
def report_page(request: AuthenticatedRequest, report_id: int) -> HttpResponse:
    user = request.user
    report = report_detail(access_report(user, report_id))
    role = report_role(user, report)
    by = FILER if role == ReportRole.FILER else REVIEWER
    moves = {m.to for m in REPORT_MOVES.moves_from(report.status, by=by)}
    return render(
        request,
        "ops/reports/detail.html",
        {
            "report": report,
            "role": role,
            "overdue": report.is_overdue(timezone.localdate()),
            "rows": report_figure_rows(report),
            "can_edit": role == ReportRole.FILER and report.is_editable,
            "can_submit": WorkReport.Status.SUBMITTED in moves,
            "can_accept": WorkReport.Status.ACCEPTED in moves,
            "can_return": WorkReport.Status.RETURNED in moves,
            "can_comment": role == ReportRole.REVIEWER
            and report.status in (WorkReport.Status.SUBMITTED, WorkReport.Status.RETURNED),
            "return_form": ReturnForm(initial={"version": report.version}),
            "comment_form": CommentForm(),
            "last_return": report_last_return(report),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def report_edit(request: AuthenticatedRequest, report_id: int) -> HttpResponse:
    user = request.user
    report = access_report(user, report_id)
    refused = report_role(user, report) != ReportRole.FILER or not report.is_editable
    if refused and request.method == "GET":
        messages.error(
            request,
            "工作汇报已通过审阅，不能再修改。"
            if report.is_final
            else "只有本中心工作人员可以修改草稿或退回修改的工作汇报。",
        )
        return redirect("ops:reports:detail", report.pk)
    status = 200
    if request.method == "POST":
        form = ReportForm(request.POST)
        status = 400
        if form.is_valid():
            submit = "submit" in request.POST
            try:
                report_update(
                    report=report,
                    actor=user,
                    version=form.cleaned_data["version"],
                    sections=form.sections(),
                    submit=submit,
                )
            except (ServiceError, PermissionDenied) as error:
                if isinstance(error, Stale):
                    # Someone changed it meanwhile: keep what this person typed, with the
                    # version now current, so a second save is a conscious overwrite.
                    form = _with_current_version(request, report)
                _apply_errors(form, error)
                status = refusal_status(error)
            else:
                done = "工作汇报已提交，等待上级审阅。" if submit else "已保存。"
                messages.success(request, done)
                return redirect("ops:reports:detail", report.pk)
    else:
        form = ReportForm(initial=ReportForm.initial_from(report))
    return render(
        request,
        "ops/reports/form.html",
        {
            "form": form,
            "report": report,
            "rows": report_figure_rows(report),
            "last_return": report_last_return(report),
            "comments": report_detail(report).comments.all(),
        },
        status=status,
    )


def _with_current_version(request: AuthenticatedRequest, report: WorkReport) -> ReportForm:
    data = request.POST.copy()
    current = WorkReport.objects.filter(pk=report.pk).values_list("version", flat=True).first()
    data["version"] = str(current or report.version)
    form = ReportForm(data)
    form.is_valid()
    return form


def _refused(request: AuthenticatedRequest, report: WorkReport, error: Exception) -> HttpResponse:
    assert isinstance(error, ValidationError | PermissionDenied)
    messages.error(request, refusal_text(error))
    return redirect("ops:reports:detail", report.pk)


def _form_refused(request: AuthenticatedRequest, report: WorkReport, form: Form) -> HttpResponse:
    for errors in form.errors.values():
        for text in errors:
            messages.error(request, str(text))
    return redirect("ops:reports:detail", report.pk)


@staff_required
@require_POST
def report_submit_view(request: AuthenticatedRequest, report_id: int) -> HttpResponse:
    report = access_report(request.user, report_id)
    form = VersionForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, report, form)
    try:
        report_submit(report=report, actor=request.user, version=form.cleaned_data["version"])
    except (ServiceError, PermissionDenied) as error:
        return _refused(request, report, error)
    messages.success(request, "工作汇报已提交，等待上级审阅。")
    return redirect("ops:reports:detail", report.pk)


@staff_required
@require_POST
def report_accept_view(request: AuthenticatedRequest, report_id: int) -> HttpResponse:
    report = access_report(request.user, report_id)
    form = VersionForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, report, form)
    try:
        report_accept(report=report, actor=request.user, version=form.cleaned_data["version"])
    except (ServiceError, PermissionDenied) as error:
        return _refused(request, report, error)
    messages.success(request, "工作汇报已通过审阅。")
    return redirect("ops:reports:detail", report.pk)


@staff_required
@require_POST
def report_return_view(request: AuthenticatedRequest, report_id: int) -> HttpResponse:
    report = access_report(request.user, report_id)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, report, form)
    try:
        report_return(
            report=report,
            actor=request.user,
            version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
        )
    except (ServiceError, PermissionDenied) as error:
        return _refused(request, report, error)
    messages.success(request, "已退回修改。")
    return redirect("ops:reports:detail", report.pk)


@staff_required
@require_POST
def report_comment_view(request: AuthenticatedRequest, report_id: int) -> HttpResponse:
    report = access_report(request.user, report_id)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, report, form)
    try:
        report_comment(report=report, actor=request.user, body=form.cleaned_data["body"])
    except (ServiceError, PermissionDenied) as error:
        return _refused(request, report, error)
    messages.success(request, "已添加批注。")
    return redirect("ops:reports:detail", report.pk)
