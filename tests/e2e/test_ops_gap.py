"""The supply-demand gap in Chromium: a city user opens 成都市's gap page, the map draws its
20 districts and counties coloured by gap ratio, and a county's name opens that county's gap.
No script errors, no CSP violations, no answer of 400 or more, at phone and desktop width.

The map's outlines are the dashboards' (kejiyun/static/geo/, branch ops-dash); without them
the test is skipped."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from kejiyun.ops.supervision.services import gap_coverage_refresh
from kejiyun.plans.services import worker_verify
from kejiyun.talent.models import Industry
from kejiyun.talent.services import industries_load
from tests.builders import PASSWORD, make_demand, make_enterprise, make_staff, make_tea_expert

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GEO = Path(settings.BASE_DIR) / "kejiyun" / "static" / "geo" / "counties" / "510100.json"


def watch(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # A 404 is reported twice, on the console and as a response; the response names its URL
    # (the browser's own /favicon.ico is allowed).
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text) if msg.type == "error" and "404" not in msg.text else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    return errors


@pytest.mark.skipif(not GEO.exists(), reason="the map outlines come with ops-dash")
def test_a_city_user_sees_the_gap_map_of_their_counties_and_opens_one(
    page: Page, live_server: object, settings: Any
) -> None:
    settings.MATCH_EMBEDDER = "none"
    if not Industry.objects.exists():
        industries_load()
    bob = make_staff("bob", "510100")
    alice = make_staff("alice", "510104")
    worker_verify(profile=make_tea_expert(), actor=alice)
    make_demand(
        make_enterprise("锦江茶业有限公司", "510104", "1"),
        title="茶叶病虫害绿色防控技术",
        description="茶园茶小绿叶蝉危害严重，需要茶叶病虫害绿色防控方案。",
        industry="茶叶种植",
        industry_class_id="01",
    )
    make_demand(
        make_enterprise("青羊养殖有限公司", "510105", "2"),
        title="生猪养殖疫病防控",
        description="规模化生猪养殖场需要非洲猪瘟疫病防控指导。",
        industry="生猪养殖",
        industry_class_id="03",
    )
    assert gap_coverage_refresh() == 2
    base = str(live_server)
    errors = watch(page)
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("手机号或用户名").fill(bob.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/ops/510100/gap/")
        the_map = page.locator("#ops-gap-map")
        expect(the_map).to_have_attribute("data-drawn", re.compile(r"^(\d{6},){19}\d{6}$"))
        expect(page.get_by_test_id("gap-ratio")).to_have_text("50%")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    drawn = page.evaluate(
        """() => echarts.getInstanceByDom(document.getElementById('ops-gap-map'))
            .getOption().series[0].data.filter(d => !isNaN(d.value))
            .map(d => [d.name, d.value])"""
    )
    assert sorted(drawn) == [["510104", 0], ["510105", 1]]
    page.get_by_test_id("gap-areas").get_by_role("link", name="青羊区").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("青羊区供需缺口")
    expect(page.get_by_test_id("gap-ratio")).to_have_text("100%")
    expect(page.locator("#ops-gap-map")).to_have_attribute("data-drawn", "510105")
    assert errors == []
