"""Domain events → webhook deliveries (ADR 0015).

`kejiyun.common.signals.domain_event` is sent inside the transaction of the write that made
the event happen; here each event becomes one outbox message per active subscription to it
whose owner may see the object, by the same access selectors as the pages: a published
demand anyone may open from the hall (else staff whose jurisdiction holds it, or its own
enterprise); a closed case staff whose jurisdiction holds it, or the case's enterprise users.
The body carries the event and the object's public fields only."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import Http404
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.api.models import ApiToken, WebhookSubscription
from kejiyun.api.tokens import token_family_revoke
from kejiyun.api.webhooks import ADDRESS_PREFIX, SOURCE
from kejiyun.cases.models import Case
from kejiyun.cases.workflow.selectors import access_case, access_case_for_enterprise
from kejiyun.common.masking import mask_personal_text
from kejiyun.common.signals import CASE_CLOSED, DEMAND_PUBLISHED, domain_event
from kejiyun.demands.models import Demand
from kejiyun.demands.selectors import access_demand, access_own_demand, access_published_demand
from kejiyun.notifications.models import Channel
from kejiyun.notifications.services import outbox_enqueue


def _sees(user: User, *lookups: Any) -> bool:
    for lookup in lookups:
        try:
            lookup()
        except Http404:
            continue
        return True
    return False


def _demand_visible(user: User, demand: Demand) -> bool:
    return _sees(
        user,
        lambda: access_published_demand(demand.pk),
        lambda: access_demand(user, demand.pk),
        lambda: access_own_demand(user, demand.pk),
    )


def _case_visible(user: User, case: Case) -> bool:
    return _sees(
        user,
        lambda: access_case(user, case.pk),
        lambda: access_case_for_enterprise(user, case.pk),
    )


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _demand_data(demand: Demand) -> dict[str, Any]:
    return {
        "id": demand.pk,
        "title": mask_personal_text(demand.title),
        "category": demand.category,
        "industry": demand.industry,
        "region_code": demand.region_id,
        "published_at": _iso(demand.published_at),
    }


def _case_data(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "demand_id": case.demand_id,
        "step": case.step,
        "outcome": case.outcome,
        "closed_at": _iso(case.closed_at),
    }


EVENTS: dict[str, tuple[Callable[[User, Any], bool], Callable[[Any], dict[str, Any]]]] = {
    DEMAND_PUBLISHED: (_demand_visible, _demand_data),
    CASE_CLOSED: (_case_visible, _case_data),
}


@receiver(domain_event, dispatch_uid="api_webhook_deliveries")
def webhook_deliveries(sender: Any, name: str, instance: Any, **kwargs: Any) -> int:
    """Queue the event for every subscription that should hear of it; returns how many."""
    if name not in EVENTS:
        return 0
    visible, data = EVENTS[name]
    subscriptions = [
        s
        for s in WebhookSubscription.objects.live().select_related("owner").order_by("pk")
        if name in (s.events or [])
    ]
    if not subscriptions:
        return 0
    payload = {
        "id": str(uuid.uuid4()),
        "event": name,
        "occurred_at": timezone.now().isoformat(),
        "data": data(instance),
    }
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    queued = 0
    for subscription in subscriptions:
        if not visible(subscription.owner, instance):
            continue
        outbox_enqueue(
            channel=Channel.WEBHOOK,
            recipient=subscription.owner,
            address=f"{ADDRESS_PREFIX}{subscription.pk}",
            title=name,
            body=body,
            idempotency_key=f"webhook:{subscription.pk}:{name}:{instance.pk}",
            source=SOURCE,
        )
        queued += 1
    return queued


@receiver(post_save, sender=User, dispatch_uid="api_pairs_end_with_the_password")
def signed_in_pairs_end_with_the_password(sender: Any, instance: User, **kwargs: Any) -> int:
    """A new password (changed on the page, reset by SMS, set by an administrator) ends the
    account's signed-in pairs, as it ends its other sessions (SECURITY item 5): whoever
    copied a phone's refresh token must sign in again. Personal access tokens and partner
    clients were made on purpose and are revoked on their own pages.

    `set_password` keeps the new raw password in `_password` until the save is done, which
    is how Django itself knows, in `AbstractBaseUser.save`, that the password changed."""
    if kwargs.get("created") or getattr(instance, "_password", None) is None:
        return 0  # a new account has no tokens yet
    families = set(
        ApiToken.objects.filter(
            user=instance,
            kind__in=(ApiToken.Kind.ACCESS, ApiToken.Kind.REFRESH),
            revoked_at__isnull=True,
        ).values_list("family", flat=True)
    )
    moment = timezone.now()
    return sum(token_family_revoke(family=family, now=moment) for family in families if family)
