"""Concurrent scheme writes on PostgreSQL (SECURITY item 23; item 10's one published scheme per
period and level).

Eight threads, each with its own connection, make 1,000 edits of one draft between them, each
from the version it has just read: every attempt lands (the version moves on by one) or is
refused as stale; none is lost, and the items are always those of one whole edit. Then eight
threads publish eight drafts of the same period and level at once: exactly one is published.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, connections

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.performance.models import Scheme
from kejiyun.performance.schemes.services import (
    ItemInput,
    SchemeInput,
    SchemeRefused,
    StaleScheme,
    scheme_create,
    scheme_publish,
    scheme_update,
)
from kejiyun.regions.services import regions_load, service_centres_ensure
from tests.builders import make_staff

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises all writers"),
]

THREADS = 8
ATTEMPTS = 125  # per thread: 1,000 in all


def _manager() -> User:
    regions_load()
    service_centres_ensure(province_code="510000")
    pat = make_staff("pat", "510000")
    pat.user_permissions.add(Permission.objects.get(codename="manage_scheme"))
    return User.objects.get(pk=pat.pk)


def _data(name: str, weights: tuple[int, int]) -> SchemeInput:
    return SchemeInput(
        name=name,
        period="2026H1",
        level=Scheme.Level.COUNTY,
        note="",
        discount_open_above=None,
        items=[
            ItemInput("cases_closed", Decimal(weights[0]), "target", Decimal(10)),
            ItemInput("satisfaction_mean", Decimal(weights[1]), "minmax", None),
        ],
    )


def _race(work: object) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def run(index: int) -> None:
        try:
            start.wait()
            work(index)  # type: ignore[operator]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_a_thousand_racing_edits_of_one_draft_lose_no_update() -> None:
    pat = _manager()
    scheme = scheme_create(actor=pat, data=_data("起始", (50, 50)))
    landed: list[int] = []
    stale: list[int] = []

    def edit(index: int) -> None:
        for n in range(ATTEMPTS):
            seen = Scheme.objects.get(pk=scheme.pk)
            weights = (n % 99 + 1, 100 - (n % 99 + 1))
            try:
                scheme_update(
                    actor=pat,
                    scheme=seen,
                    expected_version=seen.version,
                    data=_data(f"线程{index}-{n}-{weights[0]}", weights),
                )
            except StaleScheme:
                stale.append(1)
            else:
                landed.append(1)

    assert _race(edit) == []
    assert len(landed) + len(stale) == THREADS * ATTEMPTS
    assert len(landed) > 0 and len(stale) > 0  # they really raced
    final = Scheme.objects.get(pk=scheme.pk)
    assert final.version == 1 + len(landed)
    # The items are those of the edit that landed last, whole.
    first_weight = int(final.name.rsplit("-", 1)[1])
    assert [(i.indicator, int(i.weight)) for i in final.items.all()] == [
        ("cases_closed", first_weight),
        ("satisfaction_mean", 100 - first_weight),
    ]


def test_racing_publishes_of_one_period_and_level_publish_exactly_one() -> None:
    pat = _manager()
    drafts = [scheme_create(actor=pat, data=_data(f"方案{i}", (60, 40))) for i in range(THREADS)]
    published: list[int] = []
    refused: list[int] = []

    def publish(index: int) -> None:
        draft = Scheme.objects.get(pk=drafts[index].pk)
        try:
            scheme_publish(actor=pat, scheme=draft, expected_version=draft.version)
        except SchemeRefused:
            refused.append(index)
        else:
            published.append(index)

    assert _race(publish) == []
    assert len(published) == 1 and len(refused) == THREADS - 1
    assert Scheme.objects.filter(status=Scheme.Status.PUBLISHED).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.SCHEME_PUBLISH).count() == 1
