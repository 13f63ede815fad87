"""The three detectors of the integrity core over plain rows: each flags its planted examples
and leaves their normal look-alikes alone (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kejiyun.integrity.detectors import demands, quota, reading
from kejiyun.integrity.models import Kind, Subject
from kejiyun.integrity.rows import (
    AccountRow,
    DemandRow,
    FootprintRow,
    OrganisationRow,
    ReadRow,
    Snapshot,
)

START = datetime(2026, 5, 1, tzinfo=UTC)
END = datetime(2026, 5, 8, tzinfo=UTC)

TEMPLATE = (
    "我公司主要生产{p}，年产量约{n}吨，{s}工序沿用多年前的老设备，能耗高、效率低，"
    "产品合格率长期在百分之八十左右徘徊，旺季订单交付困难，希望引进先进技术进行改造升级"
)
PRODUCTS = ["茶叶", "竹笋罐头", "猕猴桃果汁", "花椒油", "腊肉", "菜籽油", "魔芋粉", "豆瓣酱"]


def _demand(
    pk: int, org: int, title: str, text: str, at: datetime, centre: int = 7, **guided: str
) -> DemandRow:
    return DemandRow(
        id=pk,
        organisation_id=org,
        created_by_id=None,
        centre_id=centre,
        submitted_at=at,
        title=title,
        description=text,
        problem=guided.get("problem", "杀菌后产品变软发黄，出厂合格率只有百分之八十五"),
        current_state=guided.get(
            "current_state", "现用高压杀菌二十分钟，试过降温延时，保质期仍然不够"
        ),
        target_indicators=guided.get(
            "target_indicators", "合格率提高到百分之九十五以上，保质期不少于十二个月"
        ),
    )


def _org(pk: int, *keys: str) -> OrganisationRow:
    return OrganisationRow(id=pk, name=f"单位{pk}", address="", person_keys=frozenset(keys))


def _found(findings: list, kind: Kind) -> dict[int, object]:
    assert all(f.kind == kind for f in findings)
    return {f.subject_id: f for f in findings}


# --- Demands ---------------------------------------------------------------------------------


def test_a_template_family_from_a_few_organisations_is_flagged_whole() -> None:
    rows = [
        _demand(
            100 + i,
            org=1 + i % 2,
            title=f"{p}生产线节能改造",
            text=TEMPLATE.format(p=p, n=1000 + i, s="烘干"),
            at=START + timedelta(hours=i),
        )
        for i, p in enumerate(PRODUCTS[:5])
    ]
    found = _found(
        demands.detect(Snapshot(START, END, demands=rows, organisations=[_org(1), _org(2)])),
        Kind.DUPLICATE_DEMAND,
    )
    assert set(found) == {100, 101, 102, 103, 104}
    first = found[100]
    assert first.subject_type == Subject.DEMAND and first.centre_id == 7
    assert "同出一个模板" in first.reason and "同一服务中心" in first.reason
    assert "来自 2 家单位" in first.reason
    assert first.day == START.date() and 0.75 <= first.confidence <= 1
    assert set(first.evidence["demands"]) == {101, 102, 103, 104}


def test_a_repeat_through_an_organisation_of_the_same_people_names_the_original() -> None:
    text = TEMPLATE.format(p="茶叶", n=3000, s="揉捻")
    rows = [
        _demand(1, org=1, title="茶叶揉捻节能", text=text, at=START - timedelta(days=200)),
        _demand(2, org=2, title="茶叶揉捻节能改造", text=text + "。", at=START + timedelta(days=1)),
    ]
    snapshot = Snapshot(
        START, END, demands=rows, organisations=[_org(1, "mobileA"), _org(2, "mobileA")]
    )
    found = _found(demands.detect(snapshot), Kind.DUPLICATE_DEMAND)
    assert set(found) == {2}  # the original is before the window, and it is the original
    assert "同一批人名下另一单位的需求 #1" in found[2].reason
    assert "相隔 201 天" in found[2].reason
    assert found[2].confidence > 0.85


def test_an_organisations_different_demands_and_two_firms_of_one_trade_are_left_alone() -> None:
    rows = [
        _demand(
            1,
            org=1,
            title="茶叶揉捻机节能改造",
            text="我公司年产红茶八百吨，揉捻工序电耗占全厂三成，想把老式揉捻机换成变频控制，"
            "降低电耗并保持条索紧结",
            at=START + timedelta(hours=1),
            problem="揉捻机电机老旧，空转时间长，每吨茶耗电四百度",
            current_state="试过错峰生产，电费下降有限",
            target_indicators="每吨茶耗电降到三百度以下，条索紧结率不低于九成",
        ),
        _demand(
            2,
            org=1,
            title="茶园病虫害绿色防控",
            text="我公司在雅安有两千亩茶园，近两年茶小绿叶蝉危害加重，想找专家制定不用化学农药的"
            "防控方案，保证出口检测合格",
            at=START + timedelta(hours=2),
            problem="夏秋茶叶蝉虫口密度高，芽叶受害后品质下降",
            current_state="挂了黄板，效果一般，不敢用化学农药",
            target_indicators="受害芽叶比例降到百分之五以下，农残检测全部合格",
        ),
        _demand(
            3,
            org=2,
            title="绿茶杀青温度控制",
            text="本厂做名优绿茶，滚筒杀青机温度波动大，芽叶常有焦边，希望改用自动温控并"
            "建立不同季节鲜叶的杀青参数",
            at=START + timedelta(hours=3),
            problem="杀青温度忽高忽低，焦边茶占一成以上",
            current_state="靠老师傅看火，换人后品质不稳",
            target_indicators="焦边率降到百分之二以下，形成春夏秋三季的杀青参数表",
        ),
    ]
    found = demands.detect(Snapshot(START, END, demands=rows, organisations=[_org(1), _org(2)]))
    assert found == []


def test_boilerplate_demand_is_flagged_with_its_share() -> None:
    filler = "提升企业核心竞争力推动产业转型升级实现高质量发展加强产学研合作促进科技成果转化"
    row = DemandRow(
        id=9,
        organisation_id=1,
        created_by_id=None,
        centre_id=7,
        submitted_at=START + timedelta(days=2),
        title="寻求技术合作",
        description=filler,
        problem="解决企业技术难题，突破关键核心技术",
        current_state="急需相关专家支持，详情面议",
        target_indicators="达到国内领先水平，实现可持续发展",
    )
    (found,) = demands.detect(Snapshot(START, END, demands=[row], organisations=[_org(1)]))
    assert found.subject_id == 9 and found.reason.startswith("套话比例")


# --- Reading ---------------------------------------------------------------------------------


def _read(
    pk: int, account: int, article: int, at: datetime, seconds: float, device: str
) -> ReadRow:
    return ReadRow(
        id=pk,
        account_id=account,
        article_id=article,
        centre_id=5,
        device=device,
        opened_at=at,
        finished_at=at + timedelta(seconds=seconds),
        body_chars=1200,
    )


def test_accounts_behind_one_device_are_flagged_once_each_with_their_bot_reads() -> None:
    reads = []
    pk = 0
    for account in range(1, 7):  # six accounts on one phone
        for k in range(3):
            pk += 1
            at = START + timedelta(hours=2, minutes=account * 7 + k * 13)
            reads.append(_read(pk, account, 10 + k, at, 120, "farm-phone"))
    # A person who reads steadily and properly on their own phone.
    for k in range(6):
        pk += 1
        reads.append(_read(pk, 50, 20 + k, START + timedelta(days=1, hours=k * 5), 200, "own"))
    found = _found(reading.detect(Snapshot(START, END, reads=reads)), Kind.SCRIPTED_READING)
    assert set(found) == set(range(1, 7))
    one = found[1]
    assert one.subject_type == Subject.ACCOUNT and one.evidence["bot_reads"] == 3
    assert one.day == START.date() and one.centre_id == 5
    assert "共用同一设备" in one.reason


def test_a_habitual_speed_reader_is_flagged_but_one_hurried_skim_is_not() -> None:
    reads = [_read(i, 1, i, START + timedelta(hours=i), 3, f"d{i}") for i in range(1, 5)]
    reads += [_read(10 + i, 2, i, START + timedelta(hours=i), 200, "p2") for i in range(1, 5)]
    reads.append(_read(20, 2, 9, START + timedelta(hours=9), 3, "p2"))  # one skim
    found = _found(reading.detect(Snapshot(START, END, reads=reads)), Kind.SCRIPTED_READING)
    assert set(found) == {1}
    assert "快得不可能" in found[1].reason


# --- Quota accounts --------------------------------------------------------------------------


def _account(
    pk: int, at: datetime, text: str, activity: int = 0, role: str = "worker"
) -> AccountRow:
    return AccountRow(
        id=pk,
        role=role,
        centre_id=3,
        created_at=at,
        profile_text=text,
        organisation_id=None,
        person_keys=frozenset({f"m{pk}"}),
        activity=activity,
    )


def _register(pk: int, at: datetime, network: str, device: str) -> FootprintRow:
    return FootprintRow(account_id=pk, kind="register", at=at, network=network, device=device)


PROFILE = "某某农业科技有限公司 农艺师 果树栽培 猕猴桃 嫁接 修剪 病虫害防治 提供果园管理技术指导"


def test_a_device_farm_registering_template_profiles_on_a_clock_is_flagged() -> None:
    accounts, footprints = [], []
    for i in range(8):
        at = START + timedelta(hours=20, minutes=3 * i)
        accounts.append(
            _account(i + 1, at, PROFILE.replace("猕猴桃", "猕猴桃" + "甲乙丙丁戊己庚辛"[i]))
        )
        footprints.append(_register(i + 1, at, "net-x", "dev-x"))
    found = _found(
        quota.detect(Snapshot(START, END, accounts=accounts, footprints=footprints)),
        Kind.QUOTA_ACCOUNT,
    )
    assert set(found) == set(range(1, 9))
    one = found[1]
    assert set(one.evidence["signals"]) == {"device", "network", "template", "rhythm"}
    assert "同一设备注册了 8 个账号" in one.reason and "没有任何实际使用" in one.reason
    assert one.confidence >= 0.85


def test_a_proxy_farm_without_device_cookies_is_flagged_by_template_and_rhythm() -> None:
    accounts, footprints = [], []
    for i in range(6):
        at = START + timedelta(days=1, minutes=5 * i)
        accounts.append(_account(i + 1, at, PROFILE))
        footprints.append(_register(i + 1, at, f"net-{i}", ""))
    found = quota.detect(Snapshot(START, END, accounts=accounts, footprints=footprints))
    assert {f.subject_id for f in found} == set(range(1, 7))
    assert all(set(f.evidence["signals"]) == {"template", "rhythm"} for f in found)


def test_one_signal_alone_never_flags() -> None:
    accounts, footprints = [], []
    # Thirty students register from the university network in one class, each with their own
    # profile, and use the platform.
    for i in range(30):
        at = START + timedelta(days=2, minutes=i)
        accounts.append(
            _account(i + 1, at, f"四川农业大学 研究生 {i}号课题 研究方向第{i}种作物的{i}类问题", 2)
        )
        footprints.append(_register(i + 1, at, "net-uni", f"own-{i}"))
    # A family of three sharing a phone, citizens with the same short profile, not used yet.
    for i in range(3):
        at = START + timedelta(days=3, minutes=i)
        accounts.append(_account(100 + i, at, "农民 40-59", 0, role="citizen"))
        footprints.append(_register(100 + i, at, "net-home", "dev-home"))
    # Template profiles, each from its own device and network,
    # at irregular hours.
    for i, hours in enumerate([1, 30, 31, 77, 140]):
        at = START + timedelta(hours=hours)
        accounts.append(_account(200 + i, at, PROFILE, 0))
        footprints.append(_register(200 + i, at, f"n{i}", f"d{i}"))
    # Idle accounts registered on a clock from one school network, each with its own profile.
    for i in range(5):
        at = START + timedelta(days=4, minutes=10 * i)
        accounts.append(
            _account(300 + i, at, f"成都第{i}中学 教师 讲授{i}年级物理课并组织科技社团第{i}期活动")
        )
        footprints.append(_register(300 + i, at, "net-school", f"dd{i}"))
    found = quota.detect(Snapshot(START, END, accounts=accounts, footprints=footprints))
    assert found == []


def test_a_request_unrelated_firms_word_alike_across_the_province_is_left_alone() -> None:
    text = (
        "公司带动周边农户发展再生稻，种植户一百多户。头季收割留桩和再生季管理掌握不好，"
        "再生季产量不稳定。希望开展田间培训，提高再生季平均亩产，专家驻企指导"
    )
    # Six firms, each in its own county, one a month: the same kind of training request.
    rows = [
        _demand(
            i + 1,
            org=i + 1,
            title="再生稻高产栽培技术培训",
            text=text.replace("一百多户", f"{i + 1}百户"),
            at=START - timedelta(days=30 * i),
            centre=10 + i,
        )
        for i in range(6)
    ]
    orgs = [_org(i + 1) for i in range(6)]
    assert demands.detect(Snapshot(START, END, demands=rows, organisations=orgs)) == []
    # The same six piled on one centre within a week are a template family.
    piled = [
        DemandRow(**{**r.__dict__, "centre_id": 10, "submitted_at": START + timedelta(hours=i)})
        for i, r in enumerate(rows)
    ]
    found = demands.detect(Snapshot(START, END, demands=piled, organisations=orgs))
    assert {f.subject_id for f in found} == {1, 2, 3, 4, 5, 6}


def test_a_farm_reading_in_lockstep_on_own_devices_is_flagged_but_a_class_reading_once_is_not() -> (
    None
):
    reads, pk = [], 0
    # Six accounts, each on its own device, open one article together at irregular hours,
    # five times, reading at a human pace and always to the end.
    for hours in [3, 17, 30, 51, 70]:
        for account in range(1, 7):
            pk += 1
            at = START + timedelta(hours=hours, minutes=account)
            reads.append(_read(pk, account, 42, at, 120 + 7 * account, f"own-{account}"))
    # A class of 30 reads one article within ten minutes, once.
    for student in range(100, 130):
        pk += 1
        at = START + timedelta(days=4, seconds=20 * (student - 100))
        reads.append(_read(pk, student, 43, at, 150, f"s-{student}"))
    found = _found(reading.detect(Snapshot(START, END, reads=reads)), Kind.SCRIPTED_READING)
    assert set(found) == set(range(1, 7))
    assert found[1].evidence["lockstep_peers"] == 5 and "同时打开同一篇文章" in found[1].reason
