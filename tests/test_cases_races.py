"""Concurrent edits of one case never lose an update (docs/requirements/security.md item 23),
on PostgreSQL.

Eight threads, each with its own database connection, make 1,000 edit attempts between
them, each from the version it has just read. Every attempt either lands (the version moves
on by one and leaves one timeline event) or is refused as stale; none is silently lost.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from kejiyun.cases.clock.services import case_pause, case_resume
from kejiyun.cases.errors import CaseError, StaleCase
from kejiyun.cases.models import Case, CaseEvent
from kejiyun.regions.services import regions_load, service_centres_ensure
from tests.builders import make_case, make_staff

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
ATTEMPTS = 125  # per thread: 1,000 in all


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises all writers")
def test_a_thousand_racing_edits_of_one_case_lose_no_update() -> None:
    regions_load()
    service_centres_ensure(province_code="510000")
    alice = make_staff("alice", "510104")
    case = make_case(alice)
    landed: list[int] = []
    stale: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def edit() -> None:
        try:
            start.wait()
            for _ in range(ATTEMPTS):
                seen = Case.objects.select_related("centre__region", "demand").get(pk=case.pk)
                try:
                    if seen.paused_at is None:
                        case_pause(
                            case=seen, actor=alice, reason="等企业", expected_version=seen.version
                        )
                    else:
                        case_resume(case=seen, actor=alice, expected_version=seen.version)
                except StaleCase:
                    stale.append(1)
                except CaseError:
                    # Read "not paused" just before another thread paused it, or the other
                    # way round: a refusal that changed nothing.
                    stale.append(1)
                else:
                    landed.append(1)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=edit) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert len(landed) + len(stale) == THREADS * ATTEMPTS
    assert len(landed) > 0 and len(stale) > 0  # they really raced
    final = Case.objects.get(pk=case.pk)
    assert final.version == 1 + len(landed)
    kinds = list(
        CaseEvent.objects.filter(case=final, kind__in=["paused", "resumed"])
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert len(kinds) == len(landed)
    # Each edit was made on the state the editor saw: pauses and resumes strictly alternate
    # (a lost update would show as two pauses, or two resumes, in a row).
    assert kinds == ["paused", "resumed"] * (len(kinds) // 2) + ["paused"] * (len(kinds) % 2)
