"""Views for 一人一策 service plans. Every staff plan comes from `access_plan`; a write made
from a stale page answers 409 with the StalePlan message and changes nothing."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.common.refusals import refusal_text, run_service
from kejiyun.plans.forms import ActionForm, FollowUpForm, NeedForm, ReassignForm, VersionForm
from kejiyun.plans.models import ServicePlan
from kejiyun.plans.selectors import (
    access_plan,
    owner_candidates,
    plan_of_worker,
    plan_page,
    plans_for_staff,
)
from kejiyun.plans.services import (
    may_reassign,
    plan_action_add,
    plan_action_complete,
    plan_followup_add,
    plan_need_add,
    plan_need_meet,
    plan_reassign,
    worker_verify,
)
from kejiyun.talent.selectors import access_talent, counties_for_staff


@staff_required
def plan_list(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    qs = plans_for_staff(user=user).order_by("-created_at", "-id")
    owner = request.GET.get("owner", "")
    if owner == "me":
        qs = qs.filter(owner=user)
    else:
        owner = ""
    counties = list(counties_for_staff(user=user, province_code=settings.DEPLOYMENT_PROVINCE))
    county = request.GET.get("county", "")
    if county and county in {c.code for c in counties}:
        qs = qs.filter(profile__region_id=county)
    else:
        county = ""
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    extra = "&".join(f"{k}={v}" for k, v in (("owner", owner), ("county", county)) if v)
    return render(
        request,
        "plans/list.html",
        {
            "page": page,
            "owner": owner,
            "county": county,
            "counties": counties if len(counties) > 1 else [],
            "extra_query": extra,
        },
    )


def _render_plan(
    request: AuthenticatedRequest, plan: ServicePlan, *, status: int = 200, **forms: object
) -> HttpResponse:
    user = request.user
    content = plan_page(plan=plan)
    reassignable = may_reassign(user)
    context: dict[str, object] = {
        "plan": plan,
        "page": content,
        "today": timezone.localdate(),
        "need_form": NeedForm(initial={"version": plan.version}),
        "action_form": ActionForm(initial={"version": plan.version}, needs=plan.needs.all()),
        "followup_form": FollowUpForm(
            initial={"version": plan.version, "happened_on": timezone.localdate()}
        ),
        "reassign_form": (
            ReassignForm(
                initial={"version": plan.version, "owner": plan.owner_id},
                candidates=owner_candidates(plan=plan, user=user),
            )
            if reassignable
            else None
        ),
    }
    context.update(forms)
    return render(request, "plans/detail.html", context, status=status)


@staff_required
def plan_detail(request: AuthenticatedRequest, plan_id: int) -> HttpResponse:
    user = request.user
    return _render_plan(request, access_plan(user, plan_id))


def _run(
    request: AuthenticatedRequest, plan: ServicePlan, action: Callable[[], object], success: str
) -> HttpResponse:
    """Run a plan write; a refusal re-draws the plan as it is now with the message (409 for a
    stale page, 403 for no permission, 400 otherwise) and changes nothing."""

    def redraw(error: str, status: int) -> HttpResponse:
        messages.error(request, error)
        return _render_plan(request, access_plan(request.user, plan.pk), status=status)

    return run_service(
        request,
        action,
        success=success,
        done_url=reverse("plans:detail", args=[plan.pk]),
        redraw=redraw,
        redraw_every_refusal=True,
    )


@staff_required
@require_POST
def plan_need_add_view(request: AuthenticatedRequest, plan_id: int) -> HttpResponse:
    user = request.user
    plan = access_plan(user, plan_id)
    form = NeedForm(request.POST)
    if not form.is_valid():
        return _render_plan(request, plan, status=400, need_form=form)
    return _run(
        request,
        plan,
        lambda: plan_need_add(
            plan=plan,
            actor=user,
            expected_version=form.cleaned_data["version"],
            kind=form.cleaned_data["kind"],
            description=form.cleaned_data["description"],
        ),
        "需求已登记。",
    )


@staff_required
@require_POST
def plan_need_meet_view(request: AuthenticatedRequest, plan_id: int, need_id: int) -> HttpResponse:
    user = request.user
    plan = access_plan(user, plan_id)
    need = plan.needs.filter(pk=need_id).first()
    form = VersionForm(request.POST)
    if need is None:
        raise Http404("需求不存在")
    if not form.is_valid():
        return _render_plan(request, plan, status=400)
    return _run(
        request,
        plan,
        lambda: plan_need_meet(
            need=need, actor=user, expected_version=form.cleaned_data["version"]
        ),
        "需求已标记为已满足。",
    )


@staff_required
@require_POST
def plan_action_add_view(request: AuthenticatedRequest, plan_id: int) -> HttpResponse:
    user = request.user
    plan = access_plan(user, plan_id)
    form = ActionForm(request.POST, needs=plan.needs.all())
    if not form.is_valid():
        return _render_plan(request, plan, status=400, action_form=form)
    return _run(
        request,
        plan,
        lambda: plan_action_add(
            plan=plan,
            actor=user,
            expected_version=form.cleaned_data["version"],
            title=form.cleaned_data["title"],
            due_on=form.cleaned_data["due_on"],
            need=form.cleaned_data["need"],
        ),
        "事项已添加。",
    )


@staff_required
@require_POST
def plan_action_complete_view(
    request: AuthenticatedRequest, plan_id: int, action_id: int
) -> HttpResponse:
    user = request.user
    plan = access_plan(user, plan_id)
    action = plan.actions.filter(pk=action_id).first()
    if action is None:
        raise Http404("事项不存在")
    form = VersionForm(request.POST)
    if not form.is_valid():
        return _render_plan(request, plan, status=400)
    return _run(
        request,
        plan,
        lambda: plan_action_complete(
            action=action, actor=user, expected_version=form.cleaned_data["version"]
        ),
        "事项已完成。",
    )


@staff_required
@require_POST
def plan_followup_add_view(request: AuthenticatedRequest, plan_id: int) -> HttpResponse:
    user = request.user
    plan = access_plan(user, plan_id)
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        return _render_plan(request, plan, status=400, followup_form=form)
    return _run(
        request,
        plan,
        lambda: plan_followup_add(
            plan=plan,
            actor=user,
            expected_version=form.cleaned_data["version"],
            happened_on=form.cleaned_data["happened_on"],
            note=form.cleaned_data["note"],
        ),
        "跟进记录已保存。",
    )


@staff_required
@require_POST
def plan_reassign_view(request: AuthenticatedRequest, plan_id: int) -> HttpResponse:
    user = request.user
    plan = access_plan(user, plan_id)
    if not may_reassign(user):
        raise Http404("页面不存在")
    form = ReassignForm(request.POST, candidates=owner_candidates(plan=plan, user=user))
    if not form.is_valid():
        return _render_plan(request, plan, status=400, reassign_form=form)
    return _run(
        request,
        plan,
        lambda: plan_reassign(
            plan=plan,
            owner=form.cleaned_data["owner"],
            actor=user,
            expected_version=form.cleaned_data["version"],
        ),
        "计划已转交。",
    )


@login_required
def plan_mine(request: AuthenticatedRequest) -> HttpResponse:
    """The worker's own plan, read-only."""
    user = request.user
    if getattr(user, "talent_profile", None) is None:
        raise Http404("您还没有科技工作者档案")
    plan = plan_of_worker(user=user)
    return render(
        request,
        "plans/mine.html",
        {"plan": plan, "page": plan_page(plan=plan) if plan else None},
    )


@staff_required
@require_POST
def worker_verify_view(request: AuthenticatedRequest, profile_id: int) -> HttpResponse:
    """Staff verify a worker on the worker's page; the worker's plan opens with it."""
    user = request.user
    profile = access_talent(user, profile_id)
    try:
        plan = worker_verify(profile=profile, actor=user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal_text(exc))
        return redirect("talent:staff_detail", profile_id=profile.pk)
    owner = plan.owner.display_name if plan.owner else "（暂无负责人）"
    messages.success(request, f"已核验，并建立一人一策服务计划，负责人：{owner}。")
    return redirect("talent:staff_detail", profile_id=profile.pk)
