"""A long import in Chromium at phone width: staff upload 400 paper registrations, confirm,
and watch the progress bar (htmx polling, no inline script or style) move to 100% while the
import runs on a thread of the live server, as on the embedded default; then follow the
result link to the import report."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from kejiyun.background.models import Run
from kejiyun.talent.models import TalentProfile
from tests.builders import WORKER_HEADERS, make_staff, make_xlsx, worker_row
from tests.e2e.browsing import check, signed_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROWS = 400


def test_staff_watch_an_import_reach_100_percent_and_open_its_report(
    page: Page, browser: Browser, live_server: object, settings: Any
) -> None:
    settings.BACKGROUND_MODE = "thread"  # the embedded default: a thread after commit
    base = str(live_server)
    make_staff("alice", "510104")
    rows = [
        worker_row(name=f"张{i:03d}", mobile=f"1380000{i:04d}", id_number="") for i in range(ROWS)
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "科技工作者登记表.xlsx"
        path.write_bytes(make_xlsx(WORKER_HEADERS, rows, sheet="科技工作者"))
        alice = signed_in(browser, base, "alice")
        alice.goto(f"{base}/sheets/import/workers/")
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
    assert TalentProfile.objects.count() == ROWS

    alice.get_by_role("link", name="查看导入结果").click()
    expect(alice.locator("[data-testid=import-result]")).to_contain_text(f"新增 {ROWS} 条")
    check(alice, "bg3-report")
