"""Pages that show what the engine ranks: the experts, teams and results for a demand or a
case, and batch docking (批量对接).

The case page and the staff demand page load these rankings into a slot (htmx, on load), so
cases and demands do not depend on matching; asked for directly (no JavaScript, a link), the
same view answers a whole page. Every object comes from the owning app's `access_*` helper.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.cases.dockings.services import docking_send
from kejiyun.cases.errors import CaseError
from kejiyun.cases.models import Step
from kejiyun.cases.rules import may_act
from kejiyun.cases.workflow.selectors import access_case, cases_for_staff
from kejiyun.demands.selectors import access_demand
from kejiyun.matching.selectors import (
    docking_plan,
    experts_for_demand,
    results_for_demand,
    teams_for_demand,
)
from kejiyun.talent.selectors import dockable_expert


def _fragment_or_page(
    request: HttpRequest, fragment: str, page: str, context: dict[str, object]
) -> HttpResponse:
    template = fragment if request.headers.get("HX-Request") == "true" else page
    return render(request, template, context)


@staff_required
def demand_matches(request: AuthenticatedRequest, demand_id: int) -> HttpResponse:
    """Experts, teams and results ranked for a demand in the staff member's jurisdiction."""
    user = request.user
    demand = access_demand(user, demand_id)
    context: dict[str, object] = {
        "demand": demand,
        "matches": experts_for_demand(demand=demand, top_k=10),
        "team_matches": teams_for_demand(demand=demand, top_k=5),
        "result_matches": results_for_demand(demand=demand, top_k=5),
    }
    return _fragment_or_page(
        request, "matching/_demand_matches.html", "matching/demand_matches.html", context
    )


@staff_required
def case_matches(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    """Experts (with a docking form each), teams and results for a case the staff member
    handles while it is in matching or docking; nothing otherwise."""
    user = request.user
    case = access_case(user, case_id)
    ranking = may_act(user, case) and case.step in (Step.MATCHING, Step.DOCKING)
    demand = case.demand
    context: dict[str, object] = {
        "case": case,
        "matches": experts_for_demand(demand=demand, top_k=8) if ranking else [],
        "team_matches": teams_for_demand(demand=demand, top_k=5) if ranking else [],
        "result_matches": results_for_demand(demand=demand, top_k=5) if ranking else [],
    }
    return _fragment_or_page(
        request, "matching/_case_matches.html", "matching/case_matches.html", context
    )


@staff_required
def docking_plan_view(request: AuthenticatedRequest) -> HttpResponse:
    """Batch docking (批量对接): one proposed expert per case waiting in matching, within every
    expert's free capacity; staff tick the proposals to send."""
    user = request.user
    if request.method == "POST":
        pairs = _planned_pairs(request.POST.getlist("pair"))
        if not pairs:
            messages.error(request, "请至少勾选一条推荐。")
            return redirect("matching:docking_plan")
        sent, refused = 0, []
        for case_id, expert_pk in pairs:
            case = cases_for_staff(user=user).filter(pk=case_id).first()
            expert = dockable_expert(expert_pk)
            if case is None or expert is None:
                refused.append(f"案例 #{case_id}：不存在或不在您的辖区内")
                continue
            try:
                docking_send(case=case, expert=expert, actor=user)
            except CaseError as exc:
                refused.append(f"案例 #{case_id}：{exc.messages[0]}")
            else:
                sent += 1
        if sent:
            messages.success(request, f"已发送 {sent} 条对接请求。")
        for problem in refused:
            messages.error(request, problem)
        return redirect("matching:docking_plan")
    return render(request, "matching/docking_plan.html", {"plan": docking_plan(user=user)})


# ASCII digits only (str.isdigit() also accepts "²" and "٣"), below the bigint range.
_PAIR = re.compile(r"([0-9]{1,18}):([0-9]{1,18})")


def _planned_pairs(raw: list[str]) -> list[tuple[int, int]]:
    """ "case:expert" values as id pairs; anything malformed or out of range is dropped."""
    pairs: list[tuple[int, int]] = []
    for value in raw[:200]:
        match = _PAIR.fullmatch(value)
        if match is not None and int(match[1]) > 0 and int(match[2]) > 0:
            pairs.append((int(match[1]), int(match[2])))
    return list(dict.fromkeys(pairs))
