"""Docking pages: the staff action that sends a request from the case page, the S&T worker's
list of requests and reply page. Thin views, as on the case page (`workflow.views`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.cases.dockings import forms as f
from kejiyun.cases.dockings import services
from kejiyun.cases.dockings.selectors import access_docking_for_expert, dockings_for_expert
from kejiyun.cases.errors import CaseError
from kejiyun.cases.workflow.selectors import access_case
from kejiyun.cases.workflow.views import case_page_act, case_page_bad_form
from kejiyun.talent.selectors import dockable_expert

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


# --- the S&T worker: docking requests --------------------------------------------------------


@login_required
def dockings(request: AuthenticatedRequest) -> HttpResponse:
    page = Paginator(dockings_for_expert(user=request.user), 20).get_page(request.GET.get("page"))
    return render(request, "cases/dockings.html", {"page": page})


@login_required
def docking_reply(request: AuthenticatedRequest, docking_id: int) -> HttpResponse:
    user = request.user
    docking = access_docking_for_expert(user, docking_id)
    form = f.DockingReplyForm(request.POST or None)
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
    return render(request, "cases/docking_reply.html", {"docking": docking, "form": form})
