"""Docking pages: the staff actions on the case page (send a request; approve or refuse an
application or an enterprise's request), the S&T worker's list of requests, reply page and
application (申请对接) from a demand's page, the enterprise's request from its case page.
Thin views, as on the case page (`workflow.views`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kejiyun.accounts.guards import (
    AuthenticatedRequest,
    enterprise_required,
    staff_required,
    worker_required,
)
from kejiyun.cases.dockings import forms as f
from kejiyun.cases.dockings import services
from kejiyun.cases.dockings.selectors import (
    access_docking_for_expert,
    access_docking_for_staff,
    dockings_for_expert,
)
from kejiyun.cases.errors import CaseError
from kejiyun.cases.workflow.selectors import (
    access_case,
    access_case_for_enterprise,
    case_of_demand,
)
from kejiyun.cases.workflow.views import case_page_act, case_page_bad_form
from kejiyun.common.ratelimit import rate_limit_exceeded
from kejiyun.common.refusals import run_service
from kejiyun.demands.selectors import access_published_demand, demand_public
from kejiyun.talent.selectors import dockable_expert, expert_behind

# A worker applies, an enterprise asks: at most this many attempts an hour per person.
APPLICATIONS_PER_HOUR = 10
ASKS_PER_HOUR = 20

# --- staff: from the case page ----------------------------------------------------------------


@staff_required
@require_POST
def docking_send(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    user = request.user
    case = access_case(user, case_id)
    form = f.DockingSendForm(request.POST)
    if not form.is_valid():
        return case_page_bad_form(request, case, form)
    expert = dockable_expert(form.cleaned_data["expert"])
    if expert is None:
        messages.error(request, "专家不存在。")
        return redirect("cases:detail", case.pk)
    return case_page_act(
        request,
        case,
        lambda: services.docking_send(
            case=case, expert=expert, actor=user, message=form.cleaned_data["message"]
        ),
        f"已向 {expert.user.display_name} 发送对接请求。",
    )


@staff_required
@require_POST
def docking_decide(request: AuthenticatedRequest, case_id: int, docking_id: int) -> HttpResponse:
    """Approve (or send) a worker's application or an enterprise's request, or refuse it with
    a reason. Another county's staff get 404 from `access_case`."""
    user = request.user
    case = access_case(user, case_id)
    docking = access_docking_for_staff(case=case, docking_id=docking_id)
    form = f.DockingDecisionForm(request.POST)
    if not form.is_valid():
        return case_page_bad_form(request, case, form)
    if form.cleaned_data["approve"]:
        return case_page_act(
            request,
            case,
            lambda: services.docking_approve(docking=docking, actor=user),
            f"已安排 {docking.expert.user.display_name} 对接。",
        )
    return case_page_act(
        request,
        case,
        lambda: services.docking_refuse(
            docking=docking, actor=user, reason=form.cleaned_data["reason"]
        ),
        "已处理，并已告知对方原因。",
    )


def _too_many(request: AuthenticatedRequest, back: str) -> HttpResponse:
    return render(request, "cases/too_many.html", {"back": back}, status=429)


# --- the S&T worker: applications from a demand's page ----------------------------------------


@worker_required
@require_POST
def docking_apply(request: AuthenticatedRequest, demand_id: int) -> HttpResponse:
    """申请对接: a worker applies, with a short message, for a published demand's docking."""
    user = request.user
    demand = access_published_demand(demand_id)
    back = reverse("demands:detail", args=[demand.pk])
    form = f.DockingApplyForm(request.POST)
    if not form.is_valid():
        errors = "；".join(str(e) for errs in form.errors.values() for e in errs)
        messages.error(request, errors)
        return redirect(back)
    if rate_limit_exceeded(
        key=f"docking-apply:{user.pk}", limit=APPLICATIONS_PER_HOUR, window_seconds=3600
    ):
        return _too_many(request, back)
    case = case_of_demand(demand_id=demand.pk)
    if case is None:
        messages.error(request, "该需求还没有服务案例，暂不能申请对接。")
        return redirect(back)
    return run_service(
        request,
        lambda: services.docking_apply(case=case, actor=user, message=form.cleaned_data["message"]),
        success="申请已提交，服务中心审核后会通知您。",
        done_url=back,
    )


# --- the enterprise: asking for a docking with a recommended expert ---------------------------


@enterprise_required
@require_POST
def docking_ask(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    user = request.user
    case = access_case_for_enterprise(user, case_id)
    back = reverse("cases:enterprise_detail", args=[case.pk])
    form = f.DockingAskForm(request.POST)
    if not form.is_valid():
        errors = "；".join(str(e) for errs in form.errors.values() for e in errs)
        messages.error(request, errors)
        return redirect(back)
    if rate_limit_exceeded(key=f"docking-ask:{user.pk}", limit=ASKS_PER_HOUR, window_seconds=3600):
        return _too_many(request, back)
    kind, object_id = form.cleaned_data["target"]
    found = expert_behind(kind, object_id)
    if found is None:
        messages.error(request, "所选的专家、团队或成果不存在。")
        return redirect(back)
    expert, subject = found
    return run_service(
        request,
        lambda: services.docking_ask(
            case=case,
            expert=expert,
            actor=user,
            message=form.cleaned_data["message"],
            subject=subject,
        ),
        success=f"已提请服务中心安排与 {expert.user.display_name} 对接。",
        done_url=back,
    )


# --- the S&T worker: docking requests --------------------------------------------------------


@login_required
def dockings(request: AuthenticatedRequest) -> HttpResponse:
    page = Paginator(dockings_for_expert(user=request.user), 20).get_page(request.GET.get("page"))
    return render(request, "cases/dockings.html", {"page": page})


@login_required
def docking_reply(request: AuthenticatedRequest, docking_id: int) -> HttpResponse:
    user = request.user
    docking = access_docking_for_expert(user, docking_id)
    form = f.DockingReplyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.docking_respond(
                docking=docking,
                actor=user,
                accept=form.cleaned_data["accept"],
                reason=form.cleaned_data["reason"],
            )
        except CaseError as exc:
            form.add_error(None, exc.messages[0])
        else:
            messages.success(request, "已答复，服务中心会与您联系。")
            return redirect("cases:dockings")
    shown = demand_public(docking.case.demand, arranged=docking.arranged_by_staff)
    return render(
        request, "cases/docking_reply.html", {"docking": docking, "form": form, "shown": shown}
    )
