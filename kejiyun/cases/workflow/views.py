"""Case pages: the staff work queue, accepting a demand, the case page and its actions (steps,
the clock's pause and resume, outcome, reassignment, the record), the enterprise's pages.

Thin views: a form checks the input, a service acts, and a refused action comes back as a
Chinese message with nothing changed. A stale edit (someone changed the case since the page
was loaded) answers 409 with the page re-drawn from the current state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from kejiyun.accounts.footprints import footprint_record
from kejiyun.accounts.guards import AuthenticatedRequest, enterprise_required, staff_required
from kejiyun.accounts.models import Footprint, User
from kejiyun.cases.clock import services as clock
from kejiyun.cases.errors import CaseError
from kejiyun.cases.models import MAIN_LINE, Case, CaseEvent, DockingRequest, Step
from kejiyun.cases.rules import may_act
from kejiyun.cases.workflow import forms as f
from kejiyun.cases.workflow import services
from kejiyun.cases.workflow.selectors import (
    QueueRowKey,
    access_case,
    access_case_for_enterprise,
    access_case_page,
    areas_in_jurisdiction,
    case_dockings,
    case_helpers,
    case_record_freshness,
    case_timeline,
    cases_of_organisation,
    dockings_asked_by_enterprise,
    library_eligible,
    organisation_cases_stamp,
    staff_owners_for,
    work_queue,
    work_queue_keys,
    work_queue_rows,
)
from kejiyun.cases.workflow.transitions import CASE_MOVES, STAFF
from kejiyun.common.ratelimit import client_ip
from kejiyun.common.refusals import run_service
from kejiyun.demands.selectors import access_demand
from kejiyun.pagecache.fragments import fragment
from kejiyun.plans.selectors import plan_actions_due, plan_actions_due_keys
from kejiyun.regions.selectors import (
    centres_in_jurisdiction,
    counties_in_jurisdiction,
    user_jurisdiction,
)

# What the enterprise sees of its case's timeline: the steps and the outcome, not staff
# working notes nor which experts declined and why.
ENTERPRISE_EVENT_KINDS = (
    CaseEvent.Kind.OPENED,
    CaseEvent.Kind.TRANSITION,
    CaseEvent.Kind.OUTCOME,
    CaseEvent.Kind.CONFIRMED,
    CaseEvent.Kind.DISPUTED,
)


# The enterprise sees the experts recommended for its demand until the case reaches
# agreement.
RECOMMENDING_STEPS = (Step.INTAKE, Step.DIAGNOSIS, Step.MATCHING, Step.DOCKING)


# --- staff: work queue ----------------------------------------------------------------------


@staff_required
def queue(request: AuthenticatedRequest) -> HttpResponse:
    """My cases and plan actions, overdue first, then due soon; filters; bulk reassignment.

    Drawn mostly from the page cache (`fragment`), each part keyed on what it shows: the
    rows on the keys of the page's cases (id, version, urgency: one query, which also counts
    them for the pagination), the plan actions on theirs, the filter fields and the staff
    to hand cases to on the jurisdiction and the query string. A write of a case or its
    demand through the services shows on the next request; a new name of an organisation,
    centre, county or staff member (and of a worker in the plan actions) within
    `QUEUE_PARTS_SECONDS`, and a new staff member or centre in the lists within
    `FILTER_LISTS_SECONDS`."""
    user = request.user
    scope = _jurisdiction_key(user)
    asked = request.GET
    filters = f.QueueFilterForm(
        asked or None,
        counties=fragment(
            "cases:queue:county-choices",
            topics=(),
            parts=[scope],
            build=lambda: f.county_choices(
                counties_in_jurisdiction(user, province_code=settings.DEPLOYMENT_PROVINCE)
            ),
            seconds=FILTER_LISTS_SECONDS,
        ),
        # A chosen centre or area is checked against the jurisdiction's own querysets
        # (built only when one is chosen: the lists offered come from the page cache).
        centres=centres_in_jurisdiction(user=user) if asked.get("centre") else None,
        areas=areas_in_jurisdiction(user=user) if asked.get("area") else None,
    )
    data = filters.cleaned_data if filters.is_valid() else {}
    now = timezone.now()  # the rows' urgency and their due-time badges agree
    cases = work_queue(
        user=user,
        now=now,
        mine_only=data.get("scope") in ("", None, "mine"),
        unowned_only=data.get("scope") == "unowned",
        step=data.get("step", ""),
        industry=(data.get("industry") or "").strip(),
        county=(data.get("county") or "").strip(),
        centre=data.get("centre"),
        area=data.get("area"),
        state=data.get("state", ""),
        closed_from=data.get("closed_from"),
        closed_to=data.get("closed_to"),
    )
    page, keys = _queue_page(cases, request.GET.get("page"))
    kept = {k: getattr(v, "pk", v) for k, v in data.items() if v}
    can_bulk = user.sees_everything or (
        user.centre is not None and user.centre.region.level != "county"
    )
    rows = fragment(
        "cases:queue:rows",
        topics=(),
        parts=[scope, can_bulk, " ".join(map(str, keys))],
        build=lambda: render_to_string(
            "cases/_queue_rows.html",
            {"cases": work_queue_rows(keys), "can_bulk": can_bulk, "now": now},
        ),
        seconds=QUEUE_PARTS_SECONDS,
    )
    return render(
        request,
        "cases/queue.html",
        {
            "page": page,
            "filters": filters,
            "filter_fields": _queue_filter_fields(filters, user, scope),
            "rows": rows,
            "actions": _queue_plan_actions(user),
            "can_bulk": can_bulk,
            "extra_query": urlencode(kept),
            "bulk": _queue_bulk(user, scope) if can_bulk else "",
        },
    )


# The queue's filter lists (counties, centres, areas, staff to hand cases to) change rarely:
# each jurisdiction's are kept this long in the page cache.
FILTER_LISTS_SECONDS = 60

QUEUE_PAGE_SIZE = 30
# A page asked for beyond this is past the end of any queue (and its offset might be past
# what the database takes): the last page, as for any page past the end.
QUEUE_PAGES_AT_MOST = 1_000_000

# The longest a rendered part of the queue is kept: what its keys do not see (a new name
# of an organisation, centre, county or staff member; a change made without a service, in
# the admin site or a shell) shows within it.
QUEUE_PARTS_SECONDS = 60


class _CountedPaginator(Paginator):
    """A paginator told how many objects there are (the queue's window count)."""

    def __init__(self, object_list: Any, per_page: int, *, total: int) -> None:
        super().__init__(object_list, per_page)
        self.total = total

    @cached_property
    def count(self) -> int:
        return self.total


def _queue_page(cases: QuerySet[Case], asked: str | None) -> tuple[Page, list[QueueRowKey]]:
    """The page of `cases` that `asked` names, as `Paginator.get_page` reads it (page 1 for
    anything but a number, the last page past the end), with the keys of its rows: one
    query, two more only past the end."""
    try:
        number = int(asked) if asked is not None else 1
    except ValueError:
        number = 1
    keys: list[QueueRowKey] = []
    total = None
    if 1 <= number <= QUEUE_PAGES_AT_MOST:
        keys, total = work_queue_keys(
            cases, offset=(number - 1) * QUEUE_PAGE_SIZE, limit=QUEUE_PAGE_SIZE
        )
    if total is None:
        total = cases.count()
        number = _CountedPaginator(cases, QUEUE_PAGE_SIZE, total=total).num_pages
        if total:
            keys, _ = work_queue_keys(
                cases, offset=(number - 1) * QUEUE_PAGE_SIZE, limit=QUEUE_PAGE_SIZE
            )
    paginator = _CountedPaginator(cases, QUEUE_PAGE_SIZE, total=total)
    return Page(keys, number, paginator), keys


def _queue_filter_fields(filters: f.QueueFilterForm, user: User, scope: str) -> str:
    """The filter form's fields, rendered: kept a minute per jurisdiction and what was asked
    (the values the fields show). A form with errors marks its fields: drawn afresh."""

    def build() -> str:
        # What the lists offer is kept a minute per jurisdiction.
        _choices_kept(filters, "centre", scope, lambda: centres_in_jurisdiction(user=user))
        _choices_kept(filters, "area", scope, lambda: areas_in_jurisdiction(user=user))
        return render_to_string("cases/_queue_filters.html", {"filters": filters})

    if filters.errors:
        return build()
    return fragment(
        "cases:queue:filters",
        topics=(),
        parts=[scope, filters.is_bound, *((n, filters.data.get(n)) for n in filters.fields)],
        build=build,
        seconds=FILTER_LISTS_SECONDS,
    )


def _queue_bulk(user: User, scope: str) -> str:
    """The bulk reassignment's list of staff to hand cases to, rendered: a minute per
    jurisdiction (the service checks the chosen one against the jurisdiction)."""

    def build() -> str:
        form = f.BulkReassignForm(owners=staff_owners_for(user=user))
        _choices_kept(form, "owner", scope)
        return render_to_string("cases/_queue_bulk.html", {"bulk_form": form})

    return fragment(
        "cases:queue:bulk", topics=(), parts=[scope], build=build, seconds=FILTER_LISTS_SECONDS
    )


def _queue_plan_actions(user: User) -> str:
    """The rows of the user's open plan actions (一人一策), rendered: kept under what they
    show of themselves (id, plan, title, due date: one light query) and today's date (the
    已超时 badges); a worker's new name shows within `QUEUE_PARTS_SECONDS`."""
    today = timezone.localdate()
    keys = plan_actions_due_keys(owner=user, limit=QUEUE_PAGE_SIZE)

    def build() -> str:
        ids = [key[0] for key in keys]
        actions = list(plan_actions_due(owner=user, today=today).filter(pk__in=ids)) if ids else []
        return render_to_string("cases/_queue_actions.html", {"actions": actions, "today": today})

    return fragment(
        "cases:queue:actions",
        topics=(),
        parts=[user.pk, today, keys],
        build=build,
        seconds=QUEUE_PARTS_SECONDS,
    )


def _jurisdiction_key(user: User) -> str:
    """Who sees the same filter lists: everyone with the same jurisdiction."""
    if user.sees_everything:
        return "all"
    home = user_jurisdiction(user) if user.is_centre_staff else None
    return home.path if home is not None else "none"


def _choices_kept(
    form: forms.Form,
    name: str,
    scope: str,
    queryset: Callable[[], QuerySet[Any]] | None = None,
) -> None:
    """Give a model choice field of `form` the choices kept for `scope` (rendering them
    otherwise reads the list again), read from `queryset()` (else the field's own) when
    they are not kept; validating a choice still asks the field's queryset."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)

    def build() -> list[tuple[str, str]]:
        if queryset is not None:
            field.queryset = queryset()
        return [(str(value), str(label)) for value, label in field.iterator(field)]

    field.choices = fragment(
        f"cases:queue:{name}",
        topics=(),
        parts=[scope],
        build=build,
        seconds=FILTER_LISTS_SECONDS,
    )


@staff_required
@require_POST
def bulk_reassign(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = f.BulkReassignForm(request.POST, owners=staff_owners_for(user=user))
    ids = form.case_ids()
    if not form.is_valid() or not ids:
        messages.error(request, "请选择案例和新的负责人。")
        return redirect("cases:queue")
    try:
        moved = services.cases_reassign(case_ids=ids, owner=form.cleaned_data["owner"], actor=user)
    except CaseError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, f"已转交 {moved} 个案例。")
    return redirect("cases:queue")


# --- staff: accepting a demand opens its case -----------------------------------------------


@staff_required
@require_POST
def open_from_demand(request: AuthenticatedRequest, demand_id: int) -> HttpResponse:
    """Accept a submitted demand from its review panel: it is published and its case opened."""
    user = request.user
    demand = access_demand(user, demand_id)
    try:
        case = services.case_open_from_demand(demand=demand, actor=user)
    except CaseError as error:
        messages.error(request, error.messages[0])
        return redirect("demands:staff_detail", demand.pk)
    owner = case.owner.display_name if case.owner else "待指派"
    messages.success(request, f"已受理并立案（案例 #{case.pk}），承办人：{owner}。")
    return redirect("cases:detail", case.pk)


# --- staff: the case page -----------------------------------------------------------------


# What the case page shows of a case's record (its timeline, visits, notes, attachments and
# dockings) is rendered once and kept under the case's `case_record_freshness`, which every
# change through the services moves in its transaction; this long at most otherwise (a
# change made in the admin site or a shell, a staff member's corrected name).
CASE_RECORD_SECONDS = 300


def _detail_context(request: AuthenticatedRequest, case: Case, **forms: Any) -> dict[str, Any]:
    user = request.user
    acting = may_act(user, case)
    record = _case_record(case)
    now = timezone.now()
    context = {
        "case": case,
        "demand": case.demand,
        # The demand and the case's state (HTML).
        "header": _case_header(case, now=now, error=forms.get("error", "")),
        "may_act": acting,
        # The timeline, visits, notes and attachments, and the decided dockings (HTML).
        "history": record["history"],
        "dockings": record["dockings"],
        # Workers' applications and the enterprise's requests, for staff to decide: what is
        # said of each (HTML), its id and origin; the forms to decide it stay on the page.
        "pending_dockings": record["pending"],
        # The ranked experts, teams and results load from matching into a slot on the page.
        "matching": acting and case.step in (Step.MATCHING, Step.DOCKING),
    }
    if acting:  # only who may act on the case is shown the forms
        context.update(
            _detail_forms(user, case, forms, has_accepted_docking=record["has_accepted_docking"])
        )
    return context


def _case_header(case: Case, *, now: datetime, error: str) -> str:
    """The top of the page: the demand and the state of the case, with a refusal's `error`.
    Kept in the page cache under every value it shows (`cases/_header.html` shows nothing
    that is not named here), so it can never be stale: a change to the case, its demand
    or a name shown makes another key. With an error it is drawn afresh."""
    context = {
        "case": case,
        "demand": case.demand,
        "now": now,
        "steps": MAIN_LINE,
        "step_index": case.step_index(),
        "error": error,
    }
    if error:
        return render_to_string("cases/_header.html", context)
    demand, region = case.demand, case.region
    shown = (
        *(getattr(case, field.attname) for field in Case._meta.concrete_fields),
        *(getattr(demand, name) for name in _HEADER_DEMAND_FIELDS),
        demand.organisation.name,
        region.name,
        region.parent.name if region.parent else "",
        case.centre.name,
        case.owner.display_name if case.owner else "",
        # The overdue badge; the rest of the header does not change with the time.
        case.due_at is not None and case.due_at < now,
        timezone.get_current_timezone_name(),
    )
    return fragment(
        "cases:detail:header",
        topics=(),
        parts=[repr(shown)],  # repr: quoted, so no two different states read the same
        build=lambda: render_to_string("cases/_header.html", context),
        seconds=CASE_RECORD_SECONDS,
    )


_HEADER_DEMAND_FIELDS = (
    "title",
    "category",
    "description",
    "problem",
    "current_state",
    "target_indicators",
)


def _case_record(case: Case) -> dict[str, Any]:
    """The case's record as the page shows it, from the page cache while nothing in it has
    changed (one query to know). The same for every staff member who may see the case:
    nothing in it depends on who asks (personal data in it is always masked), and access
    to the case was checked before."""
    return fragment(
        "cases:detail:record",
        topics=(),
        parts=[
            case.pk,
            timezone.get_current_timezone_name(),
            *case_record_freshness(case_id=case.pk),
        ],
        build=lambda: _case_record_build(case),
        seconds=CASE_RECORD_SECONDS,
    )


def _case_record_build(case: Case) -> dict[str, Any]:
    dockings = list(case_dockings(case=case))
    pending = [d for d in dockings if d.awaits_staff]
    decided = [d for d in reversed(dockings) if not d.awaits_staff]
    history = render_to_string(
        "cases/_history.html",
        {
            "case": case,
            "timeline": case_timeline(case=case),
            "visits": case.visits.select_related("author")[:50],
            "notes": case.notes.select_related("author")[:50],
            "attachments": case.attachments.all()[:50],
        },
    )
    return {
        "history": history,
        "dockings": render_to_string("cases/_dockings.html", {"dockings": decided})
        if decided
        else "",
        "has_accepted_docking": any(d.status == DockingRequest.Status.ACCEPTED for d in decided),
        "pending": [
            {
                "pk": d.pk,
                "origin": d.origin,
                "about": render_to_string("cases/_pending_docking.html", {"d": d}),
            }
            for d in pending
        ],
    }


def _detail_forms(
    user: User, case: Case, forms: dict[str, Any], *, has_accepted_docking: bool
) -> dict[str, Any]:
    """The forms of staff who may act on the case: what they can do with an open case (the
    moves, the clock, the outcome, handing it on) and the note, attachment and visit forms.
    Each comes as the pieces of HTML around its CSRF tokens (`_around_csrf`), from the page
    cache unless a form was handed back with its errors: the actions under the case's
    version and state and the viewer's jurisdiction (the staff to hand the case to are the
    same for all of it; kept a minute, a chosen owner is still checked by the form's query),
    the record's forms per case."""
    scope = _jurisdiction_key(user)
    forms = {
        name: form for name, form in forms.items() if name.endswith("_form") and form is not None
    }

    def owners() -> str:
        if "assign_form" in forms:
            return str(forms["assign_form"]["owner"])
        return fragment(
            "cases:detail:owners",
            topics=(),
            parts=[scope, case.region_id],
            build=lambda: str(f.AssignForm(owners=staff_owners_for(user=user, case=case))["owner"]),
            seconds=FILTER_LISTS_SECONDS,
        )

    def actions() -> list[str]:
        return _around_csrf(
            "cases/_actions.html",
            {
                "case": case,
                "moves": CASE_MOVES.moves_from(case.step, by=STAFF),
                "has_accepted_docking": has_accepted_docking,
                "outcome_form": forms.get("outcome_form")
                or f.OutcomeForm(initial={"version": case.version}),
                "assign_owner": owners(),
            },
        )

    def record_forms() -> list[str]:
        return _around_csrf(
            "cases/_record_forms.html",
            {
                "case": case,
                "note_form": forms.get("note_form") or f.NoteForm(),
                "attachment_form": forms.get("attachment_form") or f.AttachmentForm(),
                "visit_form": forms.get("visit_form") or f.VisitForm(),
            },
        )

    handed_back = set(forms)
    context: dict[str, Any] = {}
    if case.is_open:
        context["actions"] = (
            actions()
            if handed_back & {"outcome_form", "assign_form"}
            else fragment(
                "cases:detail:actions",
                topics=(),
                parts=[
                    case.pk,
                    case.version,
                    case.step,
                    case.paused_at is not None,
                    has_accepted_docking,
                    scope,
                    case.region_id,
                ],
                build=actions,
                seconds=FILTER_LISTS_SECONDS,
            )
        )
    context["record_forms"] = (
        record_forms()
        if handed_back & {"note_form", "attachment_form", "visit_form"}
        else fragment("cases:detail:record_forms", topics=(), parts=[case.pk], build=record_forms)
    )
    return context


# Where the CSRF token goes in a part of the case page kept in the cache: the part is drawn
# with this in place of the token and kept as the pieces around it; the page puts its own
# token between the pieces, so no token is ever kept. Every value in such a part is
# escaped, so nothing else in it can read as this input.
_CSRF_SLOT = "csrf-slot"
_CSRF_INPUT = f'<input type="hidden" name="csrfmiddlewaretoken" value="{_CSRF_SLOT}">'


def _around_csrf(template: str, context: dict[str, Any]) -> list[str]:
    """`template` drawn without a CSRF token: the pieces of HTML around each of its
    `{% csrf_token %}`, for the page to join with the token of the request."""
    html = render_to_string(template, {**context, "csrf_token": _CSRF_SLOT})
    # Pieces of what the template drew, every value in it escaped: still safe HTML.
    # nosemgrep: kejiyun-mark-safe-on-dynamic-text -- pieces of an autoescaped rendering
    return [mark_safe(piece) for piece in html.split(_CSRF_INPUT)]  # noqa: S308


@staff_required
def detail(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    case = access_case_page(request.user, case_id)
    return render(request, "cases/detail.html", _detail_context(request, case))


def case_page_act(
    request: AuthenticatedRequest, case: Case, action: Callable[[], object], success: str
) -> HttpResponse:
    """A staff action on the case page: done, back to the page; refused, the page re-drawn
    with the message (409 when stale)."""
    return case_form_act(request, case, action, success)


def case_form_act(
    request: AuthenticatedRequest,
    case: Case,
    action: Callable[[], object],
    success: str,
    *,
    form_name: str = "",
    form: Any = None,
    field: str | None = None,
) -> HttpResponse:
    """A staff action on the case page. Done: back to the page. Refused: with a `form`, the
    page re-drawn with the refusal's status (400, or 409 when stale) and the reason on the
    form (on `field` if given; an upload that did not parse, a missing contract number…);
    without one, the refusal handled as `run_service` does (re-drawn with the message when
    stale). Nothing was stored either way."""

    def redraw(error: str, status: int) -> HttpResponse:
        fresh = access_case(request.user, case.pk)
        if form is None or status == 409:  # stale: the page as it is now, the forms fresh
            ctx = _detail_context(request, fresh, error=error)
        else:
            form.add_error(field, error)
            ctx = _detail_context(request, fresh, **{form_name: form})
        return render(request, "cases/detail.html", ctx, status=status)

    return run_service(
        request,
        action,
        success=success,
        done_url=reverse("cases:detail", args=[case.pk]),
        redraw=redraw,
        redraw_every_refusal=form is not None,
    )


def case_page_bad_form(request: HttpRequest, case: Case, form: Any) -> HttpResponse:
    """An action's form did not check out: its errors as a message, back to the case page."""
    errors = "；".join(str(e) for errs in form.errors.values() for e in errs)
    messages.error(request, errors or "输入有误，请检查。")
    return redirect("cases:detail", case.pk)


@staff_required
@require_POST
def transition(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    user = request.user
    case = access_case(user, case_id)
    form = f.TransitionForm(request.POST)
    if not form.is_valid():
        return case_page_bad_form(request, case, form)
    to_step = form.cleaned_data["to_step"]
    return case_page_act(
        request,
        case,
        lambda: services.case_transition(
            case=case,
            to_step=to_step,
            actor=user,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        ),
        f"已转入“{Step(to_step).label}”环节。",
    )


@staff_required
@require_POST
def pause(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    user = request.user
    case = access_case(user, case_id)
    form = f.PauseForm(request.POST)
    if not form.is_valid():
        return case_page_bad_form(request, case, form)
    return case_page_act(
        request,
        case,
        lambda: clock.case_pause(
            case=case,
            actor=user,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        ),
        "已暂停计时。",
    )


@staff_required
@require_POST
def resume(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    user = request.user
    case = access_case(user, case_id)
    form = f.VersionedForm(request.POST)
    if not form.is_valid():
        return case_page_bad_form(request, case, form)
    return case_page_act(
        request,
        case,
        lambda: clock.case_resume(
            case=case, actor=user, expected_version=form.cleaned_data["version"]
        ),
        "已恢复计时，时限已顺延。",
    )


@staff_required
@require_POST
def outcome(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    user = request.user
    case = access_case(user, case_id)
    form = f.OutcomeForm(request.POST, request.FILES)
    if not form.is_valid():
        return case_page_bad_form(request, case, form)
    data = form.cleaned_data
    result = services.OutcomeInput(
        solved=data["solved"],
        contract_number=data["contract_number"],
        contract_amount=data["contract_amount"],
        evidence=data["evidence"],
        reason=data["reason"],
    )
    return case_form_act(
        request,
        case,
        lambda: services.case_outcome_record(
            case=case, outcome=result, actor=user, expected_version=data["version"]
        ),
        "已登记办理结果，等待企业确认。",
        form_name="outcome_form",
        form=form,
    )


@staff_required
@require_POST
def assign(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    user = request.user
    case = access_case(user, case_id)
    form = f.AssignForm(request.POST, owners=staff_owners_for(user=user, case=case))
    if not form.is_valid():
        return case_page_bad_form(request, case, form)
    return case_page_act(
        request,
        case,
        lambda: services.case_assign(
            case=case,
            owner=form.cleaned_data["owner"],
            actor=user,
            expected_version=form.cleaned_data["version"],
        ),
        "已转交。",
    )


@staff_required
@require_POST
def note(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    user = request.user
    case = access_case(user, case_id)
    form = f.NoteForm(request.POST)
    if not form.is_valid():
        return case_page_bad_form(request, case, form)
    return case_page_act(
        request,
        case,
        lambda: services.case_note_add(case=case, actor=user, body=form.cleaned_data["body"]),
        "已添加备注。",
    )


@staff_required
@require_POST
def visit(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    user = request.user
    case = access_case(user, case_id)
    form = f.VisitForm(request.POST)
    if not form.is_valid():
        return case_page_bad_form(request, case, form)
    d = form.cleaned_data
    return case_page_act(
        request,
        case,
        lambda: services.case_visit_add(
            case=case,
            actor=user,
            visited_on=d["visited_on"],
            place=d["place"],
            people=d["people"],
            outcome=d["outcome"],
        ),
        "已登记走访。",
    )


# --- the enterprise -----------------------------------------------------------------------


@enterprise_required
def enterprise_list(request: AuthenticatedRequest) -> HttpResponse:
    """The enterprise's cases, 20 a page. The rendered rows are the same for every user of
    the organisation and come from the page cache, keyed on the organisation, the page
    asked for and one aggregate over its cases (`organisation_cases_stamp`): a new case, a
    step, a reassignment or an edit of the demand shows on the next request."""
    user = request.user
    asked = request.GET.get("page", "")

    def build() -> str:
        rows = (
            cases_of_organisation(user=user)
            .select_related(None)
            .select_related("demand", "centre")
            .only("step", "opened_at", "demand__title", "centre__name")
        )
        page = Paginator(rows, 20).get_page(asked or None)
        return render_to_string("cases/_enterprise_list_body.html", {"page": page})

    body = fragment(
        "cases:enterprise-list",
        topics=(),
        parts=(user.organisation_id, asked, organisation_cases_stamp(user=user)),
        build=build,
    )
    return render(request, "cases/enterprise_list.html", {"body": body})


def _enterprise_context(case: Case, **extra: Any) -> dict[str, Any]:
    initial = {"version": case.version}
    return {
        "case": case,
        "timeline": case_timeline(case=case).filter(kind__in=ENTERPRISE_EVENT_KINDS),
        "helpers": list(case_helpers(case=case)),
        "asked": dockings_asked_by_enterprise(case=case),
        # Recommended experts, teams and results load from matching into a slot while the
        # case looks for its expert.
        "recommending": case.step in RECOMMENDING_STEPS,
        "steps": MAIN_LINE,
        "step_index": case.step_index(),
        "confirm_form": extra.get("confirm_form") or f.ConfirmForm(initial=initial),
        "dispute_form": extra.get("dispute_form") or f.DisputeForm(initial=initial),
        "error": extra.get("error", ""),
        "library_eligible": library_eligible(case),
    }


@enterprise_required
def enterprise_detail(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    case = access_case_for_enterprise(request.user, case_id)
    return render(request, "cases/enterprise_detail.html", _enterprise_context(case))


def _enterprise_act(
    request: AuthenticatedRequest, case: Case, action: Callable[[], object], success: str
) -> HttpResponse:
    """An action of the enterprise on its own case page."""

    def redraw(error: str, status: int) -> HttpResponse:
        fresh = access_case_for_enterprise(request.user, case.pk)
        ctx = _enterprise_context(fresh, error=error)
        return render(request, "cases/enterprise_detail.html", ctx, status=status)

    return run_service(
        request,
        action,
        success=success,
        done_url=reverse("cases:enterprise_detail", args=[case.pk]),
        redraw=redraw,
    )


@enterprise_required
@require_POST
def enterprise_confirm(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    user = request.user
    case = access_case_for_enterprise(user, case_id)
    form = f.ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择 1 到 5 分的评分。")
        return redirect("cases:enterprise_detail", case.pk)
    d = form.cleaned_data

    def confirm() -> None:
        # The rating and where it was given from (for the integrity detectors: a rating from
        # the owning staff member's own device or network) are one change.
        with transaction.atomic():
            services.case_confirm(
                case=case,
                actor=user,
                rating=d["rating"],
                comment=d["comment"],
                expected_version=d["version"],
            )
            footprint_record(request, user, Footprint.Kind.RATE)

    return _enterprise_act(request, case, confirm, "感谢评价，案例已办结。")


@enterprise_required
@require_POST
def enterprise_dispute(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    user = request.user
    case = access_case_for_enterprise(user, case_id)
    form = f.DisputeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写异议说明。")
        return redirect("cases:enterprise_detail", case.pk)
    return _enterprise_act(
        request,
        case,
        lambda: services.case_dispute(
            case=case,
            actor=user,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        ),
        "已提交异议，服务中心将继续办理。",
    )


@enterprise_required
@require_POST
def enterprise_library_consent(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    """The enterprise grants or withdraws its consent to show the case in the case library."""
    user = request.user
    case = access_case_for_enterprise(user, case_id)
    form = f.LibraryConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择同意或撤回。")
        return redirect("cases:enterprise_detail", case.pk)
    granted = form.cleaned_data["decision"] == "grant"
    return _enterprise_act(
        request,
        case,
        lambda: services.case_library_consent(
            case=case, actor=user, granted=granted, ip=client_ip(request)
        ),
        "已同意本案例入库展示。" if granted else "已撤回授权，本案例不再在案例库展示。",
    )
