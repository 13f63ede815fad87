"""The staff case page from the page cache (issue 16, "fast pages"): its record (timeline,
visits, notes, attachments, dockings) is kept under `case_record_freshness`, its top under
the values it shows, its blank forms per language and the staff to hand the case to per
jurisdiction. Every change through the services shows on the next request; nobody is
shown another jurisdiction's part; the page is right with the cache down; personal data
in it is masked whether cached or not (the case page has no unmasking).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
import time_machine
from django.db.models import Model
from django.test import Client
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.accounts.unmask import unmaskable_page
from kejiyun.cases.clock.services import case_escalate, case_pause
from kejiyun.cases.dockings.services import docking_send
from kejiyun.cases.models import (
    Case,
    CaseAttachment,
    CaseEvent,
    CaseNote,
    CaseVisit,
    DockingRequest,
    Step,
)
from kejiyun.cases.workflow.selectors import case_record_freshness
from kejiyun.cases.workflow.services import (
    case_attachment_add,
    case_note_add,
    case_transition,
    case_visit_add,
)
from kejiyun.demands.models import Demand
from kejiyun.privacy.services import CANCELLED_NAME, CONFIRM_PHRASE, Cancellation, account_cancel
from kejiyun.talent.models import TalentProfile
from kejiyun.talent.services import ProfileData, talent_profile_update
from tests.builders import (
    PASSWORD,
    case_to_matching,
    client_for,
    make_case,
    make_staff,
    make_tea_expert,
    pdf_upload,
)


def page(client: Client, case: Case) -> str:
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def cached_page(client: Client, case: Case) -> str:
    """The page asked twice: the second comes from the page cache."""
    page(client, case)
    return page(client, case)


def apply(worker: TalentProfile, case: Case, message: str = "我可以到茶园现场指导。") -> None:
    response = client_for(worker.user).post(
        f"/cases/apply/{case.demand_id}/", {"message": message}, follow=True
    )
    assert response.status_code == 200


@pytest.fixture
def case(alice: User) -> Case:
    return case_to_matching(make_case(alice), alice)


# --- A change shows on the next request ------------------------------------------------------


def test_each_change_through_the_services_shows_on_the_next_request(
    alice: User, case: Case
) -> None:
    client = client_for(alice)
    assert "茶园土壤取样" not in cached_page(client, case)

    case_note_add(case=case, actor=alice, body="茶园土壤取样已送检")
    assert "茶园土壤取样已送检" in page(client, case)

    case_visit_add(
        case=case,
        actor=alice,
        visited_on=date(2026, 5, 1),
        place="蒙顶山茶园",
        people="张三、李四",
        outcome="查看了虫害情况",
    )
    assert "蒙顶山茶园" in page(client, case)

    case_attachment_add(case=case, actor=alice, upload=pdf_upload(), name="检测报告")
    assert "检测报告" in page(client, case)

    case_pause(case=Case.objects.get(pk=case.pk), actor=alice, reason="等待企业补充土壤数据")
    shown = page(client, case)
    assert "等待企业补充土壤数据" in shown and "恢复计时" in shown

    tina = make_tea_expert()
    apply(tina, case)
    shown = page(client, case)
    assert 'data-testid="pending-dockings"' in shown and "我可以到茶园现场指导。" in shown
    docking = DockingRequest.objects.get(expert=tina)
    response = client.post(f"/cases/{case.pk}/dockings/{docking.pk}/decide/", {"approve": "1"})
    assert response.status_code == 302
    shown = page(client, case)
    assert 'data-testid="pending-dockings"' not in shown
    assert f'data-docking="{docking.pk}"' in shown and "已接受" in shown
    assert f'data-testid="step">{Step.DOCKING.label}<' in shown

    case_transition(case=Case.objects.get(pk=case.pk), to_step=Step.AGREEMENT, actor=alice)
    shown = page(client, case)
    assert f'data-testid="step">{Step.AGREEMENT.label}<' in shown
    assert 'data-to="agreement"' in shown  # the timeline's row of the move


def test_a_docking_sent_and_a_workers_edit_and_cancellation_show_at_once(
    alice: User, case: Case
) -> None:
    client = client_for(alice)
    tina = make_tea_expert()
    sent = docking_send(case=case, expert=tina, actor=alice)
    shown = cached_page(client, case)
    assert f'data-docking="{sent.pk}">Tina · 待答复' in shown

    # The pending list shows the worker's employer: her own edit moves the talent generation.
    apply(make_tea_expert("tom", "13900000002"), case)
    tom = TalentProfile.objects.get(user__username="tom")
    assert "四川农业大学" in cached_page(client, case)
    talent_profile_update(
        profile=tom,
        actor=tom.user,
        data=ProfileData(
            employer="雅安茶叶研究所",
            title=tom.title,
            fields=tom.fields,
            keywords=tom.keywords,
            capability=tom.capability,
            service_modes=[],
            capacity=tom.capacity,
        ),
        expected_version=tom.version,
    )
    assert "雅安茶叶研究所" in page(client, case)

    # A cancelled account's name goes from every part of the page at once.
    account_cancel(
        user=tina.user, cancellation=Cancellation(password=PASSWORD, confirmation=CONFIRM_PHRASE)
    )
    assert f'data-docking="{sent.pk}">{CANCELLED_NAME} · ' in page(client, case)


def test_a_change_made_without_the_services_shows_in_the_top_of_the_page_at_once(
    alice: User, case: Case
) -> None:
    """The top of the page is kept under the values it shows: a demand edited, an
    enterprise renamed or a consent recorded without moving the case's version shows."""
    client = client_for(alice)
    cached_page(client, case)
    Demand.objects.filter(pk=case.demand_id).update(description="改为茶叶加工工艺改进")
    assert "改为茶叶加工工艺改进" in page(client, case)
    case.demand.organisation.__class__.objects.filter(pk=case.demand.organisation_id).update(
        name="蒙顶茶业集团"
    )
    assert "蒙顶茶业集团" in page(client, case)
    Case.objects.filter(pk=case.pk).update(library_consent_at=timezone.now())
    assert 'data-testid="library-status"' in page(client, case)


def test_the_overdue_badge_shows_once_the_due_time_passes(alice: User) -> None:
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        case = case_to_matching(make_case(alice), alice)
        due = case.due_at
        assert due is not None
        clock.move_to(due - timedelta(minutes=1))
        client = client_for(alice)
        assert "已超时" not in cached_page(client, case)
        clock.move_to(due + timedelta(minutes=1))
        assert "已超时" in page(client, case)


def test_a_row_written_without_a_timeline_event_still_moves_the_freshness(
    alice: User, case: Case
) -> None:
    """Every change through the services adds a timeline event; the freshness also counts
    and reads the newest row of each table the record shows, so a row added or removed
    any other way (the admin site, a shell) shows too."""
    experts = [make_tea_expert(), make_tea_expert("tom", "13900000002")]
    rows: list[Callable[[int], Model]] = [
        lambda n: CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.NOTE, reason="x"),
        lambda n: CaseNote.objects.create(case=case, author=alice, body="x"),
        lambda n: CaseVisit.objects.create(
            case=case, visited_on=date(2026, 5, 1), place="x", people="x", outcome="x"
        ),
        lambda n: CaseAttachment.objects.create(case=case, name="x", file="cases/attachments/x"),
        lambda n: DockingRequest.objects.create(case=case, expert=experts[n]),
    ]
    seen = {case_record_freshness(case_id=case.pk)}

    def moved(row: Model) -> None:
        now = case_record_freshness(case_id=case.pk)
        assert now not in seen, row
        seen.add(now)

    for add in rows:
        first = add(0)
        moved(first)
        moved(add(1))
        first.delete()  # not the newest row: the count tells
        moved(first)


# --- Nobody is shown another's part ----------------------------------------------------------


def test_another_county_is_refused_before_the_cache_is_read(
    alice: User, charlie: User, case: Case
) -> None:
    case_note_add(case=case, actor=alice, body="只有锦江区看得到的备注")
    assert "只有锦江区看得到的备注" in cached_page(client_for(alice), case)
    assert client_for(charlie).get(f"/cases/{case.pk}/").status_code == 404


def test_forms_and_the_staff_to_hand_to_follow_the_viewer_not_the_cache(
    alice: User, bob: User
) -> None:
    """The county's list of staff to hand the case to, cached first, is never shown to the
    city (nor the city's to the county); after escalation the county still reads the same
    record but is shown no form."""
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        case = case_to_matching(make_case(alice), alice)
        case_note_add(case=case, actor=alice, body="县中心的备注")
        county, city = client_for(alice), client_for(bob)
        bob_option = f'<option value="{bob.pk}">'
        shown = cached_page(county, case)
        assert f'<option value="{alice.pk}">' in shown and bob_option not in shown
        shown = cached_page(city, case)
        assert bob_option in shown and "县中心的备注" in shown
        assert bob_option not in page(county, case)

        clock.shift(timedelta(days=30))
        assert case_escalate(case=Case.objects.get(pk=case.pk))
        county, city = client_for(alice), client_for(bob)  # signed in again after a month
        shown = page(county, case)
        assert "县中心的备注" in shown and "超时升级" in shown
        assert "您只能查看" in shown and 'name="body"' not in shown and bob_option not in shown
        shown = page(city, case)
        assert 'name="body"' in shown and bob_option in shown


def test_each_viewer_posts_the_cached_forms_with_their_own_csrf_token(
    alice: User, case: Case
) -> None:
    """The forms come from the page cache without a token: each page carries its own
    session's, and a note posted with it is taken."""
    alice_too = make_staff("alice2", "510104")
    for user, body in ((alice, "第一位的备注"), (alice_too, "第二位的备注")):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        shown = cached_page(client, case)
        assert "csrf-slot" not in shown
        note_form = shown[shown.index(f'action="/cases/{case.pk}/notes/"') :]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', note_form)
        assert token is not None
        response = client.post(
            f"/cases/{case.pk}/notes/", {"body": body, "csrfmiddlewaretoken": token[1]}
        )
        assert response.status_code == 302
        assert body in page(client, case)


def test_a_form_handed_back_with_its_errors_is_drawn_with_them(alice: User, case: Case) -> None:
    client = client_for(alice)
    blank = cached_page(client, case)
    assert "is-invalid" not in blank
    response = client.post(f"/cases/{case.pk}/attachments/", {"name": "没有文件"})
    assert response.status_code == 400
    assert "is-invalid" in response.content.decode()
    assert "is-invalid" not in page(client, case)


# --- The cache is never needed for a right answer --------------------------------------------


def test_with_the_cache_down_the_page_is_built_from_the_database(
    alice: User, case: Case, cache_down: None
) -> None:
    client = client_for(alice)
    case_note_add(case=case, actor=alice, body="缓存故障时的备注")
    shown = page(client, case)
    assert "缓存故障时的备注" in shown and 'name="body"' in shown
    assert f'<option value="{alice.pk}">' in shown
    case_note_add(case=case, actor=alice, body="又一条备注")
    assert "又一条备注" in page(client, case)


# --- Personal data ----------------------------------------------------------------------------


def test_personal_data_in_the_record_is_masked_cached_or_not(alice: User, case: Case) -> None:
    """The case page offers no unmasking, so what it keeps is always masked."""
    assert unmaskable_page("cases:detail") is None
    case_note_add(case=case, actor=alice, body="企业联系人电话 13800138000")
    client = client_for(alice)
    for _ in range(2):
        shown = page(client, case)
        assert "13800138000" not in shown and "138****8000" in shown
