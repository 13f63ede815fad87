"""Bulletins (通报): the frozen content, the PDF and the workbook read back, the second-person
approval, the inbox of the centres below, read receipts, and jurisdiction.

The figures are Rollup rows written directly for 成都市's counties in March 2026, so the
first half of 2026 (2026H1) has known answers:

    锦江区 cases opened 40, closed on time 9 of 10 (90.0%)
    青羊区 cases opened 30, closed on time 8 of 10 (80.0%)
    金牛区 cases opened 20, closed on time 7 of 10 (70.0%)
    武侯区 cases opened 10, closed on time 1 of 10 (10.0%)  ← bottom quartile, lagging

Bob (成都市) drafts; Bella, his colleague at the same centre, approves; Alice (锦江区) and
Wendy (武侯区) are at centres the bulletin is addressed to; Charlie (青川县, 广元市) is not.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook  # type: ignore[import-untyped]
from pypdf import PdfReader

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.common.errors import NotPermitted, Stale
from kejiyun.notifications.models import InboxItem, OutboxMessage
from kejiyun.ops.bulletins import ranking
from kejiyun.ops.bulletins.render_pdf import bulletin_pdf
from kejiyun.ops.bulletins.render_xlsx import bulletin_xlsx
from kejiyun.ops.bulletins.services import (
    BulletinError,
    bulletin_approve,
    bulletin_create,
    bulletin_read,
    bulletin_return,
    bulletin_submit,
    bulletin_update,
)
from kejiyun.ops.models import (
    Bulletin,
    BulletinEvent,
    BulletinReceipt,
    BulletinStatus,
    Rollup,
    WorkReport,
)
from kejiyun.ops.rollups import rollup_areas_refresh
from kejiyun.regions.models import ServiceCentre
from kejiyun.regions.services import regions_load, service_centres_ensure
from tests.builders import client_for, make_staff

MARCH = date(2026, 3, 1)
INDICATORS = ["cases_opened", "closed_on_time_share"]
FIGURES = {
    "510104": (40, 9),
    "510105": (30, 8),
    "510106": (20, 7),
    "510107": (10, 1),
}
RANKED = [
    ("1", "锦江区", "40", "90.0%"),
    ("2", "青羊区", "30", "80.0%"),
    ("3", "金牛区", "20", "70.0%"),
    ("4", "武侯区", "10", "10.0%"),
]
NOW = datetime.fromisoformat("2026-07-10T09:00:00+08:00")


def _rollup(code: str, indicator: str, num: int, den: int = 0) -> None:
    centre = ServiceCentre.objects.select_related("region").get(region_id=code)
    Rollup.objects.create(
        grain=Rollup.Grain.MONTH,
        start=MARCH,
        indicator=indicator,
        centre=centre,
        path=centre.region.path,
        num=Decimal(num),
        den=den,
    )
    rollup_areas_refresh(month=MARCH)


@pytest.fixture
def figures(db: None) -> None:
    for code, (opened, on_time) in FIGURES.items():
        _rollup(code, "cases_opened", opened)
        _rollup(code, "closed_on_time_share", on_time, 10)


@pytest.fixture
def bella(db: None) -> User:
    """Bob's colleague at the 成都市 centre."""
    return make_staff("bella", "510100")


@pytest.fixture
def wendy(db: None) -> User:
    """Staff of the 武侯区 centre."""
    return make_staff("wendy", "510107")


@pytest.fixture
def draft(bob: User, figures: None) -> Bulletin:
    return bulletin_create(
        author=bob,
        period="2026H1",
        indicators=INDICATORS,
        commentary="武侯区按时结案率偏低，请加快办理。",
    )


@pytest.fixture
def pending(draft: Bulletin, bob: User) -> Bulletin:
    return bulletin_submit(actor=bob, bulletin=draft, now=NOW)


@pytest.fixture
def published(
    pending: Bulletin,
    bella: User,
    alice: User,
    wendy: User,
    charlie: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> Bulletin:
    with django_capture_on_commit_callbacks(execute=True):
        return bulletin_approve(actor=bella, bulletin=pending, now=NOW)


def _flat(text: str) -> str:
    """Extracted text without whitespace and NULs. fpdf2 writes a CID-keyed CFF font with its
    own code-to-CID CMap; pypdf reads each two-byte code through the ToUnicode map right but
    also emits the high byte as NUL and spaces between glyphs, which viewers do not do."""
    return re.sub(r"[\s\x00]+", "", text)


def _snapshot(bulletin: Bulletin) -> tuple[object, ...]:
    bulletin.refresh_from_db()
    return (
        bulletin.status,
        bulletin.approver_id,
        bulletin.published_at,
        BulletinEvent.objects.filter(bulletin=bulletin).count(),
        BulletinReceipt.objects.filter(bulletin=bulletin).count(),
        OutboxMessage.objects.filter(source="bulletin").count(),
    )


# --- Ranking and lagging, as pure rules -------------------------------------------------------


def test_centres_are_ranked_by_their_mean_rank_and_equal_figures_share_a_rank() -> None:
    values = {
        "a": {"x": 5.0, "y": 1.0},
        "b": {"x": 5.0, "y": 3.0},
        "c": {"x": 9.0, "y": None},
        "d": {"x": 1.0, "y": 2.0},
    }
    rows = ranking.rank(values, ["x", "y"], {"x": 1, "y": -1})
    assert [(r.code, r.rank, r.ranks) for r in rows] == [
        ("a", 1, {"x": 2, "y": 1}),
        ("c", 2, {"x": 1, "y": 4}),  # mean 2.5, ahead of b on the first indicator
        ("b", 3, {"x": 2, "y": 3}),
        ("d", 4, {"x": 4, "y": 2}),
    ]


def test_a_centre_lags_in_the_bottom_quartile_or_far_from_the_median_never_on_neutral() -> None:
    values = {
        "a": {"up": 100.0, "down": 1.0, "flat": 0.0},
        "b": {"up": 90.0, "down": 1.0, "flat": 0.0},
        "c": {"up": 80.0, "down": 1.0, "flat": 100.0},
        "d": {"up": 30.0, "down": 5.0, "flat": 0.0},
        "e": {"up": None, "down": 1.0, "flat": 0.0},
    }
    found = ranking.lagging(values, ["up", "down", "flat"], {"up": 1, "down": -1, "flat": 0}, 50)
    assert [
        (c.code, [(lag.key, lag.bottom_quartile, lag.far_from_median) for lag in c.lags])
        for c in found
    ] == [
        ("d", [("up", True, True), ("down", True, True)]),
    ]


# --- Content, PDF and workbook -------------------------------------------------------------


def test_submitting_freezes_the_ranking_and_the_lagging_centres(pending: Bulletin) -> None:
    content = pending.content
    assert content is not None
    assert [(r["rank"], r["name"], r["values"]) for r in content["ranking"][:4]] == [
        (1, "锦江区", {"cases_opened": 40.0, "closed_on_time_share": 0.9}),
        (2, "青羊区", {"cases_opened": 30.0, "closed_on_time_share": 0.8}),
        (3, "金牛区", {"cases_opened": 20.0, "closed_on_time_share": 0.7}),
        (4, "武侯区", {"cases_opened": 10.0, "closed_on_time_share": 0.1}),
    ]
    assert len(content["ranking"]) == 20  # every county and district of 成都市
    assert [(c["name"], [lag["key"] for lag in c["lags"]]) for c in content["lagging"]] == [
        ("武侯区", ["closed_on_time_share"])
    ]
    headline = {line["key"]: line["value"] for line in content["headline"]}
    assert headline["cases_opened"] == 100.0
    assert headline["closed_on_time_share"] == pytest.approx(25 / 40)
    # Later rollups do not change what was submitted.
    _rollup("510108", "cases_opened", 99)
    pending.refresh_from_db()
    assert pending.content == content


def test_the_pdf_embeds_its_chinese_font_and_reads_back_the_ranking_in_order(
    published: Bulletin,
) -> None:
    assert published.content is not None
    data = bulletin_pdf(published, published.content)
    reader = PdfReader(io.BytesIO(data))
    text = _flat("".join(page.extract_text() for page in reader.pages))
    assert _flat(published.title) in text
    positions = [text.find("".join(row)) for row in RANKED]
    assert all(p >= 0 for p in positions), positions
    assert positions == sorted(positions)
    assert "武侯区按时结案率10.0%" in text  # the lagging table
    assert "武侯区按时结案率偏低，请加快办理。" in text
    embedded = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            for descendant in font.get_object().get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                embedded.append(("/FontFile2" in descriptor) or ("/FontFile3" in descriptor))
                assert str(descriptor["/FontName"]).endswith("+NotoSansSC")  # a subset
    assert embedded and all(embedded)


def test_the_workbook_has_the_four_sheets_and_the_ranking_as_numbers(published: Bulletin) -> None:
    assert published.content is not None
    book = load_workbook(io.BytesIO(bulletin_xlsx(published, published.content)))
    assert book.sheetnames == ["概要", "排名", "落后指标", "工作汇报摘录"]
    rows = list(book["排名"].iter_rows(min_row=1, max_row=5, max_col=5, values_only=True))
    assert rows == [
        ("名次", "地区", "服务中心", "立案（件）", "按时结案率"),
        (1, "锦江区", "锦江区科技服务中心", 40, 0.9),
        (2, "青羊区", "青羊区科技服务中心", 30, 0.8),
        (3, "金牛区", "金牛区科技服务中心", 20, 0.7),
        (4, "武侯区", "武侯区科技服务中心", 10, 0.1),
    ]
    lagging = list(book["落后指标"].iter_rows(min_row=2, values_only=True))
    assert lagging == [("武侯区", "按时结案率", 0.1, 0.75, "处于后四分之一，低于中位数的50%")]
    summary = {row[0]: row[1] for row in book["概要"].iter_rows(values_only=True) if row[0]}
    assert summary["统计期"] == "2026年上半年"
    assert summary["审核人"] == "Bella"


def _report(code: str, status: str, difficulties: str, plans: str, half: int = 1) -> None:
    WorkReport.objects.create(
        centre=ServiceCentre.objects.get(region_id=code),
        year=2026,
        half=half,
        status=status,
        difficulties=difficulties,
        plans=plans,
        due_on=date(2026, 7, 15),
        submitted_at=None if status == "draft" else NOW,
        accepted_at=NOW if status == "accepted" else None,
    )


def test_the_work_reports_accepted_for_the_half_year_are_quoted(draft: Bulletin, bob: User) -> None:
    _report("510107", "accepted", "专家资源不足", "下半年引进十名专家", half=1)
    _report("510104", "accepted", "企业需求描述不清", "开展需求辅导")
    _report("510105", "draft", "草稿不引用", "草稿不引用")
    _report("510108", "submitted", "待审阅的汇报不引用", "不引用")
    _report("510112", "returned", "退回的汇报不引用", "不引用")
    _report("510106", "accepted", "下半年的汇报不引用", "不引用", half=2)
    _report("510822", "accepted", "广元的汇报不引用", "不引用")  # not a county of 成都市
    bulletin_submit(actor=bob, bulletin=draft, now=NOW)
    assert draft.content is not None
    assert [
        (e["name"], e["half"], e["difficulties"], e["plans"]) for e in draft.content["excerpts"]
    ] == [
        ("锦江区", "2026年上半年", "企业需求描述不清", "开展需求辅导"),
        ("武侯区", "2026年上半年", "专家资源不足", "下半年引进十名专家"),
    ]
    text = _flat(
        "".join(
            p.extract_text()
            for p in PdfReader(io.BytesIO(bulletin_pdf(draft, draft.content))).pages
        )
    )
    assert (
        "锦江区（2026年上半年）存在的困难问题：企业需求描述不清下半年工作安排：开展需求辅导" in text
    )
    assert "草稿不引用" not in text
    book = load_workbook(io.BytesIO(bulletin_xlsx(draft, draft.content)))
    assert list(book["工作汇报摘录"].iter_rows(min_row=2, values_only=True)) == [
        ("锦江区", "2026年上半年", "企业需求描述不清", "开展需求辅导"),
        ("武侯区", "2026年上半年", "专家资源不足", "下半年引进十名专家"),
    ]


def test_text_typed_by_staff_stays_text_in_the_workbook_never_a_formula(
    figures: None, bob: User, bella: User
) -> None:
    _report("510104", "accepted", '=HYPERLINK("http://evil.example/","详见")', "@SUM(1+1)")
    bulletin = bulletin_create(
        author=bob,
        period="2026H1",
        indicators=INDICATORS,
        commentary="=1+1\x07 请各区县对照整改",
    )
    bulletin_submit(actor=bob, bulletin=bulletin, now=NOW)
    assert bulletin.content is not None
    book = load_workbook(io.BytesIO(bulletin_xlsx(bulletin, bulletin.content)))
    comment = book["概要"].cell(row=book["概要"].max_row, column=1)
    assert (comment.value, comment.data_type) == ("=1+1 请各区县对照整改", "s")
    [row] = book["工作汇报摘录"].iter_rows(min_row=2)
    assert [(c.value, c.data_type) for c in row[2:]] == [
        ('=HYPERLINK("http://evil.example/","详见")', "s"),
        ("@SUM(1+1)", "s"),
    ]


def download(client: Client, url: str) -> Any:
    """A bulletin file: at once when the cache holds it, else made by a background run (run
    inline in tests) whose progress page offers the file."""
    response = client.get(url)
    if response.status_code != 302 or not response["Location"].startswith("/background/"):
        return response
    run = client.get(response["Location"]).context["run"]
    assert (run.status, run.percent) == ("done", 100)
    return client.get(reverse("background:result", args=[run.pk]))


def test_downloads_are_attachments_with_a_chinese_filename(
    published: Bulletin, alice: User
) -> None:
    client = client_for(alice)
    pdf = reverse("ops:bulletins:pdf", args=[published.pk])
    # Not made yet: the file is made in the background and the person watches its progress.
    started = client.get(pdf)
    assert started.status_code == 302 and started["Location"].startswith("/background/")
    response = download(client, pdf)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E6%88%90%E9%83%BD%E5%B8%82" in response["Content-Disposition"]
    # Made once for this frozen content: the next download is sent at once.
    again = client.get(pdf)
    assert (again.status_code, again["Content-Type"]) == (200, "application/pdf")
    response = download(client, reverse("ops:bulletins:xlsx", args=[published.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(".xlsx")
    exports = AuditEvent.objects.filter(action=AuditAction.BULLETIN_EXPORT, user=alice)
    assert sorted(e.detail["format"] for e in exports) == ["pdf", "pdf", "xlsx"]
    assert {e.object_id for e in exports} == {str(published.pk)}
    assert all(e.ip == "127.0.0.1" for e in exports)


def test_approving_and_returning_are_audited_and_so_is_a_refused_approval(
    pending: Bulletin, bob: User, bella: User
) -> None:
    client_for(bob).post(reverse("ops:bulletins:approve", args=[pending.pk]))
    [refused] = AuditEvent.objects.filter(action=AuditAction.BULLETIN_PUBLISH)
    assert (refused.user_id, refused.outcome) == (bob.pk, AuditEvent.Outcome.REFUSED)
    response = client_for(bella).post(
        reverse("ops:bulletins:return", args=[pending.pk]), {"reason": "排名口径需核对"}
    )
    assert response.status_code == 302
    [returned] = AuditEvent.objects.filter(action=AuditAction.BULLETIN_RETURN)
    assert (returned.user_id, returned.outcome, returned.object_id) == (
        bella.pk,
        AuditEvent.Outcome.OK,
        str(pending.pk),
    )
    bulletin_submit(actor=bob, bulletin=Bulletin.objects.get(pk=pending.pk), now=NOW)
    bulletin_approve(actor=bella, bulletin=Bulletin.objects.get(pk=pending.pk), now=NOW)
    assert AuditEvent.objects.filter(
        action=AuditAction.BULLETIN_PUBLISH, outcome=AuditEvent.Outcome.OK, user=bella
    ).exists()


# --- Approval -----------------------------------------------------------------------------------


def test_the_author_alone_can_never_publish_a_bulletin(pending: Bulletin, bob: User) -> None:
    before = _snapshot(pending)
    with pytest.raises(NotPermitted, match="起草人不能审核自己的通报"):
        bulletin_approve(actor=bob, bulletin=pending)
    assert _snapshot(pending) == before
    assert before[0] == BulletinStatus.PENDING


def test_the_author_approving_on_the_page_is_refused_and_changes_nothing(
    pending: Bulletin, bob: User
) -> None:
    before = _snapshot(pending)
    response = client_for(bob).post(reverse("ops:bulletins:approve", args=[pending.pk]))
    assert response.status_code == 403
    assert "起草人不能审核自己的通报" in response.content.decode()
    assert _snapshot(pending) == before


def test_a_draft_cannot_be_published_without_being_submitted(draft: Bulletin, bella: User) -> None:
    with pytest.raises(BulletinError, match="通报不能从“草稿”变为“已发布”"):
        bulletin_approve(actor=bella, bulletin=draft)
    draft.refresh_from_db()
    assert draft.status == BulletinStatus.DRAFT


def test_staff_of_a_centre_below_cannot_approve_a_bulletin_addressed_to_them(
    pending: Bulletin, alice: User
) -> None:
    with pytest.raises(NotPermitted, match="本中心或上级中心的其他工作人员"):
        bulletin_approve(actor=alice, bulletin=pending)
    response = client_for(alice).post(reverse("ops:bulletins:approve", args=[pending.pk]))
    assert response.status_code == 404  # not published: alice cannot even see it
    pending.refresh_from_db()
    assert pending.status == BulletinStatus.PENDING


def test_the_province_may_approve_a_city_bulletin(pending: Bulletin, pat: User) -> None:
    bulletin_approve(actor=pat, bulletin=pending, now=NOW)
    pending.refresh_from_db()
    assert (pending.status, pending.approver_id) == (BulletinStatus.PUBLISHED, pat.pk)


def test_a_returned_bulletin_goes_back_to_draft_with_the_reason_and_must_be_submitted_again(
    pending: Bulletin, bella: User, bob: User
) -> None:
    with pytest.raises(BulletinError, match="退回须写明原因"):
        bulletin_return(actor=bella, bulletin=pending, reason="  ")
    response = client_for(bella).post(
        reverse("ops:bulletins:return", args=[pending.pk]), {"reason": "请补充武侯区的说明"}
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.return_reason, pending.content) == (
        BulletinStatus.DRAFT,
        "请补充武侯区的说明",
        None,
    )
    assert list(BulletinEvent.objects.filter(bulletin=pending).values_list("source", "to")) == [
        ("draft", "pending"),
        ("pending", "draft"),
    ]
    bulletin_submit(actor=bob, bulletin=pending)
    assert pending.status == BulletinStatus.PENDING


def test_a_bulletin_is_drafted_on_the_page_and_a_bad_period_is_refused_in_chinese(
    bob: User, figures: None
) -> None:
    client = client_for(bob)
    response = client.post(
        reverse("ops:bulletins:new"),
        {"period": "2026H3", "indicators": INDICATORS, "lag_percent": 50},
    )
    assert response.status_code == 400
    assert "无法识别的统计期" in response.content.decode()
    assert Bulletin.objects.count() == 0
    response = client.post(
        reverse("ops:bulletins:new"),
        {"period": "2026h1", "indicators": INDICATORS, "lag_percent": 50, "commentary": "好"},
    )
    bulletin = Bulletin.objects.get()
    assert response.status_code == 302
    assert (bulletin.title, bulletin.period, bulletin.region_id, bulletin.indicators) == (
        "成都市2026年上半年运营情况通报",
        "2026H1",
        "510100",
        INDICATORS,
    )
    page = client.get(reverse("ops:bulletins:detail", args=[bulletin.pk])).content.decode()
    assert '<tr data-code="510104"><td>1</td><td>锦江区</td>' in page  # the draft's preview


def test_county_staff_cannot_draft_a_bulletin(alice: User) -> None:
    with pytest.raises(NotPermitted, match="只有省级和市级服务中心可以起草通报"):
        bulletin_create(author=alice, period="2026H1", indicators=INDICATORS)
    assert client_for(alice).get(reverse("ops:bulletins:new")).status_code == 404
    assert Bulletin.objects.count() == 0


# --- Publication, inbox and read receipts --------------------------------------------------


def test_a_published_bulletin_reaches_the_inbox_of_the_centres_below_and_no_one_else(
    published: Bulletin, alice: User, wendy: User, bob: User, bella: User, charlie: User, pat: User
) -> None:
    items = InboxItem.objects.filter(title=f"新通报：{published.title}")
    assert sorted(items.values_list("user__username", flat=True)) == ["alice", "wendy"]
    assert set(items.values_list("url", flat=True)) == {
        reverse("ops:bulletins:detail", args=[published.pk])
    }
    assert BulletinReceipt.objects.filter(bulletin=published).count() == 20
    assert BulletinReceipt.objects.filter(bulletin=published, read_at__isnull=False).count() == 0


def test_the_list_shows_bulletins_addressed_to_my_centre_and_those_it_authored(
    published: Bulletin, alice: User, bob: User, charlie: User
) -> None:
    own = bulletin_create(author=bob, period="2026Q1", indicators=["cases_opened"])
    for user, expected in ((alice, [published.pk]), (bob, [own.pk, published.pk]), (charlie, [])):
        page = client_for(user).get(reverse("ops:bulletins:list")).content.decode()
        assert [int(i) for i in re.findall(r'data-bulletin="(\d+)"', page)] == expected


def test_a_read_receipt_is_recorded_once_per_centre_by_its_first_reader(
    published: Bulletin, alice: User, wendy: User, bob: User
) -> None:
    colleague = make_staff("alan", "510104")
    client_for(alice).get(reverse("ops:bulletins:detail", args=[published.pk]))
    client_for(colleague).get(reverse("ops:bulletins:pdf", args=[published.pk]))
    assert bulletin_read(reader=colleague, bulletin=published) is False
    receipt = BulletinReceipt.objects.get(bulletin=published, centre__region_id="510104")
    assert receipt.reader_id == alice.pk
    assert receipt.read_at is not None
    assert BulletinReceipt.objects.filter(bulletin=published, read_at__isnull=False).count() == 1
    page = client_for(bob).get(reverse("ops:bulletins:detail", args=[published.pk]))
    html = page.content.decode()
    assert re.search(
        r'data-centre="510104"><td>锦江区科技服务中心</td><td>已读</td><td>Alice</td>', html
    )
    assert re.search(
        r'data-centre="510107"><td>武侯区科技服务中心</td><td>未读</td><td>—</td>', html
    )
    # The author's own centre reading its bulletin records nothing.
    assert BulletinReceipt.objects.filter(bulletin=published, read_at__isnull=False).count() == 1


# --- Jurisdiction --------------------------------------------------------------------------------


def test_staff_outside_the_bulletin_get_404_and_the_centres_below_see_only_published_ones(
    pending: Bulletin, charlie: User, alice: User, pat: User
) -> None:
    urls = [
        reverse(f"ops:bulletins:{name}", args=[pending.pk]) for name in ("detail", "pdf", "xlsx")
    ]
    for url in urls:
        assert client_for(charlie).get(url).status_code == 404
        assert client_for(alice).get(url).status_code == 404  # not yet published
        assert download(client_for(pat), url).status_code == 200  # the province above
    before = _snapshot(pending)
    response = client_for(charlie).post(
        reverse("ops:bulletins:return", args=[pending.pk]), {"reason": "x"}
    )
    assert response.status_code == 404
    assert _snapshot(pending) == before
    assert client_for(pat).get(reverse("ops:bulletins:detail", args=[999999])).status_code == 404


def test_submitting_tells_everyone_who_may_approve_and_publishing_tells_the_author(
    bella: User, pat: User, alice: User, draft: Bulletin, bob: User
) -> None:
    bulletin_submit(actor=bob, bulletin=draft, now=NOW)
    bulletin_approve(actor=bella, bulletin=draft, now=NOW)
    sent = OutboxMessage.objects.filter(source="bulletin").exclude(title__startswith="新通报")
    assert sorted(sent.values_list("title", "recipient__username")) == [
        (f"通报已发布：{draft.title}", "bob"),
        (f"通报待审核：{draft.title}", "bella"),
        (f"通报待审核：{draft.title}", "pat"),
    ]


def test_two_approvals_from_the_same_page_publish_the_bulletin_once(
    pending: Bulletin, bella: User, pat: User
) -> None:
    second = Bulletin.objects.get(pk=pending.pk)
    bulletin_approve(actor=bella, bulletin=pending, now=NOW)
    with pytest.raises(Stale):
        bulletin_approve(actor=pat, bulletin=second, now=NOW)
    pending.refresh_from_db()
    assert (pending.status, pending.approver_id) == (BulletinStatus.PUBLISHED, bella.pk)
    assert BulletinEvent.objects.filter(bulletin=pending, to="published").count() == 1
    assert BulletinReceipt.objects.filter(bulletin=pending).count() == 20


def test_only_the_author_edits_a_draft_and_not_after_it_is_submitted(
    draft: Bulletin, bob: User, bella: User
) -> None:
    url = reverse("ops:bulletins:edit", args=[draft.pk])
    form = {"period": "2026Q2", "indicators": ["cases_opened"], "lag_percent": 40}
    with pytest.raises(NotPermitted, match="只有起草人可以修改通报"):
        bulletin_update(
            actor=bella,
            bulletin=draft,
            period="2026Q2",
            indicators=["cases_opened"],
            commentary="",
            lag_percent=40,
            title="",
        )
    assert client_for(bob).post(url, form).status_code == 302
    draft.refresh_from_db()
    assert (draft.period, draft.indicators, draft.lag_percent) == ("2026Q2", ["cases_opened"], 40)
    bulletin_submit(actor=bob, bulletin=draft)
    response = client_for(bob).post(url, {**form, "period": "2026H1"})
    assert response.status_code == 409
    assert "通报已提交审核，不能再修改" in response.content.decode()
    draft.refresh_from_db()
    assert draft.period == "2026Q2"


def test_the_bulletin_list_reads_a_fixed_number_of_queries(bob: User, figures: None) -> None:
    """The same number of queries for 1 bulletin as for 4: nothing is read per row."""
    client = client_for(bob)

    def list_queries(expected_rows: int) -> int:
        client.get(reverse("ops:bulletins:list"))  # warm the session
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("ops:bulletins:list"))
        shown = re.findall(r'data-bulletin="(\d+)"', response.content.decode())
        assert len(shown) == expected_rows
        return len(queries)

    bulletin_create(author=bob, period="2024H2", indicators=INDICATORS)
    one = list_queries(1)
    for period in ("2025H1", "2025H2", "2026H1"):
        bulletin_create(author=bob, period=period, indicators=INDICATORS)
    assert list_queries(4) == one <= 6


def test_a_frozen_bulletins_pdf_is_made_once_and_a_drafts_each_time(
    published: Bulletin, draft_of_bella: Bulletin, alice: User, bella: User, monkeypatch: Any
) -> None:
    from kejiyun.ops.bulletins import files

    made: list[int] = []

    def counting(bulletin: Bulletin, content: dict[str, Any]) -> bytes:
        made.append(bulletin.pk)
        return bulletin_pdf(bulletin, content)

    monkeypatch.setattr(files, "bulletin_pdf", counting)
    for _ in range(2):
        response = download(client_for(alice), reverse("ops:bulletins:pdf", args=[published.pk]))
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body.startswith(b"%PDF")
        download(client_for(bella), reverse("ops:bulletins:pdf", args=[draft_of_bella.pk]))
    assert made == [published.pk, draft_of_bella.pk, draft_of_bella.pk]


@pytest.fixture
def draft_of_bella(bella: User, figures: None) -> Bulletin:
    return bulletin_create(author=bella, period="2026Q1", indicators=["cases_opened"])


# --- Races (PostgreSQL) ---------------------------------------------------------------------

RACERS = 8


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises all writers")
def test_racing_approvals_and_returns_of_one_pending_bulletin_make_exactly_one_move() -> None:
    regions_load()
    service_centres_ensure(province_code="510000")
    bob = make_staff("bob", "510100")
    approvers = [make_staff(f"bella{i}", "510100") for i in range(3)] + [
        make_staff("pat", "510000")
    ]
    make_staff("alice", "510104")
    bulletin = bulletin_create(author=bob, period="2026H1", indicators=INDICATORS)
    bulletin_submit(actor=bob, bulletin=bulletin, now=NOW)
    landed: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(RACERS)

    def act(index: int) -> None:
        try:
            mine = Bulletin.objects.select_related("region", "centre").get(pk=bulletin.pk)
            approver = approvers[index % len(approvers)]
            start.wait()
            try:
                if index % 2 == 0:
                    bulletin_approve(actor=approver, bulletin=mine, now=NOW)
                    landed.append("published")
                else:
                    bulletin_return(actor=approver, bulletin=mine, reason="请补充。", now=NOW)
                    landed.append("draft")
            except BulletinError:
                refused.append("refused")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    final = Bulletin.objects.get(pk=bulletin.pk)
    assert errors == []
    assert (len(landed), len(refused)) == (1, RACERS - 1)
    assert final.status == landed[0]
    assert BulletinEvent.objects.filter(bulletin=final).count() == 2
    published = landed[0] == "published"
    assert BulletinReceipt.objects.filter(bulletin=final).count() == (20 if published else 0)
    assert OutboxMessage.objects.filter(title__startswith="新通报").count() == (
        1 if published else 0
    )
