"""Reads of docking events: the public pages (what an exhibit may show), a person's bookings,
the organiser's lists and the event's figures."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from kejiyun.accounts.models import User
from kejiyun.demands.models import Demand
from kejiyun.events.models import Agreement, Booking, Event, Exhibit, Slot
from kejiyun.regions.selectors import user_jurisdiction
from kejiyun.talent.models import TechResult

PUBLIC_STATUSES = (
    Event.Status.COLLECTING,
    Event.Status.OPEN,
    Event.Status.RUNNING,
    Event.Status.CLOSED,
)


def events_public() -> QuerySet[Event]:
    """Events past their draft, soonest first."""
    return (
        Event.objects.filter(status__in=PUBLIC_STATUSES)
        .select_related("organiser__region")
        .order_by("-starts_at", "-id")
    )


def access_public_event(event_id: int) -> Event | None:
    return events_public().filter(pk=event_id).first()


@dataclass(frozen=True)
class PublicExhibit:
    """What the public page shows of an exhibit: a demand's description only when the demand
    is public (仅公开摘要: title, category and industry)."""

    id: int
    kind: str
    kind_label: str
    title: str
    category: str
    industry: str
    description: str
    slots: list[Slot]


def _public(exhibit: Exhibit) -> PublicExhibit:
    slots = list(exhibit.slots.all())
    if exhibit.demand is not None:
        demand = exhibit.demand
        shows_text = demand.confidentiality == Demand.Confidentiality.PUBLIC
        return PublicExhibit(
            id=exhibit.pk,
            kind=exhibit.kind,
            kind_label=exhibit.get_kind_display(),
            title=demand.title,
            category=demand.get_category_display(),
            industry=demand.industry,
            description=demand.description if shows_text else "",
            slots=slots,
        )
    result = exhibit.result
    assert result is not None
    return PublicExhibit(
        id=exhibit.pk,
        kind=exhibit.kind,
        kind_label=exhibit.get_kind_display(),
        title=result.title,
        category=result.get_kind_display(),
        industry=result.fields,
        description=result.summary,
        slots=slots,
    )


def exhibits_public(event: Event) -> list[PublicExhibit]:
    """The accepted exhibits with their slots (the docking schedule). A demand that became
    不公开 after it was accepted is not shown at all."""
    rows = (
        Exhibit.objects.filter(event=event, status=Exhibit.Status.ACCEPTED)
        .exclude(demand__confidentiality=Demand.Confidentiality.PRIVATE)
        .select_related("demand", "result")
        .prefetch_related(Prefetch("slots", queryset=Slot.objects.order_by("starts_at", "id")))
        .order_by("kind", "id")
    )
    return [_public(e) for e in rows]


def bookings_of(user: User) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(person=user)
        .select_related("event", "slot__exhibit__demand", "slot__exhibit__result")
        .order_by("-slot__starts_at", "-id")
    )


def live_slots_booked_by(user: User, event: Event) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(
        Booking.objects.filter(person=user, event=event, status=Booking.Status.BOOKED).values_list(
            "slot_id", flat=True
        )
    )


def exhibits_for_organiser(event: Event) -> QuerySet[Exhibit]:
    return (
        Exhibit.objects.filter(event=event)
        .select_related("demand", "result", "centre__region")
        .prefetch_related(Prefetch("slots", queryset=Slot.objects.order_by("starts_at", "id")))
        .order_by("status", "kind", "id")
    )


def bookings_for_organiser(event: Event) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(event=event, status=Booking.Status.BOOKED)
        .select_related("person", "slot__exhibit__demand", "slot__exhibit__result", "agreement")
        .order_by("slot__starts_at", "slot_id", "id")
    )


@dataclass(frozen=True)
class EventFigures:
    exhibits: int
    demand_exhibits: int
    result_exhibits: int
    slots: int
    bookings: int
    meetings: int  # bookings checked in
    agreements: int
    amount: Decimal  # 万元
    settled: int  # agreements that settled a demand


def event_figures(event: Event) -> EventFigures:
    """The event's figures in four queries."""
    exhibits = Exhibit.objects.filter(event=event, status=Exhibit.Status.ACCEPTED).aggregate(
        total=Count("pk"),
        demands=Count("pk", filter=Q(kind=Exhibit.Kind.DEMAND)),
        results=Count("pk", filter=Q(kind=Exhibit.Kind.RESULT)),
    )
    bookings = Booking.objects.filter(event=event, status=Booking.Status.BOOKED).aggregate(
        total=Count("pk"), met=Count("pk", filter=Q(checked_in_at__isnull=False))
    )
    agreements = Agreement.objects.filter(event=event).aggregate(
        total=Count("pk"), amount=Sum("amount"), settled=Count("pk", filter=Q(settles=True))
    )
    return EventFigures(
        exhibits=exhibits["total"],
        demand_exhibits=exhibits["demands"],
        result_exhibits=exhibits["results"],
        slots=Slot.objects.filter(event=event).count(),
        bookings=bookings["total"],
        meetings=bookings["met"],
        agreements=agreements["total"],
        amount=agreements["amount"] or Decimal("0"),
        settled=agreements["settled"],
    )


def nominable_demands(user: User, event: Event) -> QuerySet[Demand]:
    """Published demands of the user's jurisdiction that may be exhibited (not 不公开) and
    are not nominated to the event yet."""
    return (
        Demand.objects.filter(
            status=Demand.Status.PUBLISHED, region__path__startswith=_scope(user, event)
        )
        .exclude(confidentiality=Demand.Confidentiality.PRIVATE)
        .exclude(exhibits__event=event)
        .order_by("-published_at", "-id")
    )


def _scope(user: User, event: Event) -> str:
    """The region path a nominating centre may pick from: its own jurisdiction (which lies
    inside the event's region; administrators pick from the event's whole region)."""
    mine = None if user.sees_everything else user_jurisdiction(user)
    return mine.path if mine is not None else event.region.path


def nominable_results(user: User, event: Event) -> QuerySet[TechResult]:
    """Results offered for transfer whose owner (worker or team) is in the user's
    jurisdiction, not nominated to the event yet."""
    scope = _scope(user, event)
    return (
        TechResult.objects.filter(for_transfer=True)
        .filter(
            Q(owner_profile__region__path__startswith=scope)
            | Q(owner_team__region__path__startswith=scope)
        )
        .exclude(exhibits__event=event)
        .order_by("-id")
    )
