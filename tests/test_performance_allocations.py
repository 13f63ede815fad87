"""Fund allocations (资金分配): computing on a published scheme, per-centre bounds, what-if,
approval by a second person, freezing, exports read back, audit rows, and jurisdiction.

The scheme scores every county centre of Sichuan on cases opened in the first half of 2026,
against a target of 40 (100 points). Rollup rows give 成都市's four central counties known
figures, so their scores are exact and every other county scores 0:

    锦江区 510104  40 cases → 100.00 points
    青羊区 510105  30 cases →  75.00 points
    金牛区 510106  20 cases →  50.00 points
    武侯区 510107  10 cases →  25.00 points

A budget of 10,000 yuan with no base splits 100:75:50:25 → 4,000 / 3,000 / 2,000 / 1,000 yuan.

Pat (province staff) holds the scheme role; Quinn, Pat's colleague, holds the approver role.
Alice (锦江区), Bob (成都市) and Charlie (青川县) are staff of scored centres and see approved
allocations only, and in them only their jurisdiction's lines.
"""

from __future__ import annotations

import io
import re
import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook  # type: ignore[import-untyped]
from pypdf import PdfReader

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.common.errors import NotPermitted
from kejiyun.ops.models import Rollup
from kejiyun.ops.rollups import rollup_areas_refresh
from kejiyun.performance.allocations.services import (
    AllocationError,
    AllocationFrozen,
    StaleAllocation,
    allocation_approve,
    allocation_create,
    allocation_line_bounds,
    allocation_return,
    allocation_submit,
    allocation_update,
)
from kejiyun.performance.models import (
    Allocation,
    AllocationEvent,
    AllocationLine,
    Normalisation,
    Scheme,
    SchemeItem,
)
from kejiyun.regions.models import ServiceCentre
from kejiyun.regions.services import regions_load, service_centres_ensure
from tests.builders import client_for, grant_perms, make_staff, make_worker

MARCH = date(2026, 3, 1)
CASES = {"510104": 40, "510105": 30, "510106": 20, "510107": 10}
YUAN = 100  # fen


def _rollup(code: str, num: int) -> None:
    centre = ServiceCentre.objects.select_related("region").get(region_id=code)
    Rollup.objects.create(
        grain=Rollup.Grain.MONTH,
        start=MARCH,
        indicator="cases_opened",
        centre=centre,
        path=centre.region.path,
        num=Decimal(num),
        den=0,
    )


@pytest.fixture
def pat(db: None) -> User:
    return grant_perms(make_staff("pat", "510000"), "manage_scheme")


@pytest.fixture
def quinn(db: None) -> User:
    return grant_perms(make_staff("quinn", "510000"), "approve_allocation")


@pytest.fixture
def scheme(pat: User) -> Scheme:
    for code, cases in CASES.items():
        _rollup(code, cases)
    rollup_areas_refresh(month=MARCH)
    scheme = Scheme.objects.create(
        name="2026 年上半年区县考核",
        period="2026H1",
        level=Scheme.Level.COUNTY,
        status=Scheme.Status.PUBLISHED,
        created_by=pat,
        published_by=pat,
    )
    SchemeItem.objects.create(
        scheme=scheme,
        indicator="cases_opened",
        weight=Decimal(100),
        normalisation=Normalisation.TARGET,
        target=Decimal(40),
    )
    return scheme


@pytest.fixture
def draft(pat: User, scheme: Scheme) -> Allocation:
    return allocation_create(
        actor=pat, scheme=scheme, name="2026 年上半年区县经费", budget_fen=10_000 * YUAN
    )


@pytest.fixture
def pending(draft: Allocation, pat: User) -> Allocation:
    return allocation_submit(actor=pat, allocation=draft, expected_version=draft.version)


@pytest.fixture
def approved(pending: Allocation, quinn: User) -> Allocation:
    return allocation_approve(actor=quinn, allocation=pending, expected_version=pending.version)


def amounts(allocation: Allocation) -> dict[str, int]:
    """Non-zero amounts by region code."""
    return {
        line.centre.region_id: line.amount_fen
        for line in allocation.lines.select_related("centre")
        if line.amount_fen
    }


def audit_rows(action: AuditAction, outcome: str = "ok") -> int:
    return AuditEvent.objects.filter(action=action, outcome=outcome).count()


def snapshot(allocation: Allocation) -> tuple[object, ...]:
    allocation.refresh_from_db()
    return (
        allocation.status,
        allocation.version,
        allocation.budget_fen,
        allocation.approved_by_id,
        list(
            AllocationLine.objects.filter(allocation=allocation)
            .order_by("centre_id")
            .values_list("centre_id", "amount_fen", "floor_fen", "cap_fen", "score")
        ),
        AllocationEvent.objects.filter(allocation=allocation).count(),
    )


def url(name: str, allocation: Allocation, *args: int) -> str:
    return reverse(f"performance:allocations:{name}", args=[allocation.pk, *args])


# --- Computing ----------------------------------------------------------------------------------


def test_creating_computes_the_split_by_score_and_freezes_scores_and_breakdowns(
    draft: Allocation,
) -> None:
    assert amounts(draft) == {
        "510104": 4000 * YUAN,
        "510105": 3000 * YUAN,
        "510106": 2000 * YUAN,
        "510107": 1000 * YUAN,
    }
    lines = {line.centre.region_id: line for line in draft.lines.select_related("centre")}
    assert len(lines) == ServiceCentre.objects.filter(region__level="county").count()
    assert sum(line.amount_fen for line in lines.values()) == draft.budget_fen
    jinjiang = lines["510104"]
    assert (jinjiang.score, jinjiang.rank, jinjiang.bound) == (Decimal("100.00"), 1, "")
    assert jinjiang.breakdown["total"] == "100.00"
    assert [item["key"] for item in jinjiang.breakdown["lines"]] == ["cases_opened"]
    assert lines["510105"].rank == 2 and lines["510822"].score == 0
    assert [e.action for e in draft.events.all()] == ["create"]
    assert audit_rows(AuditAction.ALLOCATION_CREATE) == 1


def test_base_floor_and_cap_defaults_apply_to_every_centre(pat: User, scheme: Scheme) -> None:
    allocation = allocation_create(
        actor=pat,
        scheme=scheme,
        name="有基础额",
        budget_fen=100_000 * YUAN,
        base_fen=100 * YUAN,
        floor_fen=200 * YUAN,
        cap_fen=25_000 * YUAN,
    )
    counties = ServiceCentre.objects.filter(region__level="county").count()
    lines = list(allocation.lines.select_related("centre"))
    assert sum(line.amount_fen for line in lines) == 100_000 * YUAN
    assert all(200 * YUAN <= line.amount_fen <= 25_000 * YUAN for line in lines)
    # The unscored counties sit at their floor; the rest goes 100:75:50:25, 锦江区 capped.
    rest = 100_000 * YUAN - (counties - 4) * 200 * YUAN
    by_code = {line.centre.region_id: line for line in lines}
    assert by_code["510104"].amount_fen == 25_000 * YUAN and by_code["510104"].bound == "cap"
    assert by_code["510822"].amount_fen == 200 * YUAN and by_code["510822"].bound == "floor"
    # The three others share what is left after the cap in 3:2:1, from a base of 100 yuan.
    left = rest - 25_000 * YUAN - 3 * 100 * YUAN
    assert by_code["510105"].amount_fen == 100 * YUAN + left * 3 // 6


def test_an_infeasible_split_is_refused_with_the_numbers_and_nothing_is_saved(
    pat: User, scheme: Scheme
) -> None:
    with pytest.raises(AllocationError) as refused:
        allocation_create(
            actor=pat,
            scheme=scheme,
            name="上限太低",
            budget_fen=10_000 * YUAN,
            cap_fen=10 * YUAN,
        )
    counties = ServiceCentre.objects.filter(region__level="county").count()
    assert refused.value.messages == [
        f"无法分配：各中心的上限合计 {counties * 10:,}.00 元，不足预算 10,000.00 元："
        "全部封顶后仍有余额，请提高上限或减少预算"
    ]
    assert Allocation.objects.count() == 0
    assert AllocationLine.objects.count() == 0
    assert AuditEvent.objects.filter(action__startswith="allocation.").count() == 0


def test_the_new_page_shows_an_infeasible_split_in_chinese_and_saves_nothing(
    pat: User, scheme: Scheme
) -> None:
    response = client_for(pat).post(
        reverse("performance:allocations:new"),
        {"scheme": scheme.pk, "name": "下限太高", "budget": "1000", "floor": "500"},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "无法分配：各中心的下限（不低于基础额）合计" in text
    assert "超过预算 1,000.00 元" in text
    assert Allocation.objects.count() == 0


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ("", "请填写预算（元）。"),
        ("abc", "预算（元）须是金额，单位元，最多两位小数。"),
        ("1.234", "预算（元）最多两位小数（精确到分）。"),
        ("-5", "预算（元）不能为负数。"),
        ("0", "预算须大于 0 元。"),
        ("2000000000000", "预算（元）不能超过 1 万亿元。"),
    ],
)
def test_bad_budgets_get_a_clear_error_and_nothing_is_saved(
    pat: User, scheme: Scheme, budget: str, message: str
) -> None:
    response = client_for(pat).post(
        reverse("performance:allocations:new"),
        {"scheme": scheme.pk, "name": "测试", "budget": budget},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Allocation.objects.count() == 0


def test_the_new_page_stores_yuan_as_exact_fen(pat: User, scheme: Scheme) -> None:
    response = client_for(pat).post(
        reverse("performance:allocations:new"),
        {"scheme": scheme.pk, "name": "精确到分", "budget": "12345.67", "base": "0.01"},
    )
    allocation = Allocation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("detail", allocation)
    assert (allocation.budget_fen, allocation.base_fen, allocation.cap_fen) == (1234567, 1, None)
    assert sum(line.amount_fen for line in allocation.lines.all()) == 1234567


@pytest.mark.parametrize("picked", ["²", "٣", "99999999999999999999999", "abc", "-1"])
def test_the_new_page_ignores_a_scheme_parameter_that_is_not_an_ascii_number(
    pat: User, scheme: Scheme, picked: str
) -> None:
    # "²".isdigit() is True but int("²") raises: that was a 500.
    response = client_for(pat).get(reverse("performance:allocations:new"), {"scheme": picked})
    assert response.status_code == 200
    assert response.context["form"].initial == {}


def test_only_a_published_scheme_can_be_allocated(pat: User, scheme: Scheme) -> None:
    Scheme.objects.filter(pk=scheme.pk).update(status=Scheme.Status.DRAFT)
    scheme.refresh_from_db()
    with pytest.raises(AllocationError, match="只能按已发布的考核方案编制资金分配"):
        allocation_create(actor=pat, scheme=scheme, name="草稿方案", budget_fen=100)
    assert Allocation.objects.count() == 0


def test_staff_without_the_scheme_role_cannot_create_allocations(
    scheme: Scheme, quinn: User, alice: User
) -> None:
    for user in (quinn, alice):
        with pytest.raises(NotPermitted):
            allocation_create(actor=user, scheme=scheme, name="无权", budget_fen=100)
        assert client_for(user).get(reverse("performance:allocations:new")).status_code == 404
    assert Allocation.objects.count() == 0


def test_one_centre_gets_its_own_cap_the_others_share_the_rest_to_the_fen(
    draft: Allocation, pat: User
) -> None:
    jinjiang = ServiceCentre.objects.get(region_id="510104")
    allocation_line_bounds(
        actor=pat,
        allocation=draft,
        expected_version=draft.version,
        centre_id=jinjiang.pk,
        floor_fen=0,
        cap_fen=3000 * YUAN,
    )
    # 7,000 yuan left in 3:2:1: 3,500 / 2,333.333… / 1,166.666…; the last fen goes to the
    # largest fraction (武侯区's .67).
    assert amounts(draft) == {
        "510104": 300000,
        "510105": 350000,
        "510106": 233333,
        "510107": 116667,
    }
    line = draft.lines.get(centre=jinjiang)
    assert (line.override, line.bound, line.cap_fen) == (True, "cap", 300000)
    # Changing the defaults keeps the centre's own bounds.
    allocation_update(
        actor=pat,
        allocation=draft,
        expected_version=draft.version,
        name=draft.name,
        budget_fen=20_000 * YUAN,
        base_fen=0,
        floor_fen=0,
        cap_fen=None,
    )
    assert amounts(draft)["510104"] == 300000
    assert sum(amounts(draft).values()) == 20_000 * YUAN
    assert audit_rows(AuditAction.ALLOCATION_EDIT) == 2


def test_the_bounds_form_sets_and_resets_a_centres_bounds(draft: Allocation, pat: User) -> None:
    client = client_for(pat)
    jinjiang = ServiceCentre.objects.get(region_id="510104")
    response = client.post(
        url("bounds", draft, jinjiang.pk), {"version": draft.version, "floor": "0", "cap": "3000"}
    )
    assert response.status_code == 302
    assert amounts(draft)["510104"] == 300000
    draft.refresh_from_db()
    response = client.post(
        url("bounds", draft, jinjiang.pk), {"version": draft.version, "reset": "on"}
    )
    assert response.status_code == 302
    assert amounts(draft)["510104"] == 400000
    assert draft.lines.filter(override=True).count() == 0


# --- Approval and freezing ------------------------------------------------------------------


def test_submitting_and_approving_by_a_second_person_writes_one_audit_row_each(
    approved: Allocation, pat: User, quinn: User
) -> None:
    approved.refresh_from_db()
    assert approved.status == Allocation.Status.APPROVED
    assert (approved.submitted_by_id, approved.approved_by_id) == (pat.pk, quinn.pk)
    assert [e.action for e in approved.events.all()] == ["create", "submit", "approve"]
    assert audit_rows(AuditAction.ALLOCATION_SUBMIT) == 1
    assert audit_rows(AuditAction.ALLOCATION_APPROVE) == 1
    row = AuditEvent.objects.get(action=AuditAction.ALLOCATION_APPROVE)
    assert (row.user_id, row.object_type, row.object_id) == (
        quinn.pk,
        "allocation",
        str(approved.pk),
    )
    assert row.detail["to"] == "approved"


def test_whoever_changed_the_draft_may_not_approve_it(draft: Allocation, pat: User) -> None:
    """Two-person control covers every hand on the allocation, not just its creator and
    submitter: an approver who also holds the scheme role and changed the budget before pat
    submitted is refused, and someone who only read it may approve."""
    editor = grant_perms(make_staff("erin", "510000"), "manage_scheme", "approve_allocation")
    changed = allocation_update(
        actor=editor,
        allocation=draft,
        expected_version=draft.version,
        name=draft.name,
        budget_fen=12_000 * YUAN,
        base_fen=draft.base_fen,
        floor_fen=draft.floor_fen,
        cap_fen=draft.cap_fen,
    )
    pending = allocation_submit(actor=pat, allocation=changed, expected_version=changed.version)
    with pytest.raises(NotPermitted):
        allocation_approve(actor=editor, allocation=pending, expected_version=pending.version)
    pending.refresh_from_db()
    assert pending.status == Allocation.Status.PENDING
    assert audit_rows(AuditAction.ALLOCATION_APPROVE, "refused") == 1
    reader = grant_perms(make_staff("rita", "510000"), "approve_allocation")
    done = allocation_approve(actor=reader, allocation=pending, expected_version=pending.version)
    assert (done.status, done.approved_by_id) == (Allocation.Status.APPROVED, reader.pk)


def test_approving_your_own_allocation_is_refused_with_403_and_audited(
    pending: Allocation, pat: User
) -> None:
    pat = grant_perms(pat, "approve_allocation")
    before = snapshot(pending)
    with pytest.raises(NotPermitted):
        allocation_approve(actor=pat, allocation=pending, expected_version=pending.version)
    response = client_for(pat).post(url("approve", pending), {"version": pending.version})
    assert response.status_code == 403
    assert "不能审批自己编制、修改或提交的资金分配" in response.content.decode()
    assert snapshot(pending) == before
    assert audit_rows(AuditAction.ALLOCATION_APPROVE, "refused") == 2
    assert audit_rows(AuditAction.ALLOCATION_APPROVE) == 0


def test_the_detail_page_shows_the_submitter_an_approve_button_that_is_refused(
    pending: Allocation, pat: User
) -> None:
    pat = grant_perms(pat, "approve_allocation")
    text = client_for(pat).get(url("detail", pending)).content.decode()
    assert "这是您编制或提交的资金分配，不能由您本人批准。" in text


def test_staff_without_the_approver_role_cannot_approve(
    pending: Allocation, bob: User, db: None
) -> None:
    nora = make_staff("nora", "510000")  # province staff, no role
    before = snapshot(pending)
    response = client_for(nora).post(url("approve", pending), {"version": pending.version})
    assert response.status_code == 403
    assert "只有具有资金分配审批权限的人员可以审批" in response.content.decode()
    assert client_for(bob).post(url("approve", pending), {"version": 1}).status_code == 404
    assert snapshot(pending) == before


def test_returning_needs_a_reason_and_sends_it_back_to_draft(
    pending: Allocation, quinn: User
) -> None:
    client = client_for(quinn)
    response = client.post(url("return", pending), {"version": pending.version, "reason": ""})
    assert response.status_code == 400
    assert "请填写退回原因。" in response.content.decode()
    response = client.post(
        url("return", pending), {"version": pending.version, "reason": "请核对武侯区下限"}
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.return_reason, pending.submitted_by_id) == (
        "draft",
        "请核对武侯区下限",
        None,
    )
    assert audit_rows(AuditAction.ALLOCATION_RETURN) == 1
    assert pending.events.last().note == "请核对武侯区下限"  # type: ignore[union-attr]


def test_a_pending_allocation_cannot_be_edited(pending: Allocation, pat: User) -> None:
    before = snapshot(pending)
    response = client_for(pat).post(
        url("edit", pending),
        {"version": pending.version, "name": "改", "budget": "1", "base": "", "floor": ""},
    )
    assert response.status_code == 409
    assert "正在审批中，不能修改" in response.content.decode()
    assert snapshot(pending) == before


def test_an_approved_allocation_refuses_every_change_with_409_and_nothing_changes(
    approved: Allocation, pat: User, quinn: User
) -> None:
    approved.refresh_from_db()
    before = snapshot(approved)
    jinjiang = ServiceCentre.objects.get(region_id="510104")
    manager = client_for(grant_perms(pat, "approve_allocation"))
    version = {"version": approved.version}
    posts = [
        (manager, url("edit", approved), {**version, "name": "改", "budget": "1"}),
        (manager, url("bounds", approved, jinjiang.pk), {**version, "cap": "1"}),
        (manager, url("recompute", approved), version),
        (manager, url("submit", approved), version),
        (client_for(quinn), url("return", approved), {**version, "reason": "再看看"}),
        (client_for(quinn), url("approve", approved), version),
    ]
    for client, target, data in posts:
        response = client.post(target, data)
        assert response.status_code == 409, target
        assert "该资金分配已批准，已冻结，不能再修改。" in response.content.decode()
    with pytest.raises(AllocationFrozen):
        allocation_return(
            actor=quinn, allocation=approved, expected_version=approved.version, reason="x"
        )
    assert snapshot(approved) == before


def test_a_stale_page_is_refused_with_409_and_nothing_changes(draft: Allocation, pat: User) -> None:
    allocation_update(
        actor=pat,
        allocation=draft,
        expected_version=draft.version,
        name="第一次修改",
        budget_fen=20_000 * YUAN,
        base_fen=0,
        floor_fen=0,
        cap_fen=None,
    )
    before = snapshot(draft)
    response = client_for(pat).post(
        url("edit", draft),
        {"version": draft.version - 1, "name": "旧页面", "budget": "5000"},
    )
    assert response.status_code == 409
    assert "该记录已被他人修改，请刷新后再试。" in response.content.decode()
    with pytest.raises(StaleAllocation):
        allocation_submit(actor=pat, allocation=draft, expected_version=1)
    assert snapshot(draft) == before


def test_an_infeasible_edit_redraws_the_saved_allocation_and_its_version(
    draft: Allocation, pat: User
) -> None:
    """The split is found infeasible after the version was claimed (rolled back): the page
    must show what is saved, not the refused budget, and carry the saved version, so the
    next step is not refused as stale."""
    before = snapshot(draft)
    client = client_for(pat)
    response = client.post(
        url("edit", draft),
        {"version": draft.version, "name": "上限太低", "budget": "9999", "cap": "10"},
    )
    assert response.status_code == 400
    assert "全部封顶后仍有余额" in response.content.decode()
    assert snapshot(draft) == before
    shown = response.context["allocation"]
    assert (shown.version, shown.budget_fen, shown.name) == (
        draft.version,
        10_000 * YUAN,
        "2026 年上半年区县经费",
    )
    assert response.context["budget_yuan"] == "10,000.00"
    submitted = client.post(url("submit", draft), {"version": shown.version})
    assert submitted.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Allocation.Status.PENDING


def test_a_move_the_table_does_not_list_is_refused(draft: Allocation, quinn: User) -> None:
    before = snapshot(draft)
    with pytest.raises(AllocationError, match="资金分配不能从“草稿”变为“已批准”"):
        allocation_approve(actor=quinn, allocation=draft, expected_version=draft.version)
    assert snapshot(draft) == before


# --- Races (PostgreSQL) -------------------------------------------------------------------------

RACERS = 8


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises all writers")
def test_racing_approvals_and_returns_of_one_pending_allocation_make_exactly_one_move() -> None:
    regions_load()
    service_centres_ensure(province_code="510000")
    pat = grant_perms(make_staff("pat", "510000"), "manage_scheme")
    approvers = [
        grant_perms(make_staff(f"quinn{i}", "510000"), "approve_allocation") for i in range(4)
    ]
    for code, cases in CASES.items():
        _rollup(code, cases)
    scheme = Scheme.objects.create(
        name="竞争", period="2026H1", level="county", status="published", created_by=pat
    )
    SchemeItem.objects.create(
        scheme=scheme, indicator="cases_opened", weight=Decimal(100), target=Decimal(40)
    )
    allocation = allocation_create(actor=pat, scheme=scheme, name="竞争", budget_fen=100_000)
    allocation_submit(actor=pat, allocation=allocation, expected_version=allocation.version)
    version = allocation.version
    landed: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(RACERS)

    def act(index: int) -> None:
        try:
            mine = Allocation.objects.get(pk=allocation.pk)
            approver = approvers[index % len(approvers)]
            start.wait()
            try:
                if index % 2 == 0:
                    allocation_approve(actor=approver, allocation=mine, expected_version=version)
                    landed.append("approved")
                else:
                    allocation_return(
                        actor=approver, allocation=mine, expected_version=version, reason="再核"
                    )
                    landed.append("draft")
            except StaleAllocation:
                refused.append("stale")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    final = Allocation.objects.get(pk=allocation.pk)
    assert errors == []
    assert (len(landed), len(refused)) == (1, RACERS - 1)
    assert (final.status, final.version) == (landed[0], version + 1)
    assert AllocationEvent.objects.filter(allocation=final).count() == 3
    moved = AuditEvent.objects.filter(
        action__in=[AuditAction.ALLOCATION_APPROVE, AuditAction.ALLOCATION_RETURN]
    )
    assert moved.count() == 1


# --- What-if ----------------------------------------------------------------------------------


def test_the_what_if_shows_each_centres_change_and_saves_nothing(
    draft: Allocation, pat: User
) -> None:
    client = client_for(pat)
    before = snapshot(draft)
    audits = AuditEvent.objects.count()
    response = client.get(
        url("whatif", draft),
        {
            "budget": "20000",
            "base": "",
            "floor": "",
            "cap": "",
            "w_cases_opened": "100",
            "t_cases_opened": "20",
            "n_cases_opened": "target",
        },
    )
    assert response.status_code == 200
    rows = {r["code"]: r for r in response.context["rows"]}
    # Target 20: 锦江区, 青羊区 and 金牛区 reach it (100 points each), 武侯区 has 50.
    # 20,000 yuan in 100:100:100:50 → 5,714.29 / 5,714.29 / 5,714.28 / 2,857.14.
    assert [rows[c]["then_yuan"] for c in ("510104", "510105", "510106", "510107")] == [
        "5,714.29",
        "5,714.29",
        "5,714.28",
        "2,857.14",
    ]
    assert rows["510105"]["now_yuan"] == "3,000.00"
    assert rows["510105"]["diff_fen"] == 571429 - 300000
    assert rows["510105"]["rank_up"] == 1  # 2nd → shares 1st
    assert response.context["total_then"] == "20,000.00"
    assert response.context["total_now"] == "10,000.00"
    text = response.content.decode()
    assert 'data-testid="whatif"' in text and "table-success" in text
    assert snapshot(draft) == before
    assert AuditEvent.objects.count() == audits


def test_the_what_if_without_input_shows_the_current_values(draft: Allocation, pat: User) -> None:
    response = client_for(pat).get(url("whatif", draft))
    assert response.status_code == 200
    assert response.context["result"] is None
    assert 'name="budget" value="10000' in response.content.decode()


def test_an_infeasible_what_if_explains_why(draft: Allocation, pat: User) -> None:
    response = client_for(pat).get(
        url("whatif", draft),
        {
            "budget": "100",
            "floor": "1",
            "w_cases_opened": "100",
            "t_cases_opened": "40",
            "n_cases_opened": "target",
        },
    )
    assert response.status_code == 400
    assert "超过预算 100.00 元" in response.content.decode()


# --- Exports ----------------------------------------------------------------------------------


def _flat(text: str) -> str:
    return re.sub(r"[\s\x00]+", "", text)


def test_the_workbook_reads_back_with_exact_amounts_and_the_approval(
    approved: Allocation, pat: User
) -> None:
    response = client_for(pat).get(url("xlsx", approved))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["分配"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "2026 年上半年区县经费"
    assert rows[3][3].startswith("已批准（Quinn，")
    header = rows.index(
        (
            "名次",
            "服务中心",
            "区划代码",
            "得分",
            "基础额（元）",
            "下限（元）",
            "上限（元）",
            "分配额（元）",
            "受限于",
        )
    )
    body = rows[header + 1 : -1]
    by_code = {r[2]: r for r in body}
    assert by_code["510104"][7] == 4000 and by_code["510107"][7] == 1000
    assert sum(Decimal(str(r[7])) for r in body) == Decimal(10000)
    assert rows[-1][0] == "合计" and rows[-1][8] == "10,000.00 元"
    assert "得分明细" in book.sheetnames
    assert audit_rows(AuditAction.ALLOCATION_EXPORT) == 1


def test_the_pdf_reads_back_with_the_approval_and_the_total(
    approved: Allocation, pat: User
) -> None:
    response = client_for(pat).get(url("pdf", approved))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    # The first page (pypdf garbles later pages' text once the font subset holds many glyphs;
    # the file itself is fine).
    text = _flat(PdfReader(io.BytesIO(response.content)).pages[0].extract_text())
    assert "已批准（Quinn，" in text
    assert "锦江区" in text and "4,000.00" in text
    counties = ServiceCentre.objects.filter(region__level="county").count()
    assert f"分配合计：10,000.00元（{counties}个服务中心）" in text
    assert audit_rows(AuditAction.ALLOCATION_EXPORT) == 1
    assert approved.events.filter(action="export").count() == 1


# --- Jurisdiction and pages ---------------------------------------------------------------------


def test_county_and_city_staff_see_only_their_jurisdictions_lines_of_approved_allocations(
    approved: Allocation, alice: User, bob: User, charlie: User
) -> None:
    alice_page = client_for(alice).get(url("detail", approved)).content.decode()
    assert "锦江区" in alice_page and "青羊区" not in alice_page and "4,000.00" in alice_page
    bob_page = client_for(bob).get(url("detail", approved)).content.decode()
    assert "青羊区" in bob_page and "武侯区" in bob_page and "青川县" not in bob_page
    charlie_page = client_for(charlie).get(url("detail", approved)).content.decode()
    assert "青川县" in charlie_page and "锦江区" not in charlie_page
    for user in (alice, bob, charlie):
        client = client_for(user)
        for name in ("xlsx", "pdf", "whatif"):
            assert client.get(url(name, approved)).status_code == 404
    assert audit_rows(AuditAction.ALLOCATION_EXPORT) == 0


def test_county_staff_get_404_on_drafts_and_pending_allocations(
    pending: Allocation, alice: User, bob: User
) -> None:
    before = snapshot(pending)
    for user in (alice, bob):
        client = client_for(user)
        assert client.get(url("detail", pending)).status_code == 404
        assert client.post(url("submit", pending), {"version": 1}).status_code == 404
        assert client.post(url("return", pending), {"version": 2, "reason": "x"}).status_code == 404
        list_page = client.get(reverse("performance:allocations:list"))
        assert list_page.context["allocations"] == []
    assert snapshot(pending) == before


def test_every_url_answers_each_role_as_the_rules_say(
    draft: Allocation, pat: User, quinn: User, alice: User, erin: User
) -> None:
    jinjiang = ServiceCentre.objects.get(region_id="510104")
    gets = ["list", "new", "detail", "whatif", "xlsx", "pdf"]
    expected: dict[str, dict[str, int]] = {
        "pat": dict.fromkeys(gets, 200),
        "quinn": {**dict.fromkeys(gets, 200), "new": 404},
        "alice": {**dict.fromkeys(gets, 404), "list": 200},
        "erin": dict.fromkeys(gets, 404),
    }
    for user in (pat, quinn, alice, erin):
        client = client_for(user)
        for name in gets:
            target = reverse(
                "performance:allocations:" + name,
                args=[] if name in ("list", "new") else [draft.pk],
            )
            assert client.get(target).status_code == expected[user.username][name], (user, name)
    before = snapshot(draft)
    for user, status in ((quinn, 403), (alice, 404), (erin, 404)):
        client = client_for(user)
        for target in (
            url("recompute", draft),
            url("submit", draft),
            url("bounds", draft, jinjiang.pk),
        ):
            assert client.post(target, {"version": draft.version}).status_code == status
        edit = {"version": draft.version, "name": "改", "budget": "1"}
        assert client.post(url("edit", draft), edit).status_code == status
    for user in (alice, erin):
        client = client_for(user)
        for name in ("approve", "return"):
            response = client.post(url(name, draft), {"version": draft.version, "reason": "x"})
            assert response.status_code == 404
    assert client_for(pat).get(url("submit", draft)).status_code == 405
    assert snapshot(draft) == before
    anonymous = client_for(pat)
    anonymous.logout()
    assert anonymous.get(url("detail", draft)).status_code == 302


def test_the_list_takes_the_same_number_of_queries_however_many_allocations(
    pat: User, scheme: Scheme
) -> None:
    client = client_for(pat)
    allocation_create(actor=pat, scheme=scheme, name="一", budget_fen=100_000)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("performance:allocations:list"))
        assert response.status_code == 200
        return len(queries)

    count()  # the first request also fills the caches of permissions and content types
    one = count()
    assert one == 5
    for n in range(3):
        allocation_create(actor=pat, scheme=scheme, name=f"第{n}", budget_fen=100_000)
    assert count() == one


def test_the_staff_menu_links_to_allocations(pat: User, draft: Allocation) -> None:
    text = client_for(pat).get(reverse("performance:allocations:list")).content.decode()
    assert f'href="{reverse("performance:allocations:list")}"' in text
    assert "2026 年上半年区县经费" in text and "10,000.00" in text


def test_no_url_of_integrity_or_performance_serves_anyone_but_staff(
    approved: Allocation, erin: User, dora: User, rita: User
) -> None:
    """Every URL of /integrity/ and /performance/ (GET and POST): the login page for an
    anonymous visitor, 404 or 405 for a worker, an enterprise, a citizen and a reviewer, and
    nothing changes (brief item 6, SECURITY item 8)."""
    from django.urls import get_resolver

    from kejiyun.integrity.models import Flag, Kind, Subject

    centre = ServiceCentre.objects.get(region_id="510104")
    flag = Flag.objects.create(
        kind=Kind.DUPLICATE_DEMAND,
        subject_type=Subject.DEMAND,
        subject_id=1,
        centre=centre,
        day=MARCH,
        reason="同出一个模板",
        confidence=0.9,
    )
    args = {
        "flag_id": flag.pk,
        "scheme_id": approved.scheme_id,
        "allocation_id": approved.pk,
        "centre_id": centre.pk,
    }
    targets: list[str] = []

    def walk(namespace: str, resolver: Any) -> None:
        for name, entries in resolver.reverse_dict.lists():
            if not isinstance(name, str):
                continue
            for _bits, pattern, _defaults, _converters in entries:
                params = re.findall(r"\(\?P<(\w+)>", pattern)
                kwargs = {p: args[p] for p in params}
                targets.append(reverse(f"{namespace}:{name}", kwargs=kwargs))
        for child, (_prefix, sub) in resolver.namespace_dict.items():
            walk(f"{namespace}:{child}", sub)

    for namespace in ("integrity", "performance"):
        walk(namespace, get_resolver().namespace_dict[namespace][1])
    targets = sorted({t for t in targets if t})
    assert any("/decide/" in t for t in targets) and any("/approve/" in t for t in targets)
    before = snapshot(approved), Flag.objects.values_list("status", "version").get()
    worker = make_worker("wendy", "510104", "13800000077").user
    for user in (None, worker, erin, dora, rita):
        client = client_for(user) if user is not None else client_for(erin)
        if user is None:
            client.logout()
        for target in targets:
            for method in ("get", "post"):
                body = {"version": 1, "decision": "confirm", "reason": "x", "budget": "1"}
                answer = getattr(client, method)(target, body if method == "post" else {})
                allowed = (302, 405) if user is None else (404, 405)
                assert answer.status_code in allowed, (user, method, target, answer.status_code)
                if answer.status_code == 302:
                    assert "/login" in answer["Location"], (method, target)
    assert (snapshot(approved), Flag.objects.values_list("status", "version").get()) == before
