"""Event pages.

Public: the list of events and an event's page (accepted exhibits, as much of a demand as its
confidentiality allows, and the docking schedule); enterprises and S&T workers book a slot
there and see their bookings with the check-in codes on "我的对接预约".

Staff: the organiser's pages come from `access_event` (404 outside the organiser's
jurisdiction), nomination from `access_event_to_nominate` (404 for a centre outside the
event's region). Every write is a service; a refusal changes nothing and is shown in Chinese.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.accounts.models import Role
from kejiyun.common.errors import ServiceError
from kejiyun.common.refusals import refusal_status, refusal_text, run_service
from kejiyun.demands.models import Demand
from kejiyun.events.access import (
    access_booking,
    access_event,
    access_event_to_nominate,
    access_own_booking,
    events_for_staff,
    may_nominate,
    may_organise,
)
from kejiyun.events.forms import (
    AgreementForm,
    CheckInForm,
    DecideForm,
    EventForm,
    MoveForm,
    NominateForm,
    SlotForm,
)
from kejiyun.events.models import Event, Exhibit, Slot
from kejiyun.events.selectors import (
    access_public_event,
    bookings_for_organiser,
    bookings_of,
    event_figures,
    events_public,
    exhibits_for_organiser,
    exhibits_public,
    live_slots_booked_by,
    nominable_demands,
    nominable_results,
)
from kejiyun.events.services import (
    agreement_record,
    booking_cancel,
    booking_check_in,
    booking_create,
    event_create,
    event_transition,
    exhibit_decide,
    exhibit_nominate,
    slot_create,
)
from kejiyun.events.transitions import EVENT_MOVES, ORGANISER
from kejiyun.regions.selectors import jurisdiction_filter

S = Event.Status
BOOKING_ROLES = (Role.ENTERPRISE, Role.WORKER)


# --- public ----------------------------------------------------------------------------------


@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    return render(request, "events/list.html", {"events": list(events_public()[:100])})


@require_GET
def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    event = access_public_event(event_id)
    if event is None:
        raise Http404("页面不存在")
    user = request.user
    may_book = (
        user.is_authenticated
        and getattr(user, "role", None) in BOOKING_ROLES
        and event.status == S.OPEN
    )
    return render(
        request,
        "events/detail.html",
        {
            "event": event,
            "exhibits": exhibits_public(event),
            "may_book": may_book,
            "booked": live_slots_booked_by(user, event) if user.is_authenticated else set(),
        },
    )


@require_POST
@login_required
def slot_book(request: AuthenticatedRequest, slot_id: int) -> HttpResponse:
    slot = (
        Slot.objects.select_related("event", "exhibit")
        .filter(pk=slot_id, event__status__in=[S.OPEN, S.RUNNING, S.CLOSED, S.COLLECTING])
        .first()
    )
    if slot is None or request.user.role not in BOOKING_ROLES:
        raise Http404("页面不存在")
    try:
        booking = booking_create(slot=slot, actor=request.user)
    except ServiceError as error:
        messages.error(request, refusal_text(error))
        return redirect("events:detail", slot.event_id)
    messages.success(request, f"预约成功，您的签到码是 {booking.code}，请在活动现场出示。")
    return redirect("events:mine")


@require_GET
@login_required
def my_bookings(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "events/mine.html", {"bookings": list(bookings_of(request.user)[:200])})


@require_POST
@login_required
def booking_cancel_view(request: AuthenticatedRequest, booking_id: int) -> HttpResponse:
    booking = access_own_booking(request.user, booking_id)
    return run_service(
        request,
        lambda: booking_cancel(booking=booking, actor=request.user),
        success="已取消预约。",
        done_url=reverse("events:mine"),
    )


# --- staff: the organiser ----------------------------------------------------------------------


@require_GET
@staff_required
def manage_list(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    events = list(events_for_staff(user)[:200])
    rows = [(e, may_organise(user, e), may_nominate(user, e)) for e in events]
    centre = user.centre
    may_create = centre is not None and centre.region.level in ("province", "city")
    return render(request, "events/manage_list.html", {"rows": rows, "may_create": may_create})


@require_http_methods(["GET", "POST"])
@staff_required
def event_new(request: AuthenticatedRequest) -> HttpResponse:
    centre = request.user.centre
    if centre is None or centre.region.level not in ("province", "city"):
        raise Http404("页面不存在")
    kind = Event.Kind.CONFERENCE if centre.region.level == "province" else Event.Kind.FORUM
    form = EventForm(request.POST or None, initial={"kind": kind})
    if request.method == "POST" and form.is_valid():
        try:
            event = event_create(actor=request.user, data=form.to_input())
        except ServiceError as error:
            form.add_error(None, refusal_text(error))
        else:
            messages.success(request, "活动已创建（筹备中）。")
            return redirect("events:manage_detail", event.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "events/new.html", {"form": form}, status=status)


def _manage_page(
    request: AuthenticatedRequest,
    event: Event,
    *,
    slot_form: SlotForm | None = None,
    status: int = 200,
) -> HttpResponse:
    exhibits = list(exhibits_for_organiser(event))
    accepted = [(e.pk, e.title) for e in exhibits if e.status == Exhibit.Status.ACCEPTED]
    return render(
        request,
        "events/manage_detail.html",
        {
            "event": event,
            "moves": EVENT_MOVES.moves_from(event.status, by=ORGANISER),
            "exhibits": exhibits,
            "slot_form": slot_form or SlotForm(exhibits=accepted),
            "may_add_slots": event.status in (S.COLLECTING, S.OPEN) and bool(accepted),
            "may_decide": event.status in (S.COLLECTING, S.OPEN),
            "bookings": list(bookings_for_organiser(event)[:500]),
            "figures": event_figures(event),
            "may_nominate": may_nominate(request.user, event),
        },
        status=status,
    )


@require_GET
@staff_required
def manage_detail(request: AuthenticatedRequest, event_id: int) -> HttpResponse:
    return _manage_page(request, access_event(request.user, event_id))


@require_POST
@staff_required
def event_move(request: AuthenticatedRequest, event_id: int) -> HttpResponse:
    event = access_event(request.user, event_id)
    form = MoveForm(request.POST)
    url = reverse("events:manage_detail", args=[event.pk])
    if not form.is_valid():
        messages.error(request, "请求无效，请刷新页面后再试。")
        return redirect(url)
    data = form.cleaned_data
    return run_service(
        request,
        lambda: event_transition(
            event=event, to=data["to"], actor=request.user, version=data["version"]
        ),
        success=f"活动已改为“{S(data['to']).label}”。",
        done_url=url,
    )


@require_POST
@staff_required
def exhibit_decide_view(
    request: AuthenticatedRequest, event_id: int, exhibit_id: int
) -> HttpResponse:
    event = access_event(request.user, event_id)
    exhibit = (
        Exhibit.objects.select_related("event__region").filter(pk=exhibit_id, event=event).first()
    )
    if exhibit is None:
        raise Http404("页面不存在")
    form = DecideForm(request.POST)
    url = reverse("events:manage_detail", args=[event.pk])
    if not form.is_valid():
        messages.error(request, "请选择入选或不入选。")
        return redirect(url)
    data = form.cleaned_data
    return run_service(
        request,
        lambda: exhibit_decide(
            exhibit=exhibit, actor=request.user, accept=data["accept"], reason=data["reason"]
        ),
        success="展项已入选。" if data["accept"] else "已标记为不入选。",
        done_url=url,
    )


@require_POST
@staff_required
def slot_new(request: AuthenticatedRequest, event_id: int) -> HttpResponse:
    event = access_event(request.user, event_id)
    accepted = list(
        Exhibit.objects.filter(event=event, status=Exhibit.Status.ACCEPTED).select_related(
            "demand", "result"
        )
    )
    form = SlotForm(request.POST, exhibits=[(e.pk, e.title) for e in accepted])
    if form.is_valid():
        data = form.cleaned_data
        exhibit = next(e for e in accepted if e.pk == data["exhibit"])
        try:
            slot_create(
                exhibit=exhibit,
                actor=request.user,
                place=data["place"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                capacity=data["capacity"],
            )
        except ServiceError as error:
            form.add_error(None, refusal_text(error))
        else:
            messages.success(request, "已增加对接时段。")
            return redirect("events:manage_detail", event.pk)
    return _manage_page(request, event, slot_form=form, status=400)


@require_http_methods(["GET", "POST"])
@staff_required
def check_in(request: AuthenticatedRequest, event_id: int) -> HttpResponse:
    event = access_event(request.user, event_id)
    form = CheckInForm(request.POST or None)
    checked: Any = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                checked = booking_check_in(
                    event=event, code=form.cleaned_data["code"], actor=request.user
                )
            except ServiceError as error:
                on_code = hasattr(error, "error_dict") and "code" in error.error_dict
                form.add_error("code" if on_code else None, refusal_text(error))
                status = refusal_status(error)
            else:
                form = CheckInForm()
        else:
            status = 400
    return render(
        request,
        "events/checkin.html",
        {"event": event, "form": form, "checked": checked},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def agreement_new(request: AuthenticatedRequest, event_id: int, booking_id: int) -> HttpResponse:
    event = access_event(request.user, event_id)
    booking = access_booking(request.user, event, booking_id)
    form = AgreementForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                agreement_record(booking=booking, actor=request.user, data=form.to_input())
            except ServiceError as error:
                form.add_error(None, refusal_text(error))
                status = refusal_status(error)
            else:
                messages.success(request, "已登记现场签约。")
                return redirect("events:manage_detail", event.pk)
    return render(
        request,
        "events/agreement.html",
        {"event": event, "booking": booking, "form": form},
        status=status,
    )


@require_GET
@staff_required
def report(request: AuthenticatedRequest, event_id: int) -> HttpResponse:
    event = access_event(request.user, event_id)
    agreements = list(
        event.agreements.select_related("exhibit__demand", "exhibit__result", "case").order_by(
            "signed_at", "id"
        )
    )
    return render(
        request,
        "events/report.html",
        {"event": event, "figures": event_figures(event), "agreements": agreements},
    )


# --- staff: nominating centres --------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required
def nominate(request: AuthenticatedRequest, event_id: int) -> HttpResponse:
    user = request.user
    event = access_event_to_nominate(user, event_id)
    url = reverse("events:nominate", args=[event.pk])
    if request.method == "POST":
        form = NominateForm(request.POST)
        if not form.is_valid():
            messages.error(request, "请选择一项需求或一项成果。")
            return redirect(url)
        data = form.cleaned_data
        demand = result = None
        if data["demand"]:
            # Any demand of the user's jurisdiction: the service says why one not published,
            # 不公开 or already nominated is refused; one outside the jurisdiction is a 404.
            demand = (
                jurisdiction_filter(Demand.objects.all(), user=user, region_field="region")
                .select_related("region")
                .filter(pk=data["demand"])
                .first()
            )
            if demand is None:
                raise Http404("页面不存在")
        else:
            result = nominable_results(user, event).filter(pk=data["result"]).first()
            if result is None:
                raise Http404("页面不存在")
        return run_service(
            request,
            lambda: exhibit_nominate(
                event=event, actor=user, demand=demand, result=result, note=data["note"]
            ),
            success="已推荐，等待主办方审核。",
            done_url=url,
        )
    mine = list(
        Exhibit.objects.filter(event=event, centre=user.centre)
        .select_related("demand", "result")
        .order_by("id")
    )
    return render(
        request,
        "events/nominate.html",
        {
            "event": event,
            "mine": mine,
            "demands": list(nominable_demands(user, event)[:100]),
            "results": list(nominable_results(user, event)[:100]),
            "collecting": event.status == S.COLLECTING,
        },
    )
