from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, enterprise_required, staff_required
from kejiyun.accounts.models import Role, User
from kejiyun.accounts.selectors import access_organisation
from kejiyun.accounts.unmask import unmask_state, unmaskable
from kejiyun.common.masking import mask_personal_text
from kejiyun.common.refusals import run_service
from kejiyun.demands.forms import DemandForm, HallForm, ReturnForm, demand_form_initial
from kejiyun.demands.models import Demand
from kejiyun.demands.review import GUIDANCE, completeness_problems
from kejiyun.demands.selectors import (
    access_demand,
    access_own_demand,
    access_published_demand,
    demand_public,
    demands_for_staff,
    demands_hall,
    demands_of_organisation,
    demands_review_queue,
    hall_industries,
)
from kejiyun.demands.services import (
    EDITABLE,
    WITHDRAWABLE,
    DemandError,
    demand_create,
    demand_return,
    demand_submit,
    demand_text_of,
    demand_update,
    demand_withdraw,
)
from kejiyun.pagecache.fragments import fragment
from kejiyun.pagecache.services import DEMANDS


def _case_url(demand: Demand) -> str:
    """Where the enterprise follows the demand's case, once it has one."""
    case = getattr(demand, "case", None)
    return reverse("cases:enterprise_detail", args=[case.pk]) if case is not None else ""


# --- Public hall -------------------------------------------------------------------------

HALL_PAGE_SIZE = 20


def hall(request: HttpRequest) -> HttpResponse:
    """Public demand hall (需求大厅): published demands, searched with the engine's Chinese
    segmentation and filtered by category, industry, region and budget; each links to its
    page. Private demands are not listed; summary-only ones show title, category, industry
    and region only. The same for every visitor, so it comes from the page cache (one query
    when cached); publishing, withdrawing or closing a demand shows at once."""
    asked = tuple((name, request.GET.get(name, "")) for name in HALL_PARAMETERS)
    body = fragment("demands:hall", topics=(DEMANDS,), parts=asked, build=lambda: _hall_body(asked))
    return render(request, "demands/hall.html", {"body": body})


# What the hall reads of the query string; anything else does not change the page.
HALL_PARAMETERS = ("q", "category", "section", "industry", "city", "county", "budget", "page")


def _hall_body(asked: tuple[tuple[str, str], ...]) -> str:
    data = QueryDict(mutable=True)
    for name, value in asked:
        if value:
            data[name] = value
    form = HallForm(data, industries=hall_industries())
    page = Paginator(demands_hall(form.filters()), HALL_PAGE_SIZE).get_page(data.get("page"))
    return render_to_string(
        "demands/_hall_body.html",
        {
            "form": form,
            "page": page,
            "rows": [demand_public(d) for d in page],
            "extra_query": form.query_string(),
        },
    )


def detail(request: HttpRequest, demand_id: int) -> HttpResponse:
    """A demand's page. The enterprise that owns it sees its own page (status, review,
    editing); anyone else, signed in or not, a demand published in the hall, with what its
    confidentiality allows. An S&T worker also gets why it was recommended to them and the
    application for its docking (loaded from matching into a slot)."""
    user = request.user
    if isinstance(user, User) and user.role == Role.ENTERPRISE:
        try:
            return _render_mine_detail(request, access_own_demand(user, demand_id))
        except Http404:
            pass  # another enterprise's demand: the public page, if it is published
    try:
        # The page of a published demand is the same for everyone (the page cache keeps it
        # until the demand, or any other published one, changes).
        title, body = fragment(
            "demands:detail",
            topics=(DEMANDS,),
            parts=(demand_id,),
            build=lambda: _detail_body(demand_id),
        )
    except Http404:
        if not user.is_authenticated:  # perhaps the enterprise's own, signed out: sign in
            return redirect_to_login(request.get_full_path())
        raise
    return render(
        request,
        "demands/detail.html",
        {
            "demand_id": demand_id,
            "title": title,
            "body": body,
            "is_worker": isinstance(user, User) and user.role == Role.WORKER,
        },
    )


def _detail_body(demand_id: int) -> tuple[str, str]:
    """The page title and what anyone sees of a published demand; 404 for any other."""
    demand = access_published_demand(demand_id)
    body = render_to_string("demands/_detail_body.html", {"row": demand_public(demand)})
    return mask_personal_text(demand.title), body


# --- The enterprise's own demands --------------------------------------------------------


@enterprise_required
def mine(request: AuthenticatedRequest) -> HttpResponse:
    organisation = request.user.organisation
    assert organisation is not None  # enterprise_required
    qs = demands_of_organisation(organisation=organisation)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    rows = [(d, _case_url(d)) for d in page]
    return render(request, "demands/mine_list.html", {"page": page, "rows": rows})


def _render_form(
    request: HttpRequest, form: DemandForm, demand: Demand | None, status: int = 200
) -> HttpResponse:
    field_problems: dict[str, list[str]] = {}
    if demand is not None and demand.status == Demand.Status.RETURNED:
        for problem in completeness_problems(demand_text_of(demand)):
            field_problems.setdefault(problem.field, []).append(problem.message)
    fields = [(f, field_problems.get(f.name, [])) for f in form.visible_fields()]
    return render(
        request,
        "demands/mine_form.html",
        {"form": form, "fields": fields, "demand": demand, "guidance": GUIDANCE},
        status=status,
    )


def _wants_submit(request: HttpRequest) -> bool:
    return request.POST.get("action") == "submit"


def _after_save(request: HttpRequest, demand: Demand, user: User, *, submit: bool) -> HttpResponse:
    """Where the enterprise goes after saving: back to the form for a draft; for a submission,
    to the demand (accepted for review) or back to the form with the reasons (sent back)."""
    if not submit:
        messages.success(request, "草稿已保存。")
        return redirect("demands:mine_edit", demand.pk)
    try:
        result = demand_submit(demand=demand, actor=user)
    except DemandError as error:
        messages.error(request, error.messages[0])
        return redirect("demands:mine_detail", demand.pk)
    if result.submitted:
        messages.success(request, "已提交审核。服务中心受理后，将为您立案并指定专人跟进。")
        return redirect("demands:mine_detail", demand.pk)
    messages.warning(request, "需求还不够具体，已退回修改：请按各栏下方的提示补充后再提交。")
    return redirect("demands:mine_edit", demand.pk)


@enterprise_required
@require_http_methods(["GET", "POST"])
def mine_new(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    organisation = user.organisation
    assert organisation is not None  # enterprise_required
    if request.method == "POST":
        form = DemandForm(request.POST)
        if not form.is_valid():
            return _render_form(request, form, None, status=400)
        with transaction.atomic():
            demand = demand_create(organisation=organisation, actor=user, data=form.demand_input())
        return _after_save(request, demand, user, submit=_wants_submit(request))
    form = DemandForm(
        initial={
            "region": organisation.region_id,
            "industry": organisation.industry,
            "confidentiality": Demand.Confidentiality.PUBLIC,
        }
    )
    return _render_form(request, form, None)


@enterprise_required
@require_http_methods(["GET", "POST"])
def mine_edit(request: AuthenticatedRequest, demand_id: int) -> HttpResponse:
    user = request.user
    demand = access_own_demand(user, demand_id)
    if demand.status not in EDITABLE:
        messages.error(
            request,
            f"需求当前状态为「{demand.get_status_display()}」，只有草稿或退回修改的需求可以编辑。",
        )
        return redirect("demands:mine_detail", demand.pk)
    if request.method == "POST":
        form = DemandForm(request.POST)
        if not form.is_valid():
            return _render_form(request, form, demand, status=400)
        try:
            demand_update(demand=demand, actor=user, data=form.demand_input())
        except DemandError as error:
            messages.error(request, error.messages[0])
            return redirect("demands:mine_detail", demand.pk)
        return _after_save(request, demand, user, submit=_wants_submit(request))
    return _render_form(request, DemandForm(initial=demand_form_initial(demand)), demand)


def _render_mine_detail(request: HttpRequest, demand: Demand) -> HttpResponse:
    return render(
        request,
        "demands/mine_detail.html",
        {
            "demand": demand,
            "case_url": _case_url(demand),
            "editable": demand.status in EDITABLE,
            "withdrawable": demand.status in WITHDRAWABLE,
            "events": list(demand.events.select_related("actor")),
        },
    )


@enterprise_required
def mine_detail(request: AuthenticatedRequest, demand_id: int) -> HttpResponse:
    return _render_mine_detail(request, access_own_demand(request.user, demand_id))


@enterprise_required
@require_POST
def mine_submit(request: AuthenticatedRequest, demand_id: int) -> HttpResponse:
    user = request.user
    demand = access_own_demand(user, demand_id)
    return _after_save(request, demand, user, submit=True)


@enterprise_required
@require_POST
def mine_withdraw(request: AuthenticatedRequest, demand_id: int) -> HttpResponse:
    user = request.user
    demand = access_own_demand(user, demand_id)
    return run_service(
        request,
        lambda: demand_withdraw(demand=demand, actor=user),
        success="需求已撤回。",
        done_url=reverse("demands:mine_detail", args=[demand.pk]),
    )


# --- Staff -------------------------------------------------------------------------------


@staff_required
def staff_demands(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    status = request.GET.get("status", "")
    if status not in Demand.Status.values:
        status = ""
    qs = demands_for_staff(user=user, status=status)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "demands/staff_list.html",
        {
            "page": page,
            "status": status,
            "statuses": Demand.Status.choices,
            "extra_query": f"status={status}" if status else "",
        },
    )


@staff_required
def staff_review_queue(request: AuthenticatedRequest) -> HttpResponse:
    """Submitted demands in the jurisdiction waiting for review, flagged ones first."""
    user = request.user
    page = Paginator(demands_review_queue(user=user), 25).get_page(request.GET.get("page"))
    return render(request, "demands/staff_review_queue.html", {"page": page})


def _render_staff_detail(
    request: HttpRequest, demand: Demand, return_form: ReturnForm, status: int = 200
) -> HttpResponse:
    reviewable = demand.status == Demand.Status.SUBMITTED
    return render(
        request,
        "demands/staff_detail.html",
        {
            "demand": demand,
            "return_form": return_form,
            "reviewable": reviewable,
            # The history matters while deciding; other statuses keep the page's query count.
            "events": list(demand.events.select_related("actor")) if reviewable else [],
            "unmask": unmask_state(request, view="demands:staff_detail", object_id=demand.pk),
        },
        status=status,
    )


@staff_required
def staff_demand_detail(request: AuthenticatedRequest, demand_id: int) -> HttpResponse:
    """One demand in the staff member's jurisdiction and, while it waits for review, the
    accept / return panel. The experts ranked for it load from matching into the page."""
    user = request.user
    demand = access_demand(user, demand_id)
    return _render_staff_detail(request, demand, ReturnForm())


@staff_required
@require_POST
def staff_return(request: AuthenticatedRequest, demand_id: int) -> HttpResponse:
    user = request.user
    demand = access_demand(user, demand_id)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return _render_staff_detail(request, demand, form, status=400)
    try:
        demand_return(demand=demand, actor=user, reasons=form.cleaned_data["reasons"])
    except DemandError as error:
        messages.error(request, error.messages[0])
        return redirect("demands:staff_detail", demand.pk)
    messages.success(request, "已退回企业修改，并已通过站内信通知企业。")
    return redirect("demands:staff_review_queue")


@staff_required
def staff_organisation_detail(request: AuthenticatedRequest, organisation_id: int) -> HttpResponse:
    """An organisation in the staff member's jurisdiction, its contacts and its demands."""
    user = request.user
    organisation = access_organisation(user, organisation_id)
    members = list(organisation.members.order_by("id"))
    demands = list(demands_of_organisation(organisation=organisation)[:50])
    return render(
        request,
        "demands/staff_organisation_detail.html",
        {"organisation": organisation, "members": members, "demands": demands},
    )


unmaskable(
    view="demands:staff_detail", url_kwarg="demand_id", object_type="demand", access=access_demand
)
