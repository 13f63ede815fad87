"""Private case files in Chromium: a case attachment's address answers 404 to an anonymous
visitor and to staff of another county, the uploader's download comes as an attachment, and a
file that starts like a PDF but carries a script is refused with 400 (named .html or .pdf) with
nothing stored: no row, no file in the private root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Browser, BrowserContext, Page, expect

from kejiyun.cases.models import CaseAttachment
from kejiyun.cases.workflow.services import case_attachment_add
from tests.builders import PASSWORD, make_case, make_staff, pdf_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Browser contexts opened by the test, closed before the live server goes away."""
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def new_page(browser: Browser, opened: list[BrowserContext]) -> Page:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    opened.append(context)
    return context.new_page()


def sign_in(page: Page, base: str, login: str) -> Page:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("手机号或用户名").fill(login)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    return page


def test_only_the_cases_people_get_an_attachment_and_it_comes_as_a_download(
    page: Page, browser: Browser, live_server: object, contexts: list[BrowserContext]
) -> None:
    base = str(live_server)
    alice = make_staff("alice", "510104")
    make_staff("charlie", "510822")
    case = make_case(alice)
    contract = pdf_bytes(pages=2)
    item = case_attachment_add(
        case=case,
        actor=alice,
        upload=SimpleUploadedFile("诊断报告.pdf", contract),
        name="诊断报告",
    )
    url = f"{base}/cases/{case.pk}/attachments/{item.pk}/"

    # Anonymous: not found, and no sign of the file.
    anonymous = new_page(browser, contexts)
    answer = anonymous.goto(url)
    assert answer is not None and answer.status == 404
    assert contract[:8] not in answer.body()

    # Staff of another city's county: not found either.
    charlie = sign_in(new_page(browser, contexts), base, "charlie")
    answer = charlie.goto(url)
    assert answer is not None and answer.status == 404

    # The uploader downloads it from the case page: an attachment under its own name.
    sign_in(page, base, "alice")
    page.goto(f"{base}/cases/{case.pk}/")
    with page.expect_download() as info:
        page.get_by_test_id("attachments").get_by_role("link", name="诊断报告").click()
    download = info.value
    assert download.suggested_filename == "诊断报告.pdf"
    assert Path(download.path()).read_bytes() == contract
    headers = page.request.get(url).headers
    assert headers["content-disposition"].startswith("attachment; ")
    assert headers["content-type"] == "application/pdf"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


@pytest.mark.parametrize("name", ["报告.html", "报告.pdf"])
def test_a_pdf_header_carrying_a_script_is_refused_with_400_and_nothing_is_stored(
    page: Page, live_server: object, tmp_path: Path, private_root: Path, name: str
) -> None:
    base = str(live_server)
    alice = make_staff("alice", "510104")
    case = make_case(alice)
    hostile = tmp_path / name
    hostile.write_bytes(
        b"%PDF-1.4\n<script>fetch('/cases/').then(r => r.text()).then(alert)</script>\n"
    )
    sign_in(page, base, "alice")
    page.goto(f"{base}/cases/{case.pk}/")
    form = page.locator("form", has=page.get_by_role("button", name="上传附件"))
    form.get_by_label("名称").fill("诊断报告")
    form.get_by_label("文件").set_input_files(str(hostile))
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/attachments/")
    ) as answer:
        form.get_by_role("button", name="上传附件").click()
    assert answer.value.status == 400
    expect(page.get_by_text("该文件含有网页代码（<script），已拒绝。")).to_be_visible()
    assert CaseAttachment.objects.count() == 0
    assert [p for p in private_root.rglob("*") if p.is_file()] == []
