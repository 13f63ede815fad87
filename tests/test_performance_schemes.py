"""Scheme pages (/performance/schemes/): who may write (the scheme role at the province, 403
otherwise), who may read (drafts only for the scheme role, 404 otherwise; centres of one's
jurisdiction), validation with Chinese errors and nothing changed, publishing (audited once,
one per period and level) and the freeze (409 after publishing, 409 on a stale edit).

Figures are month rollups written directly for March 2026 (2026H1), cases closed:
    锦江区 510104: 12   青羊区 510105: 8   金牛区 510106: 8   青川县 510822: 4
With one item, cases_closed weight 100 TARGET 10: 锦江区 100.00 (rank 1), 青羊区 and 金牛区
80.00 (both rank 2), 青川县 40.00 (rank 4), every other county 0.00 (rank 5).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.ops.models import Rollup
from kejiyun.ops.rollups import rollup_areas_refresh
from kejiyun.performance.models import Scheme, SchemeItem
from kejiyun.performance.schemes.selectors import scheme_measures, scheme_scores
from kejiyun.performance.schemes.services import (
    ItemInput,
    SchemeInput,
    scheme_create,
    scheme_publish,
)
from kejiyun.performance.scoring import SchemeError
from kejiyun.regions.models import ServiceCentre
from tests.builders import client_for, make_staff

MARCH = date(2026, 3, 1)
CLOSED = {"510104": 12, "510105": 8, "510106": 8, "510822": 4}


def grant(user: User, codename: str = "manage_scheme") -> User:
    user.user_permissions.add(Permission.objects.get(codename=codename))
    return User.objects.get(pk=user.pk)  # a fresh permission cache


@pytest.fixture
def figures(db: None) -> None:
    for code, closed in CLOSED.items():
        centre = ServiceCentre.objects.select_related("region").get(region_id=code)
        Rollup.objects.create(
            grain=Rollup.Grain.MONTH,
            start=MARCH,
            indicator="cases_closed",
            centre=centre,
            path=centre.region.path,
            num=Decimal(closed),
            den=0,
        )
    rollup_areas_refresh(month=MARCH)


@pytest.fixture
def manager(pat: User) -> User:
    return grant(pat)


def data(**changes: Any) -> SchemeInput:
    values: dict[str, Any] = {
        "name": "2026年上半年区县考核",
        "period": "2026H1",
        "level": Scheme.Level.COUNTY,
        "note": "",
        "discount_open_above": None,
        "items": [ItemInput("cases_closed", Decimal(100), "target", Decimal(10))],
    }
    values.update(changes)
    return SchemeInput(**values)


@pytest.fixture
def draft(manager: User) -> Scheme:
    return scheme_create(actor=manager, data=data())


@pytest.fixture
def published(manager: User, draft: Scheme) -> Scheme:
    return scheme_publish(actor=manager, scheme=draft, expected_version=draft.version)


def post_data(
    version: int | None = None, items: list[tuple[str, str, str, str]] | None = None, **fields: str
) -> dict[str, str]:
    rows = (
        items
        if items is not None
        else [
            ("cases_closed", "60", "target", "10"),
            ("satisfaction_mean", "40", "minmax", ""),
        ]
    )
    out = {
        "name": "2026年上半年区县考核",
        "level": "county",
        "kind": "half",
        "year": "2026",
        "half": "1",
        "note": "只计核实的成果",
        "discount_open_above": "",
        "items-TOTAL_FORMS": "10",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "10",
        "items-MAX_NUM_FORMS": "10",
    }
    for i in range(10):
        indicator, weight, method, target = rows[i] if i < len(rows) else ("", "", "target", "")
        out[f"items-{i}-indicator"] = indicator
        out[f"items-{i}-weight"] = weight
        out[f"items-{i}-normalisation"] = method
        out[f"items-{i}-target"] = target
    if version is not None:
        out["version"] = str(version)
    out.update(fields)
    return out


# --- Writing ---------------------------------------------------------------------------------


def test_the_scheme_role_creates_a_draft(manager: User) -> None:
    client = client_for(manager)
    assert client.get(reverse("performance:schemes:new")).status_code == 200
    response = client.post(reverse("performance:schemes:new"), post_data())
    assert response.status_code == 302
    scheme = Scheme.objects.get()
    assert (scheme.period, scheme.level, scheme.status) == ("2026H1", "county", "draft")
    assert [(i.indicator, i.weight, i.normalisation, i.target) for i in scheme.items.all()] == [
        ("cases_closed", Decimal(60), "target", Decimal(10)),
        ("satisfaction_mean", Decimal(40), "minmax", None),
    ]


@pytest.mark.parametrize(
    ("items", "fields", "message"),
    [
        ([("cases_closed", "60", "target", "10")], {}, "各项权重之和须为 100 分，现在是 60 分"),
        (
            [("cases_closed", "50", "target", "10"), ("cases_closed", "50", "minmax", "")],
            {},
            "指标“结案”重复",
        ),
        ([("cases_closed", "100", "target", "")], {}, "请填写目标值"),
        ([("cases_closed", "100", "target", "0")], {}, "目标值须大于 0"),
        ([("escalations", "100", "target", "-1")], {}, "目标值不能小于 0"),
        ([("demands_returned", "100", "minmax", "")], {}, "选择一个有效的选项"),
        ([], {}, "请至少添加一项考核指标"),
        ([("cases_closed", "100", "rank", "")], {"name": ""}, "这个字段是必填项"),
        ([("cases_closed", "100", "rank", "")], {"year": ""}, "请填写考核期的年份"),
        (
            [("cases_closed", "100", "rank", "")],
            {"kind": "custom", "start": "2026-03-01", "end": "2026-01-01"},
            "结束日期不能早于开始日期",
        ),
        ([("cases_closed", "100", "rank", "")], {"discount_open_above": "1.5"}, "1"),
        ([("cases_closed", "", "rank", "")], {}, "请填写权重"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_changes_nothing(
    manager: User, items: list[tuple[str, str, str, str]], fields: dict[str, str], message: str
) -> None:
    response = client_for(manager).post(
        reverse("performance:schemes:new"), post_data(items=items, **fields)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Scheme.objects.exists()
    assert not SchemeItem.objects.exists()


def test_writes_need_the_scheme_role_at_the_province(pat: User, bob: User) -> None:
    # Pat (province) without the role, Bob (city) with it: both refused, nothing written.
    assert client_for(pat).get(reverse("performance:schemes:new")).status_code == 403
    assert client_for(pat).post(reverse("performance:schemes:new"), post_data()).status_code == 403
    city = grant(bob)
    assert client_for(city).post(reverse("performance:schemes:new"), post_data()).status_code == 403
    assert not Scheme.objects.exists()


def test_edit_a_draft_then_a_stale_edit_is_409(manager: User, draft: Scheme) -> None:
    client = client_for(manager)
    url = reverse("performance:schemes:edit", args=[draft.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, post_data(version=draft.version, name="改过的名字"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.name == "改过的名字" and draft.version == 2
    assert draft.items.count() == 2
    stale = client.post(url, post_data(version=1, name="旧页面"))
    assert stale.status_code == 409
    assert "该记录已被他人修改" in stale.content.decode()
    draft.refresh_from_db()
    assert draft.name == "改过的名字"


def test_publish_is_audited_once_and_freezes_the_scheme(manager: User, draft: Scheme) -> None:
    client = client_for(manager)
    response = client.post(
        reverse("performance:schemes:publish", args=[draft.pk]), {"version": draft.version}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "published" and draft.published_by == manager
    assert AuditEvent.objects.filter(action=AuditAction.SCHEME_PUBLISH).count() == 1
    # Any edit now is 409 with a clear message, and changes nothing.
    edit = client.post(
        reverse("performance:schemes:edit", args=[draft.pk]),
        post_data(version=draft.version, name="想改"),
    )
    assert edit.status_code == 409
    assert "已发布，内容已冻结" in edit.content.decode()
    again = client.post(
        reverse("performance:schemes:publish", args=[draft.pk]), {"version": draft.version}
    )
    assert again.status_code == 409
    draft.refresh_from_db()
    assert draft.name == "2026年上半年区县考核"
    assert AuditEvent.objects.filter(action=AuditAction.SCHEME_PUBLISH).count() == 1
    # GET of the edit page sends the user back to the scheme.
    assert client.get(reverse("performance:schemes:edit", args=[draft.pk])).status_code == 302


def test_one_published_scheme_per_period_and_level(manager: User, published: Scheme) -> None:
    second = scheme_create(actor=manager, data=data(name="另一个方案"))
    response = client_for(manager).post(
        reverse("performance:schemes:publish", args=[second.pk]), {"version": second.version}
    )
    assert response.status_code == 400
    assert "同一考核期和考核对象只能发布一个方案" in response.content.decode()
    second.refresh_from_db()
    assert second.status == "draft"
    # A city scheme of the same period is another level: it may be published.
    city = scheme_create(actor=manager, data=data(level=Scheme.Level.CITY))
    scheme_publish(actor=manager, scheme=city, expected_version=city.version)


def test_publishing_rechecks_the_items(manager: User, draft: Scheme) -> None:
    SchemeItem.objects.filter(scheme=draft).update(weight=Decimal(50))
    response = client_for(manager).post(
        reverse("performance:schemes:publish", args=[draft.pk]), {"version": draft.version}
    )
    assert response.status_code == 400
    assert "各项权重之和须为 100 分" in response.content.decode()


# --- Reading ---------------------------------------------------------------------------------


def test_drafts_are_for_the_scheme_role_only(manager: User, draft: Scheme, alice: User) -> None:
    assert (
        draft.name in client_for(manager).get(reverse("performance:schemes:list")).content.decode()
    )
    client = client_for(alice)
    assert draft.name not in client.get(reverse("performance:schemes:list")).content.decode()
    for name in ("detail", "ranking", "formula", "edit"):
        assert (
            client.get(reverse(f"performance:schemes:{name}", args=[draft.pk])).status_code == 404
        )


def test_only_staff_and_admins_read(published: Scheme, dora: User) -> None:
    url = reverse("performance:schemes:ranking", args=[published.pk])
    assert client_for(dora).get(url).status_code == 404
    assert client_for(dora).get(reverse("performance:schemes:list")).status_code == 404


def _ranked(response: Any) -> list[tuple[str, str, str]]:
    import re

    return re.findall(
        r'data-centre="(\d+)" data-rank="(\d+)" data-total="([\d.]+)"', response.content.decode()
    )


def test_ranking_by_jurisdiction(
    figures: None, published: Scheme, manager: User, alice: User, bob: User, charlie: User
) -> None:
    url = reverse("performance:schemes:ranking", args=[published.pk])
    everyone = _ranked(client_for(manager).get(url))
    assert everyone[:5] == [
        ("510104", "1", "100.00"),
        ("510105", "2", "80.00"),
        ("510106", "2", "80.00"),
        ("510822", "4", "40.00"),
        (everyone[4][0], "5", "0.00"),
    ]
    assert (
        len(everyone)
        == ServiceCentre.objects.filter(
            region__level="county", region__path__startswith="510000/"
        ).count()
    )
    # Alice (锦江区) sees her county with its rank among all counties.
    assert _ranked(client_for(alice).get(url)) == [("510104", "1", "100.00")]
    # Charlie (青川县, 广元市) sees his own: 4th.
    assert _ranked(client_for(charlie).get(url)) == [("510822", "4", "40.00")]
    # Bob (成都市) sees Chengdu's counties only.
    chengdu = _ranked(client_for(bob).get(url))
    assert chengdu[:3] == [
        ("510104", "1", "100.00"),
        ("510105", "2", "80.00"),
        ("510106", "2", "80.00"),
    ]
    assert all(code.startswith("5101") for code, _, _ in chengdu)
    # The breakdown says how each point was earned.
    page = client_for(alice).get(url).content.decode()
    assert "结案 12 件 ÷ 目标 10 件 = 1.20，封顶 1，得 100.00 × 1 = 100.00 分" in page


def test_a_city_scheme_is_not_for_county_staff(manager: User, alice: User, bob: User) -> None:
    city = scheme_create(actor=manager, data=data(level=Scheme.Level.CITY))
    scheme_publish(actor=manager, scheme=city, expected_version=city.version)
    assert (
        client_for(alice).get(reverse("performance:schemes:ranking", args=[city.pk])).status_code
        == 404
    )
    assert (
        client_for(alice).get(reverse("performance:schemes:formula", args=[city.pk])).status_code
        == 404
    )
    assert _ranked(client_for(bob).get(reverse("performance:schemes:ranking", args=[city.pk]))) == [
        ("510100", "1", "0.00")
    ]


def test_the_published_formula(figures: None, published: Scheme, alice: User, bob: User) -> None:
    url = reverse("performance:schemes:formula", args=[published.pk])
    page = client_for(alice).get(url).content.decode()
    assert "对标目标值" in page and "权重 × 得分比例" in page and "空壳结案" in page
    assert 'data-centre="510104"' in page  # her own centre by default
    assert "总分 100.00 分" in page
    # Another county outside her jurisdiction is not shown: her own stays.
    page = client_for(alice).get(url, {"centre": "510105"}).content.decode()
    assert 'data-testid="worked" data-centre="510104"' in page
    # Bob may pick any Chengdu county.
    page = client_for(bob).get(url, {"centre": "510105"}).content.decode()
    assert 'data-testid="worked" data-centre="510105"' in page
    assert "结案 8 件 ÷ 目标 10 件 = 0.80，得 100.00 × 0.80 = 80.00 分" in page


def test_the_list_is_linked_from_the_staff_menu(alice: User) -> None:
    page = client_for(alice).get(reverse("cases:queue")).content.decode()
    assert reverse("performance:schemes:list") in page


def test_admins_see_everything(published: Scheme, figures: None) -> None:
    admin = User.objects.create_superuser(username="root", password="x-Pass-9-long")
    response = client_for(admin).get(reverse("performance:schemes:ranking", args=[published.pk]))
    assert _ranked(response)[0] == ("510104", "1", "100.00")
    assert client_for(admin).get(reverse("performance:schemes:new")).status_code == 200


def test_a_city_staff_member_with_the_role_still_cannot_publish(
    published: Scheme, bob: User, manager: User
) -> None:
    second = scheme_create(actor=manager, data=data(name="草稿二", period="2026H2"))
    city = grant(bob)
    client = client_for(city)
    # The role acts on the province side only: to a city, a draft is a scheme that does not
    # exist (as for anyone without the role), and publishing it is refused the same way.
    assert client.get(reverse("performance:schemes:detail", args=[second.pk])).status_code == 404
    response = client.post(
        reverse("performance:schemes:publish", args=[second.pk]), {"version": second.version}
    )
    assert response.status_code == 404
    second.refresh_from_db()
    assert second.status == Scheme.Status.DRAFT
    assert make_staff("zed", "510000").has_perm("performance.manage_scheme") is False


# --- The what-if's overrides -------------------------------------------------------------------


def test_overrides_change_items_without_saving(figures: None, draft: Scheme) -> None:
    # Saved: cases_closed weight 100, TARGET 10. 锦江区 12 → 100.00, 青羊区 8 → 80.00.
    base = {s.code: s.total for s in scheme_scores(draft)}
    assert (base["510104"], base["510105"]) == (Decimal("100.00"), Decimal("80.00"))
    # Target 16: 12/16 = 0.75 → 75.00; 8/16 = 0.5 → 50.00.
    what_if = scheme_scores(draft, {"cases_closed": {"target": Decimal(16)}})
    by_code = {s.code: s.total for s in what_if}
    assert (by_code["510104"], by_code["510105"]) == (Decimal("75.00"), Decimal("50.00"))
    # Rank instead (锦江区 is 1st: 80 × 1 = 80.00), and a new item: cases_opened, MINMAX,
    # 20 points; every county has 0 (a count is a value), all equal → 1 → 20.00.
    what_if = scheme_scores(
        draft,
        {
            "cases_closed": {"normalisation": "rank", "weight": "80"},
            "cases_opened": {"weight": Decimal(20), "normalisation": "minmax", "target": None},
        },
    )
    jinjiang = next(s for s in what_if if s.code == "510104")
    assert [line.key for line in jinjiang.lines] == ["cases_closed", "cases_opened"]
    assert jinjiang.total == Decimal("100.00")
    qingyang = next(s for s in what_if if s.code == "510105")
    # 青羊区 ties 2nd with 金牛区 among 183 counties and beats the 180 behind them:
    # 180 ÷ 182 = 0.9890 → 80 × 0.9890 = 79.12.
    assert qingyang.lines[0].points == Decimal("79.12")
    # A weight of 0 drops an item; nothing was saved.
    items, _ = scheme_measures(
        draft,
        {"cases_closed": {"weight": 0}, "rated_share": {"weight": 10, "normalisation": "rank"}},
    )
    assert [i.key for i in items] == ["rated_share"]
    assert draft.items.get().weight == Decimal(100) and draft.items.get().target == Decimal(10)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"nope": {"weight": 1}}, "不在指标目录中"),
        ({"cases_closed": {"weight": "abc"}}, "权重不是有效数字"),
        ({"cases_closed": {"target": "NaN"}}, "目标值不是有效数字"),
        ({"cases_closed": {"normalisation": "magic"}}, "计分方法无效"),
        ({"cases_opened": {"normalisation": "rank"}}, "缺少权重"),
        ({"cases_closed": {"target": None}}, "请填写目标值"),
    ],
)
def test_bad_overrides_are_refused(
    draft: Scheme, overrides: dict[str, dict[str, Any]], message: str
) -> None:
    with pytest.raises(SchemeError, match=message):
        scheme_scores(draft, overrides)


def test_no_link_leads_a_county_to_a_city_scheme_it_may_not_read(
    manager: User, alice: User, published: Scheme
) -> None:
    city = scheme_create(actor=manager, data=data(level=Scheme.Level.CITY, name="市州考核"))
    scheme_publish(actor=manager, scheme=city, expected_version=city.version)
    client = client_for(alice)
    page = client.get(reverse("performance:schemes:list")).content.decode()
    assert reverse("performance:schemes:ranking", args=[published.pk]) in page
    assert reverse("performance:schemes:ranking", args=[city.pk]) not in page
    assert "不考核本辖区" in page
    detail = client.get(reverse("performance:schemes:detail", args=[city.pk])).content.decode()
    assert reverse("performance:schemes:ranking", args=[city.pk]) not in detail
