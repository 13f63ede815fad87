"""The public case library (案例库) and the enterprise's consent to it.

A case is listed only when it is closed, solved, confirmed by the enterprise, its demand is
not private (不公开) and the enterprise consented; the library never shows a confidential
field (contract, amount, evidence, attachments, budget, notes, visits, rating comment,
owner, the enterprise users, and for a summary-only demand its enterprise and text). Only
the enterprise's own users grant or withdraw the consent, which is audited and on the
case's timeline. The library is searched by text, field, industry, region, rating,
recognition level and year.

Alice is county staff at 锦江区 (510104); Pat is province staff and acts on every case.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.cases.errors import CaseError
from kejiyun.cases.models import Case, CaseEvent, Step
from kejiyun.cases.workflow.selectors import library_eligible, library_eligible_q
from kejiyun.cases.workflow.services import (
    OutcomeInput,
    case_attachment_add,
    case_confirm,
    case_library_consent,
    case_note_add,
    case_open,
    case_outcome_record,
    case_transition,
    case_visit_add,
)
from kejiyun.common.errors import NotPermitted
from kejiyun.common.levels import Level
from kejiyun.demands.models import Demand
from kejiyun.recognition.library.selectors import LibraryFilters, library_cases
from kejiyun.talent.models import Discipline
from tests.builders import (
    client_for,
    make_demand,
    make_enterprise,
    make_enterprise_user,
    pdf_upload,
)

pytestmark = pytest.mark.django_db

C = Demand.Confidentiality
MAY_2026 = "2026-05-20 10:00:00+08:00"
MAY_2025 = "2025-05-20 10:00:00+08:00"
DEC_2025 = "2025-12-31 23:30:00+08:00"  # the last half hour of 2025 in Beijing

# Canaries: each sits in a field the library must never show.
NEVER_SHOWN = {
    "contract": "HT-CANARY-0042",
    "amount": "98765.43",
    "rating_comment": "评价金丝雀张三很负责",
    "note": "备注金丝雀内部跟进",
    "visit_place": "走访金丝雀车间",
    "visit_people": "走访金丝雀李四",
    "visit_outcome": "走访金丝雀结论",
    "evidence": "佐证金丝雀验收单.pdf",
    "attachment": "附件金丝雀合同扫描",
    "enterprise_user": "Entcanary",
    "owner": "Alice",
}
BUDGET_LABEL = Demand.Budget.OVER_1M.label  # 100万元以上


def closed_case(
    actor: User,
    *,
    serial: str,
    org: str,
    title: str,
    county: str = "510104",
    description: str = "茶园近两年病虫害加重，希望找到绿色防控的办法。",
    problem: str = "",
    industry: str = "茶叶种植",
    industry_class: str | None = "0164",
    discipline: str | None = "C161104",
    confidentiality: str = C.PUBLIC,
    rating: int = 5,
    at: str = MAY_2026,
    solved: bool = True,
    confirm: bool = True,
    canaries: bool = False,
) -> tuple[Case, User]:
    """A case of a new enterprise taken through the real workflow to its close (or to
    acceptance when not `confirm`), solved unless told otherwise; with `canaries`, every
    never-shown field carries one."""
    organisation = make_enterprise(org, county, serial)
    user = make_enterprise_user(
        organisation, "entcanary" if canaries else f"ent{serial}", mobile=None
    )
    with time_machine.travel(at, tick=False):
        demand = make_demand(
            organisation,
            title=title,
            description=description,
            problem=problem,
            industry=industry,
            industry_class_id=industry_class,
            discipline_id=discipline,
            confidentiality=confidentiality,
            budget=Demand.Budget.OVER_1M if canaries else Demand.Budget.UNKNOWN,
            created_by=user,
        )
        case = case_open(demand=demand, actor=actor)
        for step in (Step.DIAGNOSIS, Step.MATCHING, Step.DOCKING, Step.AGREEMENT, Step.DELIVERY):
            reason = "企业自行找到合作方" if step == Step.AGREEMENT else ""
            case_transition(case=case, to_step=step, actor=actor, reason=reason)
        if canaries:
            case_note_add(case=case, actor=actor, body=NEVER_SHOWN["note"])
            case_visit_add(
                case=case,
                actor=actor,
                visited_on=case.opened_at.date(),
                place=NEVER_SHOWN["visit_place"],
                people=NEVER_SHOWN["visit_people"],
                outcome=NEVER_SHOWN["visit_outcome"],
            )
            case_attachment_add(
                case=case, actor=actor, upload=pdf_upload(), name=NEVER_SHOWN["attachment"]
            )
        outcome = (
            OutcomeInput(
                solved=True,
                contract_number=NEVER_SHOWN["contract"] if canaries else f"HT-{serial}",
                contract_amount=Decimal(NEVER_SHOWN["amount"] if canaries else "8"),
                evidence=pdf_upload(NEVER_SHOWN["evidence"] if canaries else "验收单.pdf"),
            )
            if solved
            else OutcomeInput(solved=False, reason="企业转产，不再需要")
        )
        case_outcome_record(case=case, outcome=outcome, actor=actor)
        if confirm:
            comment = NEVER_SHOWN["rating_comment"] if canaries else ""
            case_confirm(case=case, actor=user, rating=rating, comment=comment)
    case.refresh_from_db()
    return case, user


def consented(case: Case, user: User) -> Case:
    case_library_consent(case=case, actor=user, granted=True, ip="127.0.0.1")
    case.refresh_from_db()
    return case


def listed(html: str) -> set[int]:
    """The case ids the library page lists."""
    start = html.index('data-testid="library-list"')
    part = html[start : html.index("</ul>", start)]
    return {int(chunk.split('"', 1)[0]) for chunk in part.split('data-case="')[1:]}


def library(query: str = "") -> str:
    response = Client().get(f"/recognition/library/{'?' + query if query else ''}")
    assert response.status_code == 200
    return response.content.decode()


# --- What the library shows --------------------------------------------------------------


def test_the_library_never_shows_a_confidential_field_in_list_detail_or_search(
    alice: User, pat: User
) -> None:
    public, erin = closed_case(
        pat,
        serial="1",
        org="蒲江金丝雀茶业有限公司",
        title="茶园病虫害绿色防控",
        description="茶园病虫害加重，请联系13912345678咨询。",
        problem="减少农药用量三成",
        canaries=True,
    )
    consented(public, erin)
    summary, sam = closed_case(
        pat,
        serial="2",
        org="保密金丝雀食品有限公司",
        title="泡菜发酵胀袋控制",
        description="摘要金丝雀描述：配方与工艺参数",
        problem="摘要金丝雀问题",
        industry="蔬菜加工",
        industry_class="1371",
        confidentiality=C.SUMMARY,
        rating=4,
    )
    consented(summary, sam)
    pages = {
        "list": library(),
        "search": library("q=茶园"),
        "search summary": library("q=泡菜"),
        "public detail": Client().get(f"/recognition/library/{public.pk}/").content.decode(),
        "summary detail": Client().get(f"/recognition/library/{summary.pk}/").content.decode(),
    }
    for name, html in pages.items():
        for field, canary in NEVER_SHOWN.items():
            assert canary not in html, (name, field)
        assert BUDGET_LABEL not in html, name
        assert "13912345678" not in html, name  # contacts typed into the text are masked
        for kept_back in ("保密金丝雀食品有限公司", "摘要金丝雀描述", "摘要金丝雀问题"):
            assert kept_back not in html, (name, kept_back)
    assert listed(pages["list"]) == {public.pk, summary.pk}
    assert listed(pages["search"]) == {public.pk}
    assert listed(pages["search summary"]) == {summary.pk}
    detail = pages["public detail"]
    # What a public demand shows: its enterprise, text (masked), category, county, year,
    # industry, discipline and the rating's score.
    for shown in (
        "茶园病虫害绿色防控",
        "蒲江金丝雀茶业有限公司",
        "减少农药用量三成",
        "139****5678",
        "技术难题",
        "成都市锦江区",
        "茶叶种植",
        "茶树培育",
        "2026",
        "满意度 5/5",
        "★★★★★",
    ):
        assert shown in detail, shown
    summary_detail = pages["summary detail"]
    for shown in ("泡菜发酵胀袋控制", "蔬菜加工", "满意度 4/5", "★★★★☆", "仅公开摘要"):
        assert shown in summary_detail, shown


def test_a_search_cannot_probe_the_text_a_summary_case_keeps_back(pat: User) -> None:
    summary, sam = closed_case(
        pat,
        serial="3",
        org="川南食品有限公司",
        title="腊肉烟熏工艺改进",
        description="独门配方苯并芘超标",
        industry="肉制品加工",
        industry_class=None,
        confidentiality=C.SUMMARY,
    )
    consented(summary, sam)
    public, erin = closed_case(
        pat, serial="4", org="川西食品有限公司", title="香肠保质期延长", description="苯并芘检测"
    )
    consented(public, erin)
    assert listed(library("q=苯并芘")) == {public.pk}
    assert listed(library("q=腊肉")) == {summary.pk}


@pytest.mark.parametrize("kind", ["no consent", "not confirmed", "not solved", "private"])
def test_a_case_outside_the_rule_is_not_listed_and_its_page_is_404(pat: User, kind: str) -> None:
    shown, erin = closed_case(pat, serial="5", org="锦江茶业有限公司", title="茶叶品质提升")
    consented(shown, erin)
    case, _ = closed_case(
        pat,
        serial="6",
        org="青羊茶业有限公司",
        title="茶叶加工设备改造",
        confirm=kind != "not confirmed",
        solved=kind != "not solved",
        confidentiality=C.PRIVATE if kind == "private" else C.PUBLIC,
    )
    if kind != "no consent":
        # Consent recorded on a case the service would refuse it for (old data, a case
        # changed since): the library's own rule still keeps the case out.
        Case.objects.filter(pk=case.pk).update(library_consent_at=shown.library_consent_at)
    case.refresh_from_db()
    assert not library_eligible(case) or kind == "no consent"
    assert listed(library()) == {shown.pk}
    assert listed(library("q=茶叶")) == {shown.pk}
    assert Client().get(f"/recognition/library/{case.pk}/").status_code == 404
    assert Client().get(f"/recognition/library/{shown.pk}/").status_code == 200
    assert Client().get("/recognition/library/999999/").status_code == 404


def test_library_eligible_in_queries_and_on_one_case_agree(pat: User) -> None:
    cases = [
        closed_case(pat, serial="7", org="甲", title="甲")[0],
        closed_case(pat, serial="8", org="乙", title="乙", confirm=False)[0],
        closed_case(pat, serial="9", org="丙", title="丙", solved=False)[0],
        closed_case(pat, serial="10", org="丁", title="丁", confidentiality=C.PRIVATE)[0],
        closed_case(pat, serial="11", org="戊", title="戊", confidentiality=C.SUMMARY)[0],
    ]
    in_query = set(
        Case.objects.filter(library_eligible_q(), pk__in=[c.pk for c in cases]).values_list(
            "pk", flat=True
        )
    )
    assert in_query == {c.pk for c in cases if library_eligible(c)}
    assert in_query == {cases[0].pk, cases[4].pk}


def test_the_library_list_uses_a_fixed_number_of_queries(pat: User) -> None:
    client = Client()

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/recognition/library/?city=510100&level=any").status_code == 200
        return len(ctx.captured_queries)

    first, erin = closed_case(pat, serial="20", org="企业20", title="茶园20")
    consented(first, erin)
    Case.objects.filter(pk=first.pk).update(recognition_level=Level.TYPICAL, recognised_year=2026)
    few = count()
    for i in range(21, 29):
        case, user = closed_case(pat, serial=str(i), org=f"企业{i}", title=f"茶园{i}")
        consented(case, user)
        Case.objects.filter(pk=case.pk).update(recognition_level=Level.PREMIUM)
    many = count()
    assert few == many == 8
    assert len(listed(library("level=any"))) == 9


# --- Consent -----------------------------------------------------------------------------


def _consent_rows() -> list[tuple[int | None, str, dict[str, object]]]:
    return list(
        AuditEvent.objects.filter(action=AuditAction.LIBRARY_CONSENT)
        .order_by("id")
        .values_list("user_id", "object_id", "detail")
    )


def test_only_the_cases_enterprise_users_may_consent_and_a_refusal_changes_nothing(
    alice: User, pat: User
) -> None:
    case, erin = closed_case(pat, serial="30", org="锦江茶业有限公司", title="茶园绿色防控")
    stranger = make_enterprise_user(make_enterprise("别家企业", "510104", "31"), "stranger")
    colleague = make_enterprise_user(case.demand.organisation, "colleague")
    events = case.events.count()
    for actor in (stranger, alice, pat):
        with pytest.raises(NotPermitted):
            case_library_consent(case=case, actor=actor, granted=True)
    for user in (stranger, alice):
        response = client_for(user).post(f"/cases/mine/{case.pk}/library/", {"decision": "grant"})
        assert response.status_code == 404
    anonymous = Client().post(f"/cases/mine/{case.pk}/library/", {"decision": "grant"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    case.refresh_from_db()
    assert case.library_consent_at is None
    assert case.events.count() == events
    assert _consent_rows() == []
    assert listed(library()) == set()
    # Any user of the demand's organisation may decide: a colleague of the filer too.
    case_library_consent(case=case, actor=colleague, granted=True, ip="10.0.0.9")
    assert listed(library()) == {case.pk}
    assert _consent_rows() == [(colleague.pk, str(case.pk), {"granted": True})]
    assert erin.organisation_id == colleague.organisation_id


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("private", "保密需求不能入库"),
        ("not confirmed", "只有已办结、已解决并经企业确认的案例可以入库展示。"),
        ("not solved", "只有已办结、已解决并经企业确认的案例可以入库展示。"),
    ],
)
def test_consent_is_refused_for_a_private_or_ineligible_case(
    pat: User, kind: str, message: str
) -> None:
    case, erin = closed_case(
        pat,
        serial="32",
        org="青白江食品有限公司",
        title="豆瓣酱发酵控制",
        confirm=kind != "not confirmed",
        solved=kind != "not solved",
        confidentiality=C.PRIVATE if kind == "private" else C.PUBLIC,
    )
    events = case.events.count()
    with pytest.raises(CaseError, match=message):
        case_library_consent(case=case, actor=erin, granted=True)
    response = client_for(erin).post(
        f"/cases/mine/{case.pk}/library/", {"decision": "grant"}, follow=True
    )
    assert message in response.content.decode()
    case.refresh_from_db()
    assert case.library_consent_at is None
    assert case.events.count() == events
    assert _consent_rows() == []


def test_the_enterprise_grants_and_withdraws_consent_on_its_page_audited_and_on_the_timeline(
    pat: User,
) -> None:
    case, erin = closed_case(pat, serial="33", org="锦江茶业有限公司", title="茶园绿色防控")
    client = client_for(erin)
    page = client.get(f"/cases/mine/{case.pk}/").content.decode()
    card = page[page.index('data-testid="library-consent"') :]
    assert "案例入库展示" in card and "同意入库展示" in card
    assert "企业名称、需求描述和要解决的问题" in card  # a public demand shows its text
    assert "合同编号和金额" in card  # and says what is never shown

    response = client.post(f"/cases/mine/{case.pk}/library/", {"decision": "grant"}, follow=True)
    assert "已同意本案例入库展示。" in response.content.decode()
    case.refresh_from_db()
    assert case.library_consent_at is not None
    assert listed(library()) == {case.pk}
    note = case.events.filter(kind=CaseEvent.Kind.NOTE).latest("id")
    assert (note.actor_id, note.reason) == (erin.pk, "企业同意本案例在案例库公开展示。")
    rows = AuditEvent.objects.filter(action=AuditAction.LIBRARY_CONSENT)
    assert [(r.user_id, r.ip, r.object_type, r.detail) for r in rows] == [
        (erin.pk, "127.0.0.1", "case", {"granted": True})
    ]
    staff_page = client_for(pat).get(f"/cases/{case.pk}/").content.decode()
    assert "企业已同意入库展示" in staff_page
    # Granting twice is refused and writes nothing more.
    again = client.post(f"/cases/mine/{case.pk}/library/", {"decision": "grant"}, follow=True)
    assert "本案例已同意入库展示。" in again.content.decode()
    assert rows.count() == 1
    # Nonsense is refused with a message and changes nothing.
    bad = client.post(f"/cases/mine/{case.pk}/library/", {"decision": "publish"}, follow=True)
    assert "请选择同意或撤回。" in bad.content.decode()
    assert rows.count() == 1

    response = client.post(f"/cases/mine/{case.pk}/library/", {"decision": "withdraw"}, follow=True)
    assert "已撤回授权" in response.content.decode()
    case.refresh_from_db()
    assert case.library_consent_at is None
    assert listed(library()) == set()
    assert Client().get(f"/recognition/library/{case.pk}/").status_code == 404
    assert [r.detail for r in rows.order_by("id")] == [{"granted": True}, {"granted": False}]
    note = case.events.filter(kind=CaseEvent.Kind.NOTE).latest("id")
    assert note.reason == "企业撤回案例库展示授权，本案例不再公开展示。"


def test_the_consent_card_says_what_a_summary_case_keeps_back_and_private_cases_get_none(
    pat: User,
) -> None:
    summary, sam = closed_case(
        pat, serial="34", org="摘要企业", title="摘要案例", confidentiality=C.SUMMARY
    )
    page = client_for(sam).get(f"/cases/mine/{summary.pk}/").content.decode()
    card = page[page.index('data-testid="library-consent"') :]
    assert "企业名称和需求描述也不会展示" in card
    assert "企业名称、需求描述和要解决的问题" not in card
    private, pia = closed_case(
        pat, serial="35", org="保密企业", title="保密案例", confidentiality=C.PRIVATE
    )
    page = client_for(pia).get(f"/cases/mine/{private.pk}/").content.decode()
    card = page[page.index('data-testid="library-consent"') :]
    assert "保密需求不能入库展示" in card
    assert "/library/" not in card.split("</section>")[0]
    waiting, wes = closed_case(pat, serial="36", org="待确认企业", title="待确认", confirm=False)
    page = client_for(wes).get(f"/cases/mine/{waiting.pk}/").content.decode()
    assert 'data-testid="library-consent"' not in page


# --- Filters -----------------------------------------------------------------------------


def test_the_library_filters_by_field_discipline_industry_region_rating_level_year_and_text(
    pat: User,
) -> None:
    food_science = Discipline.objects.filter(parent_id="C20").order_by("code").first()
    assert food_science is not None
    tea, t_user = closed_case(
        pat,
        serial="40",
        org="蒲江茶业有限公司",
        title="茶园病虫害绿色防控",
        county="510104",
        industry="茶叶种植",
        industry_class="0164",
        discipline="C161104",
        rating=5,
    )
    pickles, p_user = closed_case(
        pat,
        serial="41",
        org="青川泡菜有限公司",
        title="泡菜发酵胀袋控制",
        description="泡菜装袋后胀袋，需要改进杀菌工艺。",
        county="510822",
        industry="蔬菜加工",
        industry_class="1371",
        discipline=food_science.code,
        rating=4,
        at=DEC_2025,
    )
    refining, r_user = closed_case(
        pat,
        serial="42",
        org="武侯精制茶厂",
        title="精制茶拼配工艺优化",
        description="精制茶拼配依赖经验，希望建立标准。",
        county="510107",
        industry="精制茶加工",
        industry_class="1530",
        discipline=None,
        rating=3,
    )
    for case, user in ((tea, t_user), (pickles, p_user), (refining, r_user)):
        consented(case, user)
    Case.objects.filter(pk=tea.pk).update(recognition_level=Level.PREMIUM, recognised_year=2026)
    Case.objects.filter(pk=pickles.pk).update(recognition_level=Level.TYPICAL, recognised_year=2025)
    expectations = {
        "": {tea.pk, pickles.pk, refining.pk},
        "section=A": {tea.pk},
        "section=C": {pickles.pk, refining.pk},
        "discipline=C16": {tea.pk},
        "discipline=C20": {pickles.pk},
        "industry=蔬菜加工": {pickles.pk},
        "city=510100": {tea.pk, refining.pk},
        "city=510100&county=510107": {refining.pk},
        "city=510800": {pickles.pk},
        "rating=4": {tea.pk, pickles.pk},
        "rating=5": {tea.pk},
        "level=any": {tea.pk, pickles.pk},
        "level=typical": {pickles.pk},
        "level=premium": {tea.pk},
        "year=2025": {pickles.pk},
        "year=2026": {tea.pk, refining.pk},
        "q=泡菜 胀袋": {pickles.pk},
        "q=精制茶 标准": {refining.pk},
        "q=茶": {tea.pk, refining.pk},
        "q=茶&city=510100&rating=5": {tea.pk},
        # Unknown values are dropped: the library shows more, never an error.
        "rating=9&level=gold&year=1999&city=999999": {tea.pk, pickles.pk, refining.pk},
    }
    for query, expected in expectations.items():
        assert listed(library(query)) == expected, query
    html = library("level=any")
    assert "精品案例（2026年度）" in html and "典型案例（2025年度）" in html
    assert "2025年办结" in html
    assert library_cases(LibraryFilters(level=Level.PREMIUM)).get() == tea
