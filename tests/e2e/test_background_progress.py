"""A long import in Chromium at phone width: staff upload 200 demands collected on paper,
confirm, and watch the progress bar (htmx polling, no inline script or style) move to 100%
while the import runs on a thread of the live server, as on the embedded default; then follow
the result link to the import report.

Demands, not workers: the import writes in one transaction, and the test database is an
in-memory SQLite whose shared cache locks whole tables against other connections (a file
database in WAL mode, as `make run` uses, does not). A worker import writes the user table,
which every page reads to know who is signed in; a demand import leaves it alone, so the
polled page keeps answering while the rows are written, its figures coming from the cache."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from kejiyun.background.models import Run
from kejiyun.demands.models import Demand
from kejiyun.spreadsheets.importers.demands import COLUMNS as DEMAND_COLUMNS
from tests.builders import make_staff, make_uscc, make_xlsx
from tests.e2e.browsing import check, signed_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROWS = 200
# The demand template's own headers, as a user downloads them.
HEADERS = [column.label for column in DEMAND_COLUMNS]
FIELDS = ["机器视觉", "茶叶加工", "电路焊接", "污水处理", "农机改造", "中药提取", "光伏运维"]


def demand_row(i: int) -> list[str]:
    field = FIELDS[i % len(FIELDS)]
    return [
        f"锦江第{i:03d}制造有限公司",
        make_uscc("510104", f"MA61{i:05d}"),
        "510104",
        f"{field}第{i:03d}号产线改造需求",
        f"本企业{field}环节第{i}道工序效率低，需要专家上门诊断并提出改造方案。",
        "技术难题",
        "",
        f"{field}工序{i}的自动化",
        f"目前由{i % 9 + 2}名工人手工完成",
        f"效率提高{i % 40 + 10}%",
        "",
        "",
        "",
    ]


def test_staff_watch_an_import_reach_100_percent_and_open_its_report(
    page: Page, browser: Browser, live_server: object, settings: Any
) -> None:
    settings.BACKGROUND_MODE = "thread"  # the embedded default: a thread after commit
    base = str(live_server)
    make_staff("alice", "510104")
    rows = [demand_row(i) for i in range(ROWS)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "线下收集需求.xlsx"
        path.write_bytes(make_xlsx(HEADERS, rows))
        alice = signed_in(browser, base, "alice")
        alice.goto(f"{base}/sheets/import/demands/")
        alice.get_by_label("Excel 文件").set_input_files(str(path))
        alice.get_by_role("button", name="上传并检查").click()
    expect(alice.get_by_role("button", name="导入", exact=True)).to_be_visible()
    alice.get_by_role("button", name="导入", exact=True).click()

    # The progress page, polled by htmx until the run ends.
    progress = alice.locator("[data-testid=run-progress]")
    expect(progress).to_be_visible()
    assert "/background/" in alice.url
    check(alice, "bg1-progress")
    expect(progress).to_have_attribute("data-status", "done", timeout=60_000)
    bar = alice.locator("[data-testid=run-bar]")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    # The bar's width comes from background-progress.js (the CSP forbids inline style).
    width = alice.locator(".progress-bar").evaluate("e => e.style.width")
    assert width == "100%"
    expect(alice.locator("[data-testid=run-count]")).to_have_text(f"{ROWS} / {ROWS}")
    expect(alice.locator("[data-testid=run-message]")).to_contain_text(
        f"导入完成：新增{ROWS}条，已存在跳过0条。"
    )
    check(alice, "bg2-done")
    run = Run.objects.get()
    assert (run.status, run.attempts, run.done, run.total) == ("done", 1, ROWS, ROWS)
    assert Demand.objects.count() == ROWS

    alice.get_by_role("link", name="查看导入结果").click()
    expect(alice.locator("[data-testid=import-result]")).to_contain_text(f"新增 {ROWS} 条")
    check(alice, "bg3-report")
