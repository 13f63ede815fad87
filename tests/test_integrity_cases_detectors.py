"""The case-side gaming detectors (self-dealing, hollow closures, rating rings) on plain rows:
each flags its planted examples and leaves the honest look-alikes alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from kejiyun.integrity.detectors import hollow, rings, selfdealing
from kejiyun.integrity.detectors.hollow import contract_key
from kejiyun.integrity.detectors.selfdealing import address_key, name_key
from kejiyun.integrity.models import Kind, Subject
from kejiyun.integrity.rows import (
    CaseRow,
    ExpertRow,
    Finding,
    FootprintRow,
    OrganisationRow,
    Snapshot,
)

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 Beijing
START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)

# Specific, honest closing narratives: each case gets its own from these parts.
_WHAT = ("茶叶烘干线", "包装机送料", "猪舍通风", "果园滴灌", "酿酒发酵罐", "竹材防霉", "釉料配方")
_DONE = (
    "更换温控探头并重设曲线",
    "调整凸轮间隙与送膜张力",
    "加装变频风机和湿度联动",
    "重新布设支管并分区轮灌",
    "改用分段控温与回流工艺",
    "采用硼酚复合药剂浸渍",
    "降低氧化铝比例并延长保温",
    "引入在线检测并修订作业指导书",
    "培训班组三名骨干并留存记录",
    "完成两轮中试并对比数据",
    "更新设备参数台账",
)
_RESULT = (
    "含水率稳定在百分之六以内",
    "卡料由每班十余次降为零",
    "夏季舍温下降四度",
    "亩均节水三成",
    "出酒率提高两个百分点",
    "霉变率低于百分之一",
    "釉面开裂基本消除",
)


def honest(n: int) -> str:
    """A narrative of its own for each n below 539."""
    return (
        f"{_WHAT[n % 7]}问题经专家{_DONE[(n * 3) % 11]}，{_RESULT[(n // 7 + 2 * n) % 7]}；"
        f"第{n}次走访核实，企业出具验收意见。"
    )


def case(
    id: int,
    *,
    org: int = 100,
    experts: tuple[int, ...] = (),
    owner: int = 1,
    centre: int = 7,
    days: float = 20.0,
    closed: datetime | None = None,
    outcome: str = "solved",
    sha: str | None = None,
    contract: str | None = None,
    text: str | None = None,
    rating: int | None = 5,
    rater: int | None = None,
) -> CaseRow:
    closed = closed or T0 + timedelta(days=id)
    return CaseRow(
        id=id,
        centre_id=centre,
        demand_id=1000 + id,
        organisation_id=org,
        owner_id=owner,
        expert_ids=experts,
        opened_at=closed - timedelta(days=days),
        closed_at=closed,
        outcome=outcome,
        evidence_sha256=f"{id:064x}" if sha is None else sha,
        contract_number=f"HT-{id}" if contract is None else contract,
        closing_text=honest(id) if text is None else text,
        rating=rating,
        rated_by_id=(5000 + org if rater is None else rater) if rating is not None else None,
        rated_at=closed if rating is not None else None,
    )


def snap(cases: list[CaseRow], **rows: list) -> Snapshot:  # type: ignore[type-arg]
    return Snapshot(start=START, end=END, cases=cases, **rows)


def flagged(findings: list[Finding]) -> dict[int, Finding]:
    return {f.subject_id: f for f in findings}


def org(id: int, name: str, address: str = "", keys: set[str] | None = None) -> OrganisationRow:
    return OrganisationRow(
        id=id, name=name, address=address, person_keys=frozenset(keys or {f"account:{5000 + id}"})
    )


def expert(
    account: int, *, employer: str = "四川农业大学", org_id: int | None = None, address: str = ""
) -> ExpertRow:
    return ExpertRow(
        account_id=account,
        employer=employer,
        organisation_id=org_id,
        address=address,
        person_keys=frozenset({f"account:{account}", f"mobile-of-{account}"}),
    )


# --- normalisation ---------------------------------------------------------------------------


def test_contract_numbers_compare_after_nfkc_upper_case_and_without_separators():
    assert contract_key("HT-2026-001") == contract_key("ht 2026 001") == "HT2026001"
    assert contract_key("ＨＴ－２０２６－００１") == "HT2026001"
    assert contract_key("HT-2026-002") != contract_key("HT-2026-001")
    assert contract_key(" - ") == ""


def test_company_names_and_addresses_compare_without_legal_forms_and_province():
    assert name_key("锦江茶业有限公司") == name_key("锦江茶业（四川）股份有限公司") == "锦江茶业"
    assert name_key("四川农业大学") != name_key("锦江茶业有限公司")
    assert address_key("四川省成都市锦江区红星路二段 88 号") == address_key(
        "成都市锦江区红星路二段88号"
    )
    assert address_key("成都市锦江区红星路二段88号") != address_key("成都市锦江区红星路二段86号")


# --- self-dealing ----------------------------------------------------------------------------

ENTERPRISE = org(100, "锦江茶业有限公司", "四川省成都市锦江区红星路二段88号")
UNIVERSITY = org(200, "四川农业大学", "成都市锦江区琉璃场1号", {"account:900", "mobile-of-900"})


def test_self_dealing_flags_each_kind_of_link_and_names_it_without_personal_data():
    shell = org(300, "红星路科技有限公司", "成都市锦江区红星路二段88号")
    partner = org(400, "茶源咨询有限公司", "成都市武侯区科华北路5号", {"shared-person"})
    enterprise = replace(
        ENTERPRISE, person_keys=frozenset({"account:5100", "mobile-of-11", "shared-person"})
    )
    experts = [
        expert(10, org_id=100),  # a member of the enterprise
        expert(11),  # shares a mobile number with its people
        expert(12, org_id=400),  # of an organisation that shares people with it
        expert(13, employer="锦江茶业（四川）股份有限公司"),  # works for it by name
        expert(14, org_id=300, address="成都市锦江区红星路二段88号"),  # at its address
    ]
    cases = [case(i, experts=(10 + i,)) for i in range(5)]
    found = flagged(
        selfdealing.detect(
            snap(cases, organisations=[enterprise, shell, partner, UNIVERSITY], experts=experts)
        )
    )
    assert set(found) == {0, 1, 2, 3, 4}
    assert found[0].reason == "专家是需求企业的成员。"
    assert "共用手机号或证件" in found[1].reason
    assert "有共同人员" in found[2].reason
    assert "同名" in found[3].reason
    assert found[4].reason == "专家所在单位与需求企业登记地址相同。"
    for finding in found.values():
        assert (finding.kind, finding.subject_type) == (Kind.SELF_DEALING, Subject.CASE)
        assert 0.5 <= finding.confidence <= 1
        assert "mobile" not in finding.reason and "account" not in str(finding.evidence)
    # The strongest link is the most certain; two links are more certain than one.
    assert found[0].confidence > found[4].confidence
    both = expert(15, org_id=300, address="成都市锦江区红星路二段88号", employer="锦江茶业有限公司")
    two = flagged(
        selfdealing.detect(
            snap([case(9, experts=(15,))], organisations=[ENTERPRISE, shell], experts=[both])
        )
    )
    assert two[9].confidence > found[4].confidence
    assert two[9].evidence["links"] == ["employer_name", "address"]


def test_self_dealing_leaves_a_local_university_expert_and_repeat_business_alone():
    tina = expert(900, org_id=200, address=UNIVERSITY.address)
    cases = [case(i, experts=(900,)) for i in range(4)]  # the same expert, four times
    found = selfdealing.detect(snap(cases, organisations=[ENTERPRISE, UNIVERSITY], experts=[tina]))
    assert found == []


def test_self_dealing_ignores_cases_outside_the_window():
    member = expert(10, org_id=100)
    old = case(1, experts=(10,), closed=START - timedelta(days=3))
    assert selfdealing.detect(snap([old], organisations=[ENTERPRISE], experts=[member])) == []


# --- hollow closures -------------------------------------------------------------------------

BOILERPLATE = "已按要求完成服务，助力企业降本增效，实现高质量发展，提升企业核心竞争力。"


def peers(n: int = 30, *, first: int = 200) -> list[CaseRow]:
    """Honest solved cases of the centre, about three weeks each, owned by other staff."""
    return [case(first + i, org=2000 + i, owner=50 + i % 10, days=21 + i % 5) for i in range(n)]


def test_a_fast_solved_closure_with_boilerplate_text_is_flagged_but_fast_alone_is_not():
    fast_hollow = case(1, days=0.5, text=BOILERPLATE)
    quick_fix = case(2, days=0.5)  # its own evidence, a specific narrative
    boiler_only = case(3, days=25, text=BOILERPLATE)
    found = flagged(hollow.detect(snap([fast_hollow, quick_fix, boiler_only, *peers()])))
    assert set(found) == {1}
    finding = found[1]
    assert (finding.kind, finding.subject_type) == (Kind.HOLLOW_CLOSURE, Subject.CASE)
    assert "天即以“已解决”结案" in finding.reason and "套话" in finding.reason
    assert finding.evidence["signals"] == 2
    assert finding.day.isoformat() == "2026-03-02"


def test_fast_is_against_the_peer_median_not_an_absolute_clock():
    # Where every solved case takes a day, a one-day closure is normal.
    quick_world = [case(200 + i, org=2000 + i, days=1.0) for i in range(30)]
    assert hollow.detect(snap([case(1, days=0.8, text=BOILERPLATE), *quick_world])) == []


def test_the_same_evidence_file_or_contract_number_on_several_cases_flags_every_one():
    shared = "ab" * 32
    group = [
        case(1, org=101, sha=shared),
        case(2, org=102, sha=shared),
        case(3, org=103, contract="ht 2026 0001"),
        case(4, org=104, contract="ＨＴ－２０２６－０００１", sha=shared),
    ]
    found = flagged(hollow.detect(snap([*group, *peers()])))
    assert set(found) == {1, 2, 3, 4}
    # The earliest is the likelier original: lower, but still flagged.
    assert found[1].confidence < found[2].confidence
    assert found[2].evidence["shared_evidence_cases"] == [1, 3, 4]
    assert "与另外 3 件案例相同" in found[2].reason


def test_reused_evidence_seen_in_an_earlier_window_flags_only_the_case_of_this_window():
    shared = "cd" * 32
    earlier = case(1, org=101, sha=shared, closed=START - timedelta(days=30))
    now = case(2, org=102, sha=shared)
    found = flagged(hollow.detect(snap([earlier, now, *peers()])))
    assert set(found) == {2}


def test_one_enterprise_with_one_contract_on_two_of_its_demands_is_not_enough():
    pair = [case(1, org=101, contract="HT-9"), case(2, org=101, contract="HT-9")]
    assert hollow.detect(snap([*pair, *peers()])) == []


def fp(account: int, kind: str, at: datetime, network: str = "", device: str = "") -> FootprintRow:
    return FootprintRow(account_id=account, kind=kind, at=at, network=network, device=device)


def test_a_rating_from_the_owners_device_is_flagged_and_from_their_network_adds_up():
    by_device = case(1, org=101, owner=1)
    at_visit = case(2, org=102, owner=1)  # rated on the centre's network during a visit
    fast_at_centre = case(3, org=103, owner=1, days=0.4)
    own_place = case(4, org=104, owner=1)  # the enterprise rates from its own network
    rated = [(by_device, "net-x", "dev-alice"), (at_visit, "net-centre", "dev-b")]
    rated += [(fast_at_centre, "net-centre", "dev-c"), (own_place, "net-d", "dev-d")]
    footprints = [fp(1, "login", T0, network="net-centre", device="dev-alice")]
    footprints += [
        fp(c.rated_by_id, "rate", c.rated_at + timedelta(seconds=2), net, dev)  # type: ignore[arg-type, operator]
        for c, net, dev in rated
    ]
    found = flagged(hollow.detect(snap([c for c, _, _ in rated] + peers(), footprints=footprints)))
    assert set(found) == {1, 3}
    assert found[1].reason == "企业评价来自承办人员登录所用的设备。"
    assert "网络" in found[3].reason and "天即以“已解决”结案" in found[3].reason


def test_contract_numbers_match_within_a_centre_but_evidence_files_anywhere():
    far_apart = [case(1, org=101, centre=7, contract="HT2026-00123")]
    far_apart.append(case(2, org=102, centre=8, contract="ht2026 00123"))
    assert hollow.detect(snap([*far_apart, *peers()])) == []
    same_file = [
        case(3, org=103, centre=7, sha="ef" * 32),
        case(4, org=104, centre=8, sha="ef" * 32),
    ]
    assert set(flagged(hollow.detect(snap([*same_file, *peers()])))) == {3, 4}


def test_a_network_many_accounts_share_is_weak_evidence():
    rated = case(1, org=101, owner=1)
    footprints = [fp(1, "login", T0, network="carrier")]
    footprints += [fp(7000 + i, "login", T0, network="carrier") for i in range(40)]
    footprints.append(fp(5101, "rate", rated.rated_at, network="carrier"))  # type: ignore[arg-type]
    assert hollow.detect(snap([rated, *peers()], footprints=footprints)) == []


def test_a_genuinely_quick_fix_rated_from_the_enterprises_own_network_is_left_alone():
    quick = case(1, org=101, owner=1, days=0.3)
    footprints = [
        fp(1, "login", T0, network="net-centre", device="dev-alice"),
        fp(5101, "rate", quick.rated_at, network="net-tea", device="dev-tea"),  # type: ignore[arg-type]
    ]
    assert hollow.detect(snap([quick, *peers()], footprints=footprints)) == []


def test_copied_closing_notes_of_one_owner_add_up_with_a_fast_closure():
    note = "经走访，企业反映的包装机卡料问题已由专家现场调整解决，企业表示满意，同意结案。"
    copies = [case(i, org=100 + i, owner=3, text=note, days=22) for i in range(1, 4)]
    fast = case(4, org=104, owner=3, text=note, days=0.4)
    found = flagged(hollow.detect(snap([*copies, fast, *peers()])))
    assert set(found) == {4}
    assert "雷同" in found[4].reason
    assert found[4].evidence["same_closing_cases"] == [1, 2, 3]


# --- rating rings ----------------------------------------------------------------------------


def ring_world() -> tuple[list[OrganisationRow], list[ExpertRow]]:
    orgs = [org(i, f"企业{i}") for i in (101, 102, 103, 104)]
    experts = [expert(10 + i, org_id=100 + i, employer=f"企业{100 + i}") for i in (1, 2, 3, 4)]
    return orgs, experts


def test_enterprises_that_rate_each_others_experts_top_marks_form_a_ring():
    orgs, experts = ring_world()
    cases = [
        case(1, org=101, experts=(12,)),  # 101 rates 102's expert
        case(2, org=102, experts=(11,)),  # and 102 rates 101's
        case(3, org=103, experts=(11,)),  # 103 rates 101's, nobody rates 103: not in the ring
    ]
    found = flagged(rings.detect(snap(cases, organisations=orgs, experts=experts)))
    assert set(found) == {1, 2}
    assert (found[1].kind, found[1].subject_type) == (Kind.RATING_RING, Subject.CASE)
    assert found[1].evidence["ring_cases"] == [2]


def test_a_longer_ring_is_found_and_is_more_certain():
    orgs, experts = ring_world()
    pair = [case(1, org=101, experts=(12,)), case(2, org=102, experts=(11,))]
    cycle = [
        case(11, org=102, experts=(13,)),
        case(12, org=103, experts=(14,)),
        case(13, org=104, experts=(12,)),
    ]
    small = flagged(rings.detect(snap(pair, organisations=orgs, experts=experts)))
    large = flagged(rings.detect(snap(cycle, organisations=orgs, experts=experts)))
    assert set(large) == {11, 12, 13}
    assert large[11].confidence > small[1].confidence


def test_a_ring_needs_top_marks_and_a_cycle():
    orgs, experts = ring_world()
    lukewarm = [case(1, org=101, experts=(12,)), case(2, org=102, experts=(11,), rating=4)]
    chain = [case(3, org=101, experts=(12,)), case(4, org=102, experts=(13,))]
    assert rings.detect(snap(lukewarm, organisations=orgs, experts=experts)) == []
    assert rings.detect(snap(chain, organisations=orgs, experts=experts)) == []


def test_many_honest_top_ratings_of_one_popular_expert_are_left_alone():
    tina = expert(900, org_id=200)
    cases = [case(i, org=300 + i, experts=(900,)) for i in range(25)]
    footprints = [
        fp(5300 + i, "rate", c.rated_at, network=f"net-{i}", device=f"dev-{i}")  # type: ignore[arg-type]
        for i, c in enumerate(cases)
    ]
    organisations = [UNIVERSITY] + [org(300 + i, f"企业{i}") for i in range(25)]
    snapshot = snap(cases, organisations=organisations, experts=[tina], footprints=footprints)
    assert rings.detect(snapshot) == []


def test_top_ratings_of_several_enterprises_from_one_device_are_a_cluster():
    cases = [case(i, org=300 + i, experts=(900,)) for i in range(1, 5)]
    footprints = [
        fp(5300 + i, "rate", c.rated_at, network=f"net-{i}", device="farm")  # type: ignore[arg-type]
        for i, c in enumerate(cases, start=1)
    ]
    tina = [expert(900, org_id=200)]
    found = flagged(rings.detect(snap(cases, experts=tina, footprints=footprints)))
    assert set(found) == {1, 2, 3, 4}
    assert "4 家企业的满分评价来自同一设备" in found[1].reason
    # Two firms on one browser are already one hand for two.
    assert set(flagged(rings.detect(snap(cases[:2], footprints=footprints[:2])))) == {1, 2}
    # Ratings months apart are not one session of rating.
    apart = [
        replace(
            c,
            closed_at=c.closed_at + timedelta(days=120 * i),
            rated_at=c.rated_at + timedelta(days=120 * i),
        )  # type: ignore[operator]
        for i, c in enumerate(cases)
    ]
    spaced = [
        fp(c.rated_by_id, "rate", c.rated_at, device="farm")  # type: ignore[arg-type]
        for c in apart
    ]
    assert rings.detect(snap(apart, footprints=spaced)) == []
    # One firm rating its many cases from its own browser is one firm.
    own = [case(i, org=301, experts=(900,)) for i in range(1, 6)]
    mine = [fp(5301, "rate", c.rated_at, device="dev-301") for c in own]  # type: ignore[arg-type]
    assert rings.detect(snap(own, footprints=mine)) == []


def test_top_ratings_of_three_firms_from_a_network_none_of_them_uses_are_a_cluster():
    cases = [case(i, org=300 + i, experts=(900,), owner=1) for i in range(1, 4)]

    def world(rate_net: str, *, own: bool) -> list[FootprintRow]:
        rows = [fp(1, "login", T0, network="net-centre")]
        for c in cases:
            rows.append(fp(c.rated_by_id, "login", T0, network=rate_net if own else f"home-{c.id}"))  # type: ignore[arg-type]
            rows.append(fp(c.rated_by_id, "rate", c.rated_at, network=rate_net, device=f"d{c.id}"))  # type: ignore[arg-type]
        return rows

    found = flagged(rings.detect(snap(cases, footprints=world("net-ring", own=False))))
    assert set(found) == {1, 2, 3}
    assert "来自同一个并非其自身的网络" in found[1].reason
    # Three firms of one building rating from their own office network: left alone.
    assert rings.detect(snap(cases, footprints=world("net-park", own=True))) == []
    # Rated on the owning staff member's network: a matter for the hollow-closure detector.
    assert rings.detect(snap(cases, footprints=world("net-centre", own=False))) == []


def test_firms_rated_on_the_owners_device_are_a_hollow_closure_matter_not_a_ring():
    cases = [case(i, org=300 + i, experts=(900,), owner=1) for i in range(1, 4)]
    footprints = [fp(1, "login", T0, network="net-centre", device="dev-alice")]
    footprints += [
        fp(c.rated_by_id, "rate", c.rated_at, network=f"n{c.id}", device="dev-alice")  # type: ignore[arg-type]
        for c in cases
    ]
    snapshot = snap([*cases, *peers()], footprints=footprints)
    assert rings.detect(snapshot) == []
    assert set(flagged(hollow.detect(snapshot))) == {1, 2, 3}


def test_a_ring_raters_top_rating_from_the_ring_place_months_earlier_is_the_ring_too():
    later = T0 + timedelta(days=200)
    ring = [
        case(i, org=300 + i, experts=(900,), closed=later + timedelta(hours=i)) for i in (1, 2, 3)
    ]
    early = case(4, org=301, experts=(900,), closed=T0)  # firm 301, 200 days before
    stranger = case(5, org=399, experts=(900,), closed=T0 + timedelta(days=100))  # alone there
    footprints = []
    for c in [*ring, early, stranger]:
        footprints.append(fp(c.rated_by_id, "login", START, network=f"home-{c.organisation_id}"))  # type: ignore[arg-type]
        footprints.append(
            fp(c.rated_by_id, "rate", c.rated_at, network="net-ring", device=f"d{c.id}")
        )  # type: ignore[arg-type]
    found = flagged(rings.detect(snap([*ring, early, stranger], footprints=footprints)))
    assert set(found) == {1, 2, 3, 4}
