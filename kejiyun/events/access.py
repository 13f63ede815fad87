"""Who may do what with an event.

- The organiser: staff whose jurisdiction holds the event's region (the province centre's
  staff for the 服务大会; the city's and the province's for a city's 科创会), and
  administrators. They manage the event, decide exhibits, open slots, check people in and
  record agreements.
- Nominating centres: staff of a centre inside the event's region, who nominate demands and
  results of their own jurisdiction.
Everyone else gets a 404 on the staff pages (`access_event`, `access_event_to_nominate`).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from kejiyun.accounts.models import User
from kejiyun.events.models import Booking, Event
from kejiyun.regions.selectors import jurisdiction_filter, region_in_jurisdiction, user_jurisdiction


def may_organise(user: User, event: Event) -> bool:
    return region_in_jurisdiction(user, event.region)


def may_nominate(user: User, event: Event) -> bool:
    if not user.is_authenticated or not user.is_centre_staff:
        return False
    mine = user_jurisdiction(user)
    return mine is not None and event.region.contains(mine)


def events_for_staff(user: User) -> QuerySet[Event]:
    """The events a staff member organises or may nominate to (their centre lies inside)."""
    base = Event.objects.select_related("organiser__region", "region").order_by("-starts_at", "-id")
    if user.sees_everything:
        return base
    mine = user_jurisdiction(user) if user.is_centre_staff else None
    if mine is None:
        return base.none()
    ancestors = mine.ancestor_codes
    organised = jurisdiction_filter(base, user=user, region_field="region").values("pk")
    return base.filter(Q(pk__in=organised) | Q(region_id__in=ancestors))


def access_event(user: User, event_id: int) -> Event:
    """The event `user` organises, or 404."""
    event = (
        jurisdiction_filter(
            Event.objects.select_related("organiser__region", "region"),
            user=user,
            region_field="region",
        )
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        raise Http404("页面不存在")
    return event


def access_event_to_nominate(user: User, event_id: int) -> Event:
    """The event `user`'s centre may nominate exhibits to, or 404."""
    event = events_for_staff(user).filter(pk=event_id).first()
    if event is None or not may_nominate(user, event):
        raise Http404("页面不存在")
    return event


def access_booking(user: User, event: Event, booking_id: int) -> Booking:
    """A booking of an event the user organises (already checked with `access_event`)."""
    booking = (
        Booking.objects.select_related("slot__exhibit__demand", "slot__exhibit__result", "person")
        .filter(pk=booking_id, event=event)
        .first()
    )
    if booking is None or not may_organise(user, event):
        raise Http404("页面不存在")
    return booking


def access_own_booking(user: User, booking_id: int) -> Booking:
    booking = (
        Booking.objects.select_related("slot__exhibit", "event")
        .filter(pk=booking_id, person_id=user.pk)
        .first()
    )
    if booking is None:
        raise Http404("页面不存在")
    return booking
