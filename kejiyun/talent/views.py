"""Views for 科技所能: the public directory, the worker's own pages and the staff pages.
Thin: selectors read, services write, staff objects come from `access_*` helpers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.accounts.models import User
from kejiyun.accounts.selectors import organisations_for_staff
from kejiyun.accounts.unmask import unmask_state, unmaskable
from kejiyun.common.errors import ServiceError
from kejiyun.common.levels import Level
from kejiyun.common.masking import mask_personal_text
from kejiyun.common.ratelimit import client_ip, rate_limit_exceeded
from kejiyun.common.refusals import refusal_status, refusal_text
from kejiyun.pagecache.fragments import fragment
from kejiyun.pagecache.services import TALENT
from kejiyun.regions.selectors import counties_of_province
from kejiyun.talent.forms import MemberForm, ProfileForm, ResourceForm, ResultForm, TeamForm
from kejiyun.talent.models import TalentProfile
from kejiyun.talent.selectors import (
    CLASSIFICATIONS,
    LEVEL_ANY,
    access_duplicate_ticket,
    access_resource,
    access_result_for_worker,
    access_talent,
    access_team,
    access_team_for_lead,
    access_team_of_member,
    classification_path,
    counties_for_staff,
    duplicate_tickets_for_staff,
    regions_servable,
    resource_experts,
    resources_for_staff,
    results_of_worker,
    talent_directory,
    talent_for_staff,
    talent_profile_full,
    talent_profile_of,
    team_members,
    teams_for_staff,
    teams_of_worker,
)
from kejiyun.talent.selectors import (
    classification_children as classification_children_of,
)
from kejiyun.talent.selectors import (
    classification_search as classification_search_by_name,
)
from kejiyun.talent.services import (
    duplicate_ticket_close,
    resource_create,
    resource_update,
    talent_directory_consent_set,
    talent_profile_update,
    team_create,
    team_member_add,
    team_member_leave,
    team_member_remove,
    team_update,
    tech_result_create,
    tech_result_delete,
    tech_result_update,
)

# The recognition filter of the directory and the studio list: its values and labels.
RECOGNITION_FILTER = {
    LEVEL_ANY: "已获认定",
    Level.TYPICAL.value: "典型工作室",
    Level.PREMIUM.value: "精品工作室",
}


def directory(request: HttpRequest) -> HttpResponse:
    """Public directory of S&T workers (name, title, fields; no contact details), with the
    recognised studio each leads; filtered by that studio's recognition level. The same for
    every visitor, so it comes from the page cache (one query when cached); a profile edit,
    a consent given or withdrawn, or a studio recognised shows at once."""
    query = request.GET.get("q", "").strip()[:50]
    level = request.GET.get("level", "")
    if level not in RECOGNITION_FILTER:
        level = ""
    number = request.GET.get("page", "")
    body = fragment(
        "talent:directory",
        topics=(TALENT,),
        parts=(query, level, number),
        build=lambda: _directory_body(query, level, number),
    )
    return render(request, "talent/directory.html", {"body": body})


def _directory_body(query: str, level: str, number: str) -> str:
    qs = talent_directory(
        province_path=f"{settings.DEPLOYMENT_PROVINCE}/", query=query, level=level
    )
    page = Paginator(qs, 20).get_page(number)
    # Numbers a worker typed into the capability text are masked before the excerpt is cut,
    # so a number cut at the excerpt's end cannot escape the mask.
    page.object_list = list(page.object_list)
    for profile in page.object_list:
        profile.capability_shown = mask_personal_text(profile.capability)  # type: ignore[attr-defined]
    extra_query = urlencode({k: v for k, v in (("q", query), ("level", level)) if v})
    return render_to_string(
        "talent/_directory_body.html",
        {
            "page": page,
            "q": query,
            "level": level,
            "levels": RECOGNITION_FILTER,
            "extra_query": extra_query,
        },
    )


# --- The worker's own pages --------------------------------------------------------------


def _own_profile(request: AuthenticatedRequest) -> TalentProfile:
    profile = talent_profile_of(request.user)
    if profile is None:
        raise Http404("您还没有科技工作者档案")
    return profile


@login_required
def me(request: AuthenticatedRequest) -> HttpResponse:
    """The worker edits their own profile; a stale page is refused with 409."""
    profile = _own_profile(request)
    regions = regions_servable(province_code=settings.DEPLOYMENT_PROVINCE)
    status = 200
    if request.method == "POST":
        form = ProfileForm(request.POST, regions=regions)
        if form.is_valid():
            try:
                talent_profile_update(
                    profile=profile,
                    actor=request.user,
                    data=form.to_data(),
                    expected_version=form.cleaned_data["version"],
                )
            except ServiceError as exc:
                form.add_error(None, refusal_text(exc))
                status = refusal_status(exc, otherwise=200)
            else:
                messages.success(request, "档案已保存。")
                return redirect("talent:me")
    else:
        form = ProfileForm(initial=ProfileForm.initial_for(profile), regions=regions)
    return render(request, "talent/me.html", {"profile": profile, "form": form}, status=status)


@login_required
def me_results(request: AuthenticatedRequest) -> HttpResponse:
    profile = _own_profile(request)
    teams = list(profile.teams_led.all())
    form = ResultForm(request.POST or None, teams=teams)
    if request.method == "POST" and form.is_valid():
        try:
            tech_result_create(
                profile=profile, actor=request.user, data=form.to_data(), team=form.team()
            )
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, refusal_text(exc))
        else:
            messages.success(request, "成果已登记。")
            return redirect("talent:me_results")
    results = list(results_of_worker(profile=profile))
    return render(
        request, "talent/me_results.html", {"profile": profile, "results": results, "form": form}
    )


@login_required
def me_result_edit(request: AuthenticatedRequest, result_id: int) -> HttpResponse:
    profile = _own_profile(request)
    result = access_result_for_worker(profile=profile, result_id=result_id)
    if request.method == "POST":
        form = ResultForm(request.POST, teams=[])
        if form.is_valid():
            try:
                tech_result_update(result=result, actor=request.user, data=form.to_data())
            except ValidationError as exc:
                form.add_error(None, refusal_text(exc))
            else:
                messages.success(request, "成果已保存。")
                return redirect("talent:me_results")
    else:
        form = ResultForm(initial=ResultForm.initial_for(result), teams=[])
    return render(request, "talent/me_result_form.html", {"result": result, "form": form})


@login_required
@require_POST
def me_result_delete(request: AuthenticatedRequest, result_id: int) -> HttpResponse:
    profile = _own_profile(request)
    result = access_result_for_worker(profile=profile, result_id=result_id)
    tech_result_delete(result=result, actor=request.user)
    messages.info(request, "成果已删除。")
    return redirect("talent:me_results")


@login_required
def me_teams(request: AuthenticatedRequest) -> HttpResponse:
    profile = _own_profile(request)
    teams = list(teams_of_worker(profile=profile))
    return render(request, "talent/me_teams.html", {"profile": profile, "teams": teams})


@login_required
def me_team_new(request: AuthenticatedRequest) -> HttpResponse:
    profile = _own_profile(request)
    counties = counties_of_province(settings.DEPLOYMENT_PROVINCE)
    form = TeamForm(request.POST or None, counties=counties, initial={"region": profile.region_id})
    if request.method == "POST" and form.is_valid():
        try:
            team = team_create(lead=profile, actor=request.user, data=form.to_data())
        except ValidationError as exc:
            form.add_error(None, refusal_text(exc))
        else:
            messages.success(request, f"“{team.name}”已创建。")
            return redirect("talent:me_team_edit", team_id=team.pk)
    return render(request, "talent/me_team_form.html", {"form": form, "team": None})


@login_required
def me_team_edit(request: AuthenticatedRequest, team_id: int) -> HttpResponse:
    profile = _own_profile(request)
    team = access_team_for_lead(profile=profile, team_id=team_id)
    counties = counties_of_province(settings.DEPLOYMENT_PROVINCE)
    if request.method == "POST":
        form = TeamForm(request.POST, counties=counties)
        if form.is_valid():
            try:
                team_update(
                    team=team,
                    actor=request.user,
                    data=form.to_data(host_organisation=team.host_organisation),
                )
            except ValidationError as exc:
                form.add_error(None, refusal_text(exc))
            else:
                messages.success(request, "已保存。")
                return redirect("talent:me_team_edit", team_id=team.pk)
    else:
        form = TeamForm(initial=TeamForm.initial_for(team), counties=counties)
    return render(
        request,
        "talent/me_team_form.html",
        {
            "form": form,
            "team": team,
            "members": list(team_members(team=team)),
            "member_form": MemberForm(),
        },
    )


@login_required
@require_POST
def me_team_member_add(request: AuthenticatedRequest, team_id: int) -> HttpResponse:
    profile = _own_profile(request)
    team = access_team_for_lead(profile=profile, team_id=team_id)
    if rate_limit_exceeded(key=f"team-member:{profile.pk}", limit=20, window_seconds=3600):
        messages.error(request, "添加成员过于频繁，请一小时后再试。")
        return redirect("talent:me_team_edit", team_id=team.pk)
    form = MemberForm(request.POST)
    if form.is_valid():
        team_member_add(team=team, member=form.cleaned_data["member"], actor=request.user)
        messages.success(request, "成员已加入，并已收到站内信通知。")
    else:
        errors = [str(e) for errs in form.errors.values() for e in errs]
        messages.error(request, "；".join(errors) or "请填写成员姓名和手机号。")
    return redirect("talent:me_team_edit", team_id=team.pk)


@login_required
@require_POST
def me_team_leave(request: AuthenticatedRequest, team_id: int) -> HttpResponse:
    profile = _own_profile(request)
    team = access_team_of_member(profile=profile, team_id=team_id)
    try:
        team_member_leave(team=team, member=profile, actor=request.user)
    except ValidationError as exc:
        messages.error(request, refusal_text(exc))
    else:
        messages.success(request, f"已退出“{team.name}”。")
    return redirect("talent:me_teams")


@login_required
@require_POST
def me_team_member_remove(
    request: AuthenticatedRequest, team_id: int, member_id: int
) -> HttpResponse:
    profile = _own_profile(request)
    team = access_team_for_lead(profile=profile, team_id=team_id)
    member = team_members(team=team).filter(pk=member_id).first()
    if member is None:
        raise Http404("成员不存在")
    try:
        team_member_remove(team=team, member=member, actor=request.user)
    except ValidationError as exc:
        messages.error(request, refusal_text(exc))
    else:
        messages.info(request, "成员已移除。")
    return redirect("talent:me_team_edit", team_id=team.pk)


# --- Staff: workers ----------------------------------------------------------------------


@staff_required
def staff_talent(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    qs = talent_for_staff(user=user).order_by("region_id", "id")
    verified = request.GET.get("verified", "")
    if verified == "yes":
        qs = qs.filter(verified=True)
    elif verified == "no":
        qs = qs.filter(verified=False)
    else:
        verified = ""
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    extra = f"verified={verified}" if verified else ""
    return render(
        request,
        "talent/staff_list.html",
        {"page": page, "verified": verified, "extra_query": extra},
    )


@staff_required
def staff_talent_detail(request: AuthenticatedRequest, profile_id: int) -> HttpResponse:
    user = request.user
    profile = talent_profile_full(profile_id=access_talent(user, profile_id).pk)
    plan = getattr(profile, "service_plan", None) if profile.verified else None
    return render(
        request,
        "talent/staff_detail.html",
        {
            "profile": profile,
            "results": list(profile.results.all()),
            "teams": list(teams_of_worker(profile=profile)),
            "plan": plan,
            "unmask": unmask_state(request, view="talent:staff_detail", object_id=profile.pk),
        },
    )


unmaskable(
    view="talent:staff_detail",
    url_kwarg="profile_id",
    object_type="talent_profile",
    access=access_talent,
)


# --- Staff: teams and studios ------------------------------------------------------------


@staff_required
def staff_teams(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    kind = request.GET.get("kind", "")
    if kind not in ("team", "studio"):
        kind = ""
    level = request.GET.get("level", "")
    if level not in RECOGNITION_FILTER:
        level = ""
    qs = teams_for_staff(user=user, kind=kind, level=level)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    extra_query = urlencode({k: v for k, v in (("kind", kind), ("level", level)) if v})
    return render(
        request,
        "talent/staff_teams.html",
        {
            "page": page,
            "kind": kind,
            "level": level,
            "levels": RECOGNITION_FILTER,
            "extra_query": extra_query,
        },
    )


@staff_required
def staff_team_detail(request: AuthenticatedRequest, team_id: int) -> HttpResponse:
    user = request.user
    team = access_team(user, team_id)
    return render(
        request,
        "talent/staff_team_detail.html",
        {
            "team": team,
            "members": list(team_members(team=team)),
            "results": list(team.results.order_by("-year", "-id")),
        },
    )


# --- Staff: resources --------------------------------------------------------------------


@staff_required
def staff_resources(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    qs = resources_for_staff(user=user)
    kind = request.GET.get("kind", "")
    if kind in ("workstation", "courtyard", "popsci_base"):
        qs = qs.filter(kind=kind)
    else:
        kind = ""
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "talent/staff_resources.html",
        {"page": page, "kind": kind, "extra_query": f"kind={kind}" if kind else ""},
    )


@staff_required
def staff_resource_detail(request: AuthenticatedRequest, resource_id: int) -> HttpResponse:
    user = request.user
    resource = access_resource(user, resource_id)
    return render(
        request,
        "talent/staff_resource_detail.html",
        {"resource": resource, "experts": list(resource_experts(resource=resource))},
    )


def _resource_form(request: HttpRequest, user: User, **kwargs: Any) -> ResourceForm:
    return ResourceForm(
        request.POST if request.method == "POST" else None,
        counties=counties_for_staff(user=user, province_code=settings.DEPLOYMENT_PROVINCE),
        organisations=organisations_for_staff(user=user),
        user=user,
        ip=client_ip(request),
        **kwargs,
    )


@staff_required
def staff_resource_new(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = _resource_form(request, user)
    if request.method == "POST" and form.is_valid():
        try:
            resource = resource_create(data=form.to_data(), actor=user)
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, refusal_text(exc))
        else:
            messages.success(request, f"“{resource.name}”已登记。")
            return redirect("talent:staff_resource_detail", resource_id=resource.pk)
    return render(request, "talent/staff_resource_form.html", {"form": form, "resource": None})


@staff_required
def staff_resource_edit(request: AuthenticatedRequest, resource_id: int) -> HttpResponse:
    user = request.user
    resource = access_resource(user, resource_id)
    experts = list(resource_experts(resource=resource))
    if request.method == "POST":
        form = _resource_form(request, user, experts=experts)
        if form.is_valid():
            try:
                resource_update(resource=resource, data=form.to_data(), actor=user)
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, refusal_text(exc))
            else:
                messages.success(request, "已保存。")
                return redirect("talent:staff_resource_detail", resource_id=resource.pk)
    else:
        form = _resource_form(
            request, user, experts=experts, initial=ResourceForm.initial_for(resource, experts)
        )
    return render(request, "talent/staff_resource_form.html", {"form": form, "resource": resource})


# --- Classification pickers (public JSON for kejiyun/static/js/pickers.js) -----------------


def _classification_item(node: Any) -> dict[str, Any]:
    return {
        "code": node.code,
        "name": node.name,
        "level": node.level,
        "leaf": not node.branch,
        "label": node.name,
    }


@require_GET
@cache_control(public=True, max_age=24 * 3600)
def classification_children(request: HttpRequest, kind: str) -> JsonResponse:
    """The discipline or industry nodes below `?parent=` (the top level without it)."""
    if kind not in CLASSIFICATIONS:
        raise Http404("没有这种分类。")
    parent = request.GET.get("parent", "")[:8] or None
    rows = classification_children_of(kind, parent)
    return JsonResponse(
        {"parent": parent, "items": [_classification_item(r) for r in rows]},
        json_dumps_params={"ensure_ascii": False},
    )


@require_GET
@cache_control(public=True, max_age=3600)
def classification_search(request: HttpRequest, kind: str) -> JsonResponse:
    """Discipline or industry nodes whose Chinese name contains `?q=`, with the names above."""
    if kind not in CLASSIFICATIONS:
        raise Http404("没有这种分类。")
    text = request.GET.get("q", "")[:20]
    rows = classification_search_by_name(kind, text)
    return JsonResponse(
        {
            "q": text,
            "items": [{**_classification_item(r), "path": classification_path(r)} for r in rows],
        },
        json_dumps_params={"ensure_ascii": False},
    )


@login_required
@require_POST
def me_directory_consent(request: AuthenticatedRequest) -> HttpResponse:
    """The worker agrees to be listed in the public expert directory, or withdraws."""
    profile = _own_profile(request)
    consent = request.POST.get("consent") == "1"
    talent_directory_consent_set(profile=profile, actor=request.user, consent=consent)
    if consent:
        messages.success(request, "已同意在专家名录中公开您的姓名、职称和专业领域。")
    else:
        messages.success(request, "已撤回同意，您不再出现在公开的专家名录中。")
    return redirect("talent:me")


# --- Staff: duplicate-registration checks sent from below (no oracles) -------------------


@staff_required
def staff_duplicates(request: AuthenticatedRequest) -> HttpResponse:
    """Checks of people a centre below tried to register who are registered elsewhere in
    this jurisdiction; open ones first."""
    qs = duplicate_tickets_for_staff(user=request.user)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(request, "talent/staff_duplicates.html", {"page": page})


@staff_required
@require_POST
def staff_duplicate_close(request: AuthenticatedRequest, ticket_id: int) -> HttpResponse:
    ticket = access_duplicate_ticket(request.user, ticket_id)
    try:
        duplicate_ticket_close(ticket=ticket, actor=request.user, ip=client_ip(request))
    except ServiceError as exc:
        messages.error(request, refusal_text(exc))
    else:
        messages.success(request, "核查单已办结。")
    return redirect("talent:staff_duplicates")
