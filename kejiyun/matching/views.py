"""Pages that show what the engine ranks: the experts, teams and results for a demand or a
case (for staff, and for the enterprise with public fields only), why a demand was
recommended to an S&T worker (with the application for its docking) and why an expert was
matched to a docking, and batch docking (批量对接).

The case page and the staff demand page load these rankings into a slot (htmx, on load), so
cases and demands do not depend on matching; asked for directly (no JavaScript, a link), the
same view answers a whole page. Every object comes from the owning app's `access_*` helper.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string

from kejiyun.accounts.guards import (
    AuthenticatedRequest,
    enterprise_required,
    staff_required,
    worker_required,
)
from kejiyun.accounts.models import User
from kejiyun.cases.dockings.forms import DockingApplyForm
from kejiyun.cases.dockings.selectors import access_docking_for_expert, docking_of_worker
from kejiyun.cases.dockings.services import STEPS_OPEN_TO_REQUESTS, docking_send
from kejiyun.cases.errors import CaseError
from kejiyun.cases.models import Step
from kejiyun.cases.rules import may_act
from kejiyun.cases.workflow.selectors import (
    access_case,
    access_case_for_enterprise,
    case_of_demand,
    cases_for_staff,
)
from kejiyun.demands.models import Demand
from kejiyun.demands.selectors import access_demand, access_published_demand, demand_public
from kejiyun.matching.adapters import demand_query_inputs
from kejiyun.matching.selectors import (
    RANKINGS_SECONDS,
    DemandRankings,
    demand_match_for_expert,
    docking_plan,
    expert_match_for_demand,
    rankings_for_demand,
)
from kejiyun.pagecache.fragments import fragment
from kejiyun.pagecache.services import DEMANDS as PUBLIC_DEMANDS
from kejiyun.pagecache.services import MATCHING, TALENT
from kejiyun.regions.selectors import user_jurisdiction
from kejiyun.talent.selectors import dockable_expert


def _fragment_or_page(
    request: HttpRequest, fragment: str, page: str, context: dict[str, object]
) -> HttpResponse:
    template = fragment if request.headers.get("HX-Request") == "true" else page
    return render(request, template, context)


@staff_required
def demand_matches(request: AuthenticatedRequest, demand_id: int) -> HttpResponse:
    """Experts, teams and results ranked for a demand in the staff member's jurisdiction.

    The rendered list is kept in the page cache once the access check has passed, under the
    matching generation (every change-log row: profiles, teams, results, demands, vectors,
    dockings) and the public demands' and talent's ones (names, recognitions), what the
    demand's query is made of, the viewer's jurisdiction and the language. It shows personal
    text masked for everyone (this page has no unmasking), so no grant can be kept in it."""
    user = request.user
    demand = access_demand(user, demand_id)
    body = fragment(
        "matching:demand-matches",
        topics=(MATCHING, PUBLIC_DEMANDS, TALENT),
        parts=(_scope(user), demand.pk, demand.version, *demand_query_inputs(demand)),
        build=lambda: _demand_matches_body(demand),
        seconds=RANKINGS_SECONDS,
    )
    if request.headers.get("HX-Request") == "true":
        return HttpResponse(body)
    return render(request, "matching/demand_matches.html", {"demand": demand, "body": body})


def _scope(user: User) -> str:
    """The staff member's jurisdiction as part of a cache key ("*": they see everything)."""
    if user.sees_everything:
        return "*"
    region = user_jurisdiction(user) if user.is_centre_staff else None
    return region.code if region is not None else "-"


def _demand_matches_body(demand: Demand) -> str:
    ranked = rankings_for_demand(demand=demand, experts=10, teams=5, results=5)
    return render_to_string(
        "matching/_demand_matches.html",
        {
            "matches": ranked.experts,
            "team_matches": ranked.teams,
            "result_matches": ranked.results,
        },
    )


@staff_required
def case_matches(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    """Experts (with a docking form each), teams and results for a case the staff member
    handles while it is in matching or docking; nothing otherwise."""
    user = request.user
    case = access_case(user, case_id)
    ranking = may_act(user, case) and case.step in (Step.MATCHING, Step.DOCKING)
    ranked = (
        rankings_for_demand(demand=case.demand, experts=8, teams=5, results=5)
        if ranking
        else DemandRankings(experts=[], teams=[], results=[])
    )
    context: dict[str, object] = {
        "case": case,
        "matches": ranked.experts,
        "team_matches": ranked.teams,
        "result_matches": ranked.results,
    }
    return _fragment_or_page(
        request, "matching/_case_matches.html", "matching/case_matches.html", context
    )


@worker_required
def demand_for_worker(request: AuthenticatedRequest, demand_id: int) -> HttpResponse:
    """On a published demand's page, for the signed-in S&T worker: why the demand was
    recommended to them (when it is among their best 30) and their application for its
    docking (申请对接): the form while the case looks for experts, else where it stands."""
    user = request.user
    demand = access_published_demand(demand_id)
    profile = getattr(user, "talent_profile", None)
    case = case_of_demand(demand_id=demand.pk)
    mine = docking_of_worker(case=case, user=user) if case is not None else None
    context: dict[str, object] = {
        "demand": demand,
        "match": demand_match_for_expert(profile=profile, demand=demand) if profile else None,
        "case": case,
        "mine": mine,
        "may_apply": profile is not None
        and case is not None
        and mine is None
        and case.step in STEPS_OPEN_TO_REQUESTS,
        "form": DockingApplyForm(),
    }
    return _fragment_or_page(
        request, "matching/_demand_for_worker.html", "matching/demand_for_worker.html", context
    )


@enterprise_required
def enterprise_case_matches(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    """On the enterprise's case page: the experts, teams and results recommended for its
    demand, with reasons and public fields only (name, title, employer, region, fields),
    and a request to the centre to arrange a docking with one while the case is in matching
    or docking. Nothing once the case has reached agreement."""
    case = access_case_for_enterprise(request.user, case_id)
    demand = case.demand
    showing = case.step in (Step.INTAKE, Step.DIAGNOSIS, *STEPS_OPEN_TO_REQUESTS)
    asked = set(case.dockings.values_list("expert_id", flat=True)) if showing else set()
    ranked = (
        rankings_for_demand(demand=demand, experts=8, teams=5, results=5)
        if showing
        else DemandRankings(experts=[], teams=[], results=[])
    )
    context: dict[str, object] = {
        "case": case,
        "matches": ranked.experts,
        "team_matches": ranked.teams,
        "result_matches": ranked.results,
        "asked": asked,
        "may_ask": case.step in STEPS_OPEN_TO_REQUESTS,
    }
    return _fragment_or_page(
        request,
        "matching/_enterprise_matches.html",
        "matching/enterprise_matches.html",
        context,
    )


@login_required
def docking_match(request: AuthenticatedRequest, docking_id: int) -> HttpResponse:
    """On the docking reply page, for the expert it was sent to: why they were matched to
    the demand (their row among its best 50 experts)."""
    docking = access_docking_for_expert(request.user, docking_id)
    demand = docking.case.demand
    context: dict[str, object] = {
        "docking": docking,
        "match": expert_match_for_demand(demand=demand, profile=docking.expert),
        # Matched words come from the demand's text: shown only where that text is.
        "show_terms": not demand_public(demand, arranged=docking.arranged_by_staff).summary_only,
    }
    return _fragment_or_page(
        request, "matching/_docking_match.html", "matching/docking_match.html", context
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
