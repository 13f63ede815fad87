"""The integrity scan over real records (flags created, kept, updated, withdrawn; idempotent),
decisions on flags (who may decide, version, audit), the pages, and the footprints."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from kejiyun.accounts.models import Footprint, Organisation, User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.cases.models import Case
from kejiyun.common.errors import NotPermitted, Stale
from kejiyun.common.workdays import BEIJING
from kejiyun.demands.models import Demand
from kejiyun.integrity.models import ChangedDay, Flag, Kind, ScanState, Subject
from kejiyun.integrity.services import (
    FlagError,
    flag_decide,
    integrity_scan,
    integrity_scan_due,
)
from kejiyun.regions.models import ServiceCentre
from tests.builders import PASSWORD, client_for, make_case, make_enterprise, make_staff

pytestmark = pytest.mark.django_db

JJ = "510104"  # 锦江区, a county of 成都市
WH = "510107"  # 武侯区, another county of 成都市
ZG = "510302"  # 自流井区, a county of 自贡市

TEMPLATE = (
    "我公司主要生产{p}，年产量约三千吨，烘干工序沿用多年前的老设备，能耗高、效率低，"
    "产品合格率长期在百分之八十左右徘徊，旺季订单交付困难，希望引进先进技术进行改造升级"
)


def _submitted(org: Organisation, title: str, text: str, at: datetime) -> Demand:
    return Demand.objects.create(
        organisation=org,
        region_id=org.region_id,
        category=Demand.Category.PROBLEM,
        title=title,
        description=text,
        problem="烘干后产品含水率不稳定，出厂合格率只有百分之八十五",
        current_state="现用热风烘干，试过分段控温，效果仍然不够理想",
        target_indicators="合格率提高到百分之九十五以上，单位能耗下降两成",
        status=Demand.Status.SUBMITTED,
        submitted_at=at,
    )


@pytest.fixture
def family() -> list[Demand]:
    """Four demands of two 锦江区 firms from one template, submitted an hour apart."""
    a = make_enterprise("甲食品公司", JJ, "1")
    b = make_enterprise("乙食品公司", JJ, "2")
    at = timezone.now() - timedelta(days=1)
    return [
        _submitted(org, f"{p}烘干节能改造", TEMPLATE.format(p=p), at + timedelta(hours=i))
        for i, (org, p) in enumerate([(a, "茶叶"), (b, "腊肉"), (a, "花椒"), (b, "魔芋")])
    ]


def _scan(**kwargs: Any) -> Any:
    now = timezone.now()
    return integrity_scan(since=now - timedelta(days=3), now=now, **kwargs)


def test_the_scan_flags_a_template_family_on_its_centre_and_day(family: list[Demand]) -> None:
    result = _scan()
    flags = {f.subject_id: f for f in Flag.objects.filter(kind=Kind.DUPLICATE_DEMAND)}
    assert set(flags) == {d.pk for d in family}
    centre = ServiceCentre.objects.get(region_id=JJ)
    first = flags[family[0].pk]
    assert first.subject_type == Subject.DEMAND and first.centre_id == centre.pk
    assert first.day == family[0].submitted_at.astimezone(BEIJING).date()
    assert first.status == Flag.Status.OPEN and "同出一个模板" in first.reason
    assert result.created == 4 and result.per_kind[Kind.DUPLICATE_DEMAND] == 4
    assert ChangedDay.objects.filter(day=first.day).exists()


def test_scanning_twice_changes_nothing(family: list[Demand]) -> None:
    _scan()
    before = list(Flag.objects.order_by("pk").values())
    again = _scan()
    assert (again.created, again.updated, again.withdrawn) == (0, 0, 0)
    assert again.unchanged == 4
    assert list(Flag.objects.order_by("pk").values()) == before


def test_decided_flags_are_kept_and_open_ones_withdrawn_when_no_longer_found(
    family: list[Demand],
) -> None:
    _scan()
    province = make_staff("pat", "510000")
    confirmed = Flag.objects.get(subject_id=family[0].pk)
    flag_decide(confirmed, province, "confirm", "", confirmed.version)
    # The firms rewrite three demands in their own words: the family is gone.
    rewritten = [
        (
            "冷库夜间停机后库温回升过快，腊肉出现返潮发霉，需要制冷机组的控制改造方案",
            "二号冷库机组老化，停机两小时库温升到零下五度",
            "更换过保温板，效果不明显",
            "库温稳定在零下十八度，货损率下降一半",
        ),
        (
            "花椒烘干后挥发油损失大，麻味不足，想找专家优化低温烘干的温度曲线",
            "烘干温度七十度时挥发油含量只有百分之四",
            "试过降低温度，烘干时间翻倍",
            "挥发油含量达到百分之六，烘干时间不超过十小时",
        ),
        (
            "魔芋精粉生产废水浓度高，环保检查不达标，需要一套适合小厂的废水处理工艺",
            "废水化学需氧量超过八千毫克每升",
            "建了沉淀池，只能去除部分悬浮物",
            "出水达到三级排放标准，吨水处理成本低于五元",
        ),
    ]
    for d, (text, problem, state, targets) in zip(family[1:], rewritten, strict=True):
        Demand.objects.filter(pk=d.pk).update(
            description=text, problem=problem, current_state=state, target_indicators=targets
        )
    result = _scan()
    assert result.withdrawn == 3 and result.kept_decided == 0
    assert list(Flag.objects.values_list("subject_id", "status")) == [
        (family[0].pk, Flag.Status.CONFIRMED)
    ]
    # Found again later, the decided flag is never reopened or rewritten.
    for d, p in ((family[1], "腊肉"), (family[2], "花椒")):
        Demand.objects.filter(pk=d.pk).update(
            description=TEMPLATE.format(p=p),
            problem=family[0].problem,
            current_state=family[0].current_state,
            target_indicators=family[0].target_indicators,
        )
    reason = Flag.objects.get().reason
    result = _scan()
    assert result.kept_decided == 1
    kept = Flag.objects.get(subject_id=family[0].pk)
    assert kept.status == Flag.Status.CONFIRMED and kept.reason == reason


def test_the_job_backfills_a_year_first_then_looks_at_the_last_days(family: list[Demand]) -> None:
    first = integrity_scan_due()
    assert (first.now - first.since).days == 365
    state = ScanState.objects.get()
    assert state.scanned_to == first.now
    later = integrity_scan_due(now=first.now + timedelta(hours=1))
    assert later.since == later.now - timedelta(days=3)
    assert later.created == 0


def test_the_command_scans_the_days_given_and_refuses_bad_dates(
    family: list[Demand], capsys: pytest.CaptureFixture[str]
) -> None:
    today = timezone.localdate()
    call_command("integrity_scan", "--from", str(today - timedelta(days=2)), "--to", str(today))
    assert "新标记 4" in capsys.readouterr().out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="不是有效日期"):
        call_command("integrity_scan", "--from", "昨天", "--to", str(today))
    with pytest.raises(CommandError, match="早于开始日期"):
        call_command("integrity_scan", "--from", str(today), "--to", str(today - timedelta(1)))


# --- Decisions -------------------------------------------------------------------------------


@pytest.fixture
def flag(family: list[Demand]) -> Flag:
    _scan()
    return Flag.objects.get(subject_id=family[0].pk)


def test_a_higher_centre_decides_and_exactly_one_audit_row_is_written(flag: Flag) -> None:
    city = make_staff("charlie", "510100")
    before = AuditEvent.objects.count()
    flag_decide(flag, city, "confirm", "模板批量发布", flag.version)
    flag.refresh_from_db()
    assert flag.status == Flag.Status.CONFIRMED and flag.decided_by == city
    assert flag.version == 2 and flag.decision_note == "模板批量发布"
    rows = AuditEvent.objects.order_by("id")[before:]
    assert [r.action for r in rows] == [AuditAction.FLAG_CONFIRM]
    assert rows[0].object_id == str(flag.pk)


def test_a_centre_never_decides_its_own_flags_nor_a_peer_or_outsider(flag: Flag) -> None:
    own = make_staff("alice", JJ)
    peer = make_staff("bob", WH)
    other_city = make_staff("dan", "510300")
    for user in (own, peer, other_city):
        with pytest.raises(NotPermitted):
            flag_decide(flag, user, "confirm", "", flag.version)
    with pytest.raises(NotPermitted, match="不能自行确认或排除"):
        flag_decide(flag, own, "clear", "不是刷量", flag.version)
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN and flag.version == 1


def test_the_centre_handling_an_escalated_case_does_not_judge_its_flag() -> None:
    """A 锦江区 case escalated to 成都市 counts on 锦江区's figures, but 成都市 handles it:
    成都市 may not decide its flag; the province may."""
    city = make_staff("charlie", "510100")
    province = make_staff("paula", "510000")
    case = make_case(make_staff("alice", JJ))
    Case.objects.filter(pk=case.pk).update(centre=city.centre, owner=city)
    flag = Flag.objects.create(
        kind=Kind.HOLLOW_CLOSURE,
        subject_type=Subject.CASE,
        subject_id=case.pk,
        centre=ServiceCentre.objects.get(region_id=JJ),
        day=timezone.localdate(),
        reason="结案无实质工作",
        confidence=0.9,
    )
    with pytest.raises(NotPermitted, match="负责人"):
        flag_decide(flag, city, "clear", "不是刷量", flag.version)
    colleague = make_staff("carl", "510100")
    with pytest.raises(NotPermitted, match="由本中心办理"):
        flag_decide(flag, colleague, "clear", "不是刷量", flag.version)
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN
    flag_decide(flag, province, "confirm", "结案无佐证", flag.version)
    flag.refresh_from_db()
    assert flag.status == Flag.Status.CONFIRMED


def test_a_refused_decision_writes_exactly_one_refused_audit_row(flag: Flag) -> None:
    """SECURITY item 11: refusals are audited, here a centre trying to clear its own flag,
    through the service and through the page (a valid and an invalid form alike)."""
    own = make_staff("alice", JJ)
    before = AuditEvent.objects.count()
    with pytest.raises(NotPermitted):
        flag_decide(flag, own, "clear", "不是刷量", flag.version)
    rows = list(AuditEvent.objects.order_by("id")[before:])
    assert [(r.action, r.outcome, r.user_id, r.object_id) for r in rows] == [
        (AuditAction.FLAG_CLEAR, "refused", own.pk, str(flag.pk))
    ]
    client = client_for(own)
    for posted in (
        {"decision": "clear", "note": "不是刷量", "version": flag.version},
        {"decision": "clear", "note": "", "version": ""},
    ):
        before = AuditEvent.objects.count()
        answer = client.post(reverse("integrity:decide", args=[flag.pk]), posted)
        assert answer.status_code == 403
        rows = list(AuditEvent.objects.order_by("id")[before:])
        assert [(r.action, r.outcome) for r in rows] == [(AuditAction.FLAG_CLEAR, "refused")]
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN and flag.version == 1


def test_clearing_needs_a_note_a_stale_page_is_refused_and_decided_is_final(flag: Flag) -> None:
    province = make_staff("pat", "510000")
    with pytest.raises(FlagError, match="必须写明理由"):
        flag_decide(flag, province, "clear", "  ", flag.version)
    with pytest.raises(Stale):
        flag_decide(flag, province, "clear", "两家企业确有相同设备", flag.version + 1)
    flag_decide(flag, province, "clear", "两家企业确有相同设备", flag.version)
    assert AuditEvent.objects.filter(action=AuditAction.FLAG_CLEAR).count() == 1
    with pytest.raises(FlagError, match="已经复核过"):
        flag_decide(flag, province, "confirm", "", flag.version)


# --- Pages -----------------------------------------------------------------------------------


def test_the_list_shows_the_jurisdictions_flags_with_counts_and_filters(flag: Flag) -> None:
    city = client_for(make_staff("charlie", "510100"))
    page = city.get(reverse("integrity:list"))
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-flag="{flag.pk}"' in html and "同出一个模板" in html
    assert 'data-kind="duplicate_demand"' in html
    assert (
        city.get(reverse("integrity:list"), {"kind": Kind.QUOTA_ACCOUNT})
        .content.decode()
        .count("data-flag=")
        == 0
    )
    bad = city.get(reverse("integrity:list"), {"month": "2026-13"})
    assert bad.status_code == 400 and "月份" in bad.content.decode()
    other = client_for(make_staff("dan", "510300"))
    assert f'data-flag="{flag.pk}"' not in other.get(reverse("integrity:list")).content.decode()
    assert other.get(reverse("integrity:detail", args=[flag.pk])).status_code == 404


def test_the_detail_links_evidence_and_takes_a_decision(flag: Flag, family: list[Demand]) -> None:
    city = client_for(make_staff("charlie", "510100"))
    html = city.get(reverse("integrity:detail", args=[flag.pk])).content.decode()
    assert reverse("demands:staff_detail", args=[family[1].pk]) in html
    assert "data-decide" in html
    answer = city.post(
        reverse("integrity:decide", args=[flag.pk]),
        {"decision": "clear", "note": "", "version": flag.version},
    )
    assert answer.status_code == 400 and "必须写明理由" in answer.content.decode()
    answer = city.post(
        reverse("integrity:decide", args=[flag.pk]),
        {"decision": "confirm", "note": "", "version": flag.version},
    )
    assert answer.status_code == 302
    assert Flag.objects.get(pk=flag.pk).status == Flag.Status.CONFIRMED
    stale = city.post(
        reverse("integrity:decide", args=[flag.pk]),
        {"decision": "confirm", "note": "", "version": flag.version},
    )
    assert stale.status_code == 400  # already decided


def test_the_centre_itself_sees_its_flag_but_is_refused_a_decision(flag: Flag) -> None:
    own = client_for(make_staff("alice", JJ))
    html = own.get(reverse("integrity:detail", args=[flag.pk])).content.decode()
    assert "data-decide" not in html and "上级服务中心复核" in html
    answer = own.post(
        reverse("integrity:decide", args=[flag.pk]),
        {"decision": "clear", "note": "不是刷量", "version": flag.version},
    )
    assert answer.status_code == 403 and "上级服务中心复核" in answer.content.decode()
    assert Flag.objects.get(pk=flag.pk).status == Flag.Status.OPEN


def test_a_stale_decision_page_answers_409(flag: Flag) -> None:
    city = client_for(make_staff("charlie", "510100"))
    Flag.objects.filter(pk=flag.pk).update(version=5)
    answer = city.post(
        reverse("integrity:decide", args=[flag.pk]),
        {"decision": "confirm", "note": "", "version": 1},
    )
    assert answer.status_code == 409
    assert Flag.objects.get(pk=flag.pk).status == Flag.Status.OPEN


# --- Footprints ------------------------------------------------------------------------------


def test_a_login_leaves_a_footprint_with_hashed_network_and_device(client: Any) -> None:
    staff = make_staff("alice", JJ)
    client.cookies["kjy_device"] = "0123456789abcdef0123456789abcdef"
    answer = client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert answer.status_code == 302, answer.content.decode()[:500]
    (print_,) = Footprint.objects.filter(user=staff)
    assert print_.kind == Footprint.Kind.LOGIN
    assert len(print_.device) == 64 and "0123456789abcdef" not in print_.device
    assert len(print_.network) == 64


def test_the_registration_page_gives_the_browser_a_device_cookie(client: Any) -> None:
    answer = client.get(reverse("registration:register", args=["citizen"]))
    assert len(answer.cookies["kjy_device"].value) == 32
    assert answer.cookies["kjy_device"]["httponly"]
    again = client.get(reverse("registration:register", args=["citizen"]))
    assert "kjy_device" not in again.cookies  # kept, not replaced


def test_nobody_but_staff_reaches_the_pages(flag: Flag, client: Any) -> None:
    worker = User.objects.create_user(username="w", password="x", role="worker")
    assert client_for(worker).get(reverse("integrity:list")).status_code == 404
    assert client.get(reverse("integrity:list")).status_code == 302
