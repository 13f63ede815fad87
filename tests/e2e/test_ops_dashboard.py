"""The operations dashboard in Chromium: a province user opens it, sees the map of the 21
cities, switches the map's indicator, clicks 成都市 on the map and sees its 20 districts and
counties; a county user sees only their county and gets 404 on another county's dashboard.
No script errors, no CSP violations, no answer of 400 or more (the 404 asked for aside), and
the page fits a phone (390 px) and a desktop (1280 px)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from kejiyun.ops.models import Rollup
from kejiyun.ops.rollups import rollup_days
from kejiyun.regions.models import Region, ServiceCentre
from tests.builders import PASSWORD, make_case, make_staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parent.parent.parent / "var" / "screenshots"


def put(code: str, key: str, day: date, num: int) -> None:
    centre = ServiceCentre.objects.select_related("region").get(region_id=code)
    for grain, start in ((Rollup.Grain.DAY, day), (Rollup.Grain.MONTH, day.replace(day=1))):
        row, _ = Rollup.objects.get_or_create(
            grain=grain,
            start=start,
            indicator=key,
            centre=centre,
            defaults={"path": centre.region.path},
        )
        row.num += Decimal(num)
        row.save()


def sign_in(page: Page, base: str, login: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("手机号或用户名").fill(login)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def watch(page: Page, allowed: tuple[str, ...] = ()) -> list[str]:
    """Script errors, console errors (CSP violations are reported there) and answers of 400
    or more, except for URLs ending in one of `allowed`."""
    errors: list[str] = []
    # CSP violations are reported on the console too; this also catches them by their event.
    page.add_init_script(
        """document.addEventListener('securitypolicyviolation', e => {
            console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI);
        });"""
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
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
            if r.status >= 400 and not r.url.endswith(("/favicon.ico", *allowed))
            else None
        ),
    )
    return errors


def page_year(page: Page) -> str:
    return str(page.get_by_label("年份").input_value())


def map_values(page: Page) -> dict[str, Any]:
    return page.evaluate(  # type: ignore[no-any-return]
        """() => {
            const chart = echarts.getInstanceByDom(document.getElementById('ops-map'));
            const out = {};
            chart.getOption().series[0].data.forEach(d => { out[d.name] = d.value; });
            return out;
        }"""
    )


def test_a_province_user_drills_from_the_map_of_sichuan_into_chengdu(
    page: Page, live_server: object
) -> None:
    base = str(live_server)
    today = timezone.localdate()
    make_staff("pat", "510000")
    # One real case in 锦江区, rolled up by the rollup job; the other figures written directly.
    case = make_case(None, county="510104", title="茶园病虫害绿色防控")
    rollup_days(start=today, end=today)
    put("510104", "cases_opened", today, 4)
    put("510105", "cases_opened", today, 7)
    put("510302", "cases_opened", today, 6)
    put("510104", "escalations", today, 2)
    errors = watch(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, base, "pat")

    page.get_by_role("button", name="服务中心").click()
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="运营数据").click()
    expect(page).to_have_url(f"{base}/ops/510000/")
    expect(page.get_by_role("heading", name="四川省运营数据")).to_be_visible()
    the_map = page.locator("#ops-map")
    expect(the_map).to_have_attribute("data-shown", "cases_opened")
    drawn = (the_map.get_attribute("data-drawn") or "").split(",")
    assert len(drawn) == 21 and "510100" in drawn and "513400" in drawn
    expect(the_map.locator("canvas").first).to_be_visible()
    values = map_values(page)
    assert (values["510100"], values["510300"], values["510400"]) == (12, 6, 0)
    expect(page.get_by_test_id("ranking").locator("tbody tr").first).to_contain_text("成都市")

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "ops-province-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / "ops-province-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})
    page.wait_for_timeout(300)

    # The map's indicator switch reloads the map data only.
    page.get_by_label("地图指标").select_option("escalations")
    expect(the_map).to_have_attribute("data-shown", "escalations")
    values = map_values(page)
    assert (values["510100"], values["510300"]) == (2, 0)
    assert page.url == f"{base}/ops/510000/"
    page.get_by_label("地图指标").select_option("cases_opened")
    expect(the_map).to_have_attribute("data-shown", "cases_opened")

    # A click on 成都市 on the map, at the pixel of its centroid.
    chengdu = Region.objects.get(code="510100")
    x, y = page.evaluate(
        """([lon, lat]) => echarts.getInstanceByDom(document.getElementById('ops-map'))
                .convertToPixel({seriesIndex: 0}, [lon, lat])""",
        [chengdu.lon, chengdu.lat],
    )
    box = the_map.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + x, box["y"] + y)  # the tooltip, drawn on the canvas
    page.wait_for_timeout(300)
    page.mouse.click(box["x"] + x, box["y"] + y)
    expect(page.get_by_role("heading", name="成都市运营数据")).to_be_visible()
    assert page.url.startswith(f"{base}/ops/510100/?period=")
    expect(the_map).to_have_attribute("data-shown", "cases_opened")
    drawn = (the_map.get_attribute("data-drawn") or "").split(",")
    assert len(drawn) == 20 and "510104" in drawn and "510185" in drawn
    ranking = page.get_by_test_id("ranking")
    expect(ranking.locator("tbody tr").first).to_contain_text("青羊区")
    page.screenshot(path=str(SHOTS / "ops-chengdu-1280.png"), full_page=True)

    # A county from the city's map.
    jinjiang = Region.objects.get(code="510104")
    x, y = page.evaluate(
        """([lon, lat]) => echarts.getInstanceByDom(document.getElementById('ops-map'))
                .convertToPixel({seriesIndex: 0}, [lon, lat])""",
        [jinjiang.lon, jinjiang.lat],
    )
    box = the_map.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + y)
    expect(page.get_by_role("heading", name="锦江区运营数据")).to_be_visible()
    expect(the_map).to_have_attribute("data-drawn", "510104")

    # The county's supervision table, and the case behind its open-cases figure.
    page.get_by_role("link", name="督办表").click()
    expect(page.get_by_role("heading", name="锦江区督办表")).to_be_visible()
    table = page.get_by_test_id("supervision-table")
    open_cases = table.locator("tbody a[data-figure=open]").first
    expect(open_cases).to_have_text("1")
    open_cases.click()
    page.get_by_role("link", name=case.demand.title).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.demand.title)
    assert page.url == f"{base}/cases/{case.pk}/"
    assert errors == []


def test_a_county_user_sees_only_their_county_and_gets_404_on_another(
    page: Page, live_server: object
) -> None:
    base = str(live_server)
    make_staff("alice", "510104")
    put("510104", "cases_opened", timezone.localdate(), 3)
    errors = watch(page, allowed=("/ops/510105/",))
    sign_in(page, base, "alice")
    page.goto(f"{base}/ops/")
    expect(page.get_by_role("heading", name="锦江区运营数据")).to_be_visible()
    the_map = page.locator("#ops-map")
    expect(the_map).to_have_attribute("data-drawn", "510104")
    assert map_values(page) == {"510104": 3}
    # The trend's tooltip, drawn on the canvas (an HTML tooltip would break the CSP).
    trend = page.locator("#ops-trend").bounding_box()
    assert trend is not None
    page.mouse.move(trend["x"] + trend["width"] / 2, trend["y"] + trend["height"] / 2)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / "ops-county-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The period picker shows the fields of the kind chosen and lands on the period's token.
    page.get_by_label("统计期", exact=True).select_option(label="季度")
    expect(page.get_by_label("月份")).to_be_hidden()
    page.get_by_label("季度", exact=True).select_option(label="第2季度")
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_test_id("period-label")).to_have_text(f"{page_year(page)}年第2季度")
    assert "period=" in page.url and "Q2" in page.url

    response = page.goto(f"{base}/ops/510105/")
    assert response is not None and response.status == 404
    assert errors == []
