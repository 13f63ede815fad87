"""Review pages: the reviewer pool, assignment, scoring and the panel chair's view.

Every object comes from an access helper in `selectors.py` (404 outside what the user may
see); every write is a service that refuses with a Chinese message and changes nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, reviewer_required, staff_required
from kejiyun.common.errors import ServiceError
from kejiyun.common.masking import mask_mobile
from kejiyun.common.ratelimit import client_ip
from kejiyun.common.refusals import refusal_status, refusal_text, run_service
from kejiyun.recognition.access import is_province_manager
from kejiyun.recognition.models import ReviewAssignment
from kejiyun.recognition.programmes import answered_questions
from kejiyun.recognition.review.forms import ReviewerForm, ScoreForm
from kejiyun.recognition.review.selectors import (
    NOT_FOUND,
    access_batch_for_manager,
    access_batch_for_panel,
    access_reviewer_profile,
    assignment_for_reviewer,
    assignments_of_reviewer,
    batch_applications_with_assignments,
    batch_criteria,
    criterion_means,
    panel_rows,
    reviewer_pool,
    unsubmitted_assignments,
)
from kejiyun.recognition.review.services import (
    review_assign,
    review_deadline_passed,
    review_score_save,
    review_scoring_close,
    reviewer_profile_create,
    reviewer_profile_deactivate,
    reviewer_profile_update,
)


def _manager_only(request: AuthenticatedRequest) -> None:
    if not is_province_manager(request.user):
        raise Http404(NOT_FOUND)


# --- The pool -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required
def pool(request: AuthenticatedRequest) -> HttpResponse:
    _manager_only(request)
    form = ReviewerForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                reviewer_profile_create(
                    actor=request.user,
                    user=form.cleaned_data["username"],
                    details=form.details(),
                    ip=client_ip(request),
                )
            except ServiceError as error:
                form.add_error(None, refusal_text(error))
            else:
                messages.success(request, "已加入评审专家库。")
                return redirect("recognition:review:pool")
        status = 400
    profiles = list(reviewer_pool())
    for profile in profiles:
        profile.mobile_masked = mask_mobile(profile.user.mobile or "")  # type: ignore[attr-defined]
    return render(
        request,
        "recognition/review/pool.html",
        {"profiles": profiles, "form": form},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def pool_edit(request: AuthenticatedRequest, profile_id: int) -> HttpResponse:
    profile = access_reviewer_profile(request.user, profile_id)
    initial = {
        "employer": profile.employer,
        "organisation": profile.organisation.uscc if profile.organisation else "",
        "region": profile.region_id,
        "title": profile.title,
        "subject_fields": profile.fields,
        "keywords": profile.keywords,
        "expertise": profile.expertise,
        "load": profile.load,
    }
    form = ReviewerForm(request.POST or None, initial=initial, editing=True)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                reviewer_profile_update(
                    actor=request.user,
                    profile=profile,
                    details=form.details(),
                    ip=client_ip(request),
                )
            except ServiceError as error:
                form.add_error(None, refusal_text(error))
            else:
                messages.success(request, "已保存专家信息。")
                return redirect("recognition:review:pool")
        status = 400
    return render(
        request,
        "recognition/review/pool_edit.html",
        {"profile": profile, "form": form},
        status=status,
    )


@require_POST
@staff_required
def pool_deactivate(request: AuthenticatedRequest, profile_id: int) -> HttpResponse:
    profile = access_reviewer_profile(request.user, profile_id)
    return run_service(
        request,
        lambda: reviewer_profile_deactivate(
            actor=request.user, profile=profile, ip=client_ip(request)
        ),
        success="已移出评审专家库。",
        done_url=reverse("recognition:review:pool"),
    )


# --- Assignment and closing ---------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required
def assign(request: AuthenticatedRequest, batch_id: int) -> HttpResponse:
    batch = access_batch_for_manager(request.user, batch_id)
    short: list[tuple[object, str]] = []
    refusal = ""
    status = 200
    if request.method == "POST":
        try:
            outcome = review_assign(batch=batch, actor=request.user, ip=client_ip(request))
        except ServiceError as error:
            refusal, status = refusal_text(error), refusal_status(error)
        else:
            short = list(outcome.short)
            messages.success(
                request,
                f"已新分配{outcome.created}人次，{len(outcome.moved)}项申报进入专家评审。",
            )
            if not short:
                return redirect("recognition:review:assign", batch.pk)
    return render(
        request,
        "recognition/review/assign.html",
        {
            "batch": batch,
            "applications": batch_applications_with_assignments(batch),
            "short": short,
            "refusal": refusal,
            "missing": list(unsubmitted_assignments(batch)),
        },
        status=status,
    )


@require_POST
@staff_required
def close(request: AuthenticatedRequest, batch_id: int) -> HttpResponse:
    batch = access_batch_for_manager(request.user, batch_id)
    raw = request.POST.get("version", "")
    version = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None
    return run_service(
        request,
        lambda: review_scoring_close(
            batch=batch, actor=request.user, version=version, ip=client_ip(request)
        ),
        success="评分已截止，已计算得分、排名和拟认定等级。",
        done_url=reverse("recognition:review:panel", args=[batch.pk]),
    )


@login_required
def panel(request: AuthenticatedRequest, batch_id: int) -> HttpResponse:
    batch = access_batch_for_panel(request.user, batch_id)
    rows = panel_rows(batch)
    closed = batch.scoring_closed_at is not None
    if not closed and not is_province_manager(request.user):
        # A chair who reviews an application (assigned before they chaired) sees its
        # scores only once scoring closes, as every reviewer does.
        rows = [
            r
            for r in rows
            if all(a.reviewer_id != request.user.pk for a in r.application.assignments.all())
        ]
    ranking = sorted(
        (r for r in rows if r.application.rank is not None),
        key=lambda r: (r.application.rank, r.application.submitted_at is None, r.application.pk),
    )
    return render(
        request,
        "recognition/review/panel.html",
        {
            "batch": batch,
            "criteria": batch_criteria(batch),
            "rows": rows,
            "closed": closed,
            "ranking": ranking if closed else [],
            "manager": is_province_manager(request.user),
        },
    )


# --- Scoring ------------------------------------------------------------------------------


@reviewer_required
def queue(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "recognition/review/queue.html",
        {"assignments": list(assignments_of_reviewer(request.user)[:200])},
    )


def _score_page(
    request: AuthenticatedRequest,
    assignment: ReviewAssignment,
    form: ScoreForm | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    application = assignment.application
    batch = application.batch
    criteria = batch_criteria(batch)
    mine = {s.criterion_id: s for s in assignment.scores.all()}
    if form is None:
        initial: dict[str, object] = {}
        for criterion_id, s in mine.items():
            initial[f"score_{criterion_id}"] = s.score
            initial[f"comment_{criterion_id}"] = s.comment
        form = ScoreForm(initial=initial, criteria=criteria)
    closed = batch.scoring_closed_at is not None
    means = criterion_means(application) if closed else {}
    return render(
        request,
        "recognition/review/score.html",
        {
            "assignment": assignment,
            "application": application,
            "batch": batch,
            "criteria": criteria,
            "form": form,
            "mine": [(c, mine.get(c.pk), means.get(c.pk)) for c in criteria],
            "editable": assignment.submitted_at is None
            and not closed
            and not review_deadline_passed(batch)
            and application.status == application.Status.REVIEWING,
            "closed": closed,
            "answers": answered_questions(batch.programme, application.answers),
            "attachments": list(application.attachments.all()),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@reviewer_required
def score(request: AuthenticatedRequest, assignment_id: int) -> HttpResponse:
    assignment = assignment_for_reviewer(request.user, assignment_id)
    if request.method == "GET":
        return _score_page(request, assignment)
    submit = request.POST.get("action") == "submit"
    form = ScoreForm(
        request.POST, criteria=batch_criteria(assignment.application.batch), submit=submit
    )
    if not form.is_valid():
        return _score_page(request, assignment, form, status=400)
    try:
        review_score_save(
            assignment=assignment,
            actor=request.user,
            scores=form.inputs(),
            submit=submit,
            ip=client_ip(request),
        )
    except ServiceError as error:
        if hasattr(error, "error_dict"):
            for name, problems in error.message_dict.items():
                form.add_error(None if name == "__all__" else name, problems)
        else:
            form.add_error(None, refusal_text(error))
        fresh = assignment_for_reviewer(request.user, assignment_id)
        return _score_page(request, fresh, form, status=refusal_status(error))
    messages.success(request, "评分已提交。" if submit else "评分草稿已保存。")
    return redirect("recognition:review:score", assignment.pk)
