"""Staff export every staff list to .xlsx, scoped exactly like the page, with personal data
masked: no full mobile or identity number ever leaves in a workbook."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook  # type: ignore[import-untyped]

from kejiyun.accounts.models import Organisation, User
from kejiyun.audit.models import AuditEvent
from kejiyun.cases.models import Case, Outcome, Step
from kejiyun.common.crypto import seal
from kejiyun.demands.models import Demand
from kejiyun.regions.models import ServiceCentre
from kejiyun.spreadsheets.exporters import masked_text
from kejiyun.talent.models import ID_NUMBER_PURPOSE, TalentProfile
from tests.builders import client_for, make_demand, make_enterprise, make_worker

pytestmark = pytest.mark.django_db

FULL_MOBILE = re.compile(r"1[3-9]\d{9}")
FULL_ID = re.compile(r"\d{17}[\dX]")
LISTS = ("demands", "workers", "organisations", "cases")

JINJIANG_ID = "510104197512300043"
QINGCHUAN_ID = "510822198506150021"


def add_records(county: str, label: str, serial: str, mobile: str, id_number: str) -> None:
    org = make_enterprise(f"{label}企业有限公司", county, f"MA6{serial}")
    org.description = f"联系电话{mobile}"
    org.save()
    demand = make_demand(
        org, title=f"{label}需求", description=f"联系人手机 {mobile}，身份证 {id_number}"
    )
    Case.objects.create(
        demand=demand,
        region_id=county,
        centre=ServiceCentre.objects.get(region_id=county),
        step=Step.CLOSED,
        outcome=Outcome.SOLVED,
        contract_number=f"HT-{serial}",
        contract_amount=Decimal("12.50"),
        step_started_at=timezone.now(),
    )
    profile = make_worker(f"{label}专家", county, mobile)
    profile.id_number_sealed = seal(id_number, purpose=ID_NUMBER_PURPOSE)
    profile.capability = f"可电话联系 {mobile}"
    profile.save()


@pytest.fixture
def records_with_personal_data(db: None) -> None:
    add_records("510104", "锦江", "200001", "13812345678", JINJIANG_ID)
    add_records("510822", "青川", "200002", "13987654321", QINGCHUAN_ID)


def export(client: Client, name: str) -> Any:
    response = client.get(f"/sheets/export/{name}.xlsx")
    assert response.status_code == 200
    return response


def cells(response: Any) -> list[list[Any]]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = []
    for sheet in workbook.worksheets:
        rows.extend([list(row) for row in sheet.iter_rows(values_only=True)])
    return rows


def text_of(rows: list[list[Any]]) -> list[str]:
    return [str(value) for row in rows for value in row if value is not None]


@pytest.mark.parametrize("name", LISTS)
def test_exports_contain_no_full_mobile_or_id_number(
    pat: User, records_with_personal_data: None, name: str
) -> None:
    values = text_of(cells(export(client_for(pat), name)))
    assert values, name
    leaks = [v for v in values if FULL_MOBILE.search(v) or FULL_ID.search(v)]
    assert leaks == []


def test_the_worker_export_holds_masked_numbers_and_only_the_jurisdictions_rows(
    alice: User, records_with_personal_data: None
) -> None:
    rows = cells(export(client_for(alice), "workers"))
    header, data = rows[0], rows[1:]
    assert header == [
        "编号",
        "姓名",
        "手机号",
        "身份证号",
        "所在区县",
        "工作单位",
        "职称",
        "专业领域",
        "关键词",
        "能力描述",
        "已核验",
        "登记时间",
    ]
    profile = TalentProfile.objects.get(region_id="510104")
    assert data[0][:11] == [
        profile.pk,
        "锦江专家",
        "138****5678",
        "5101**********0043",
        "成都市 锦江区",
        "四川农业大学",
        None,
        None,
        None,
        "可电话联系 138****5678",
        "否",
    ]
    notes = data[1:]  # the notes sheet follows the data sheet
    assert notes[0] == ["辖区科技工作者"]
    assert re.fullmatch(r"导出时间：\d{4}-\d{2}-\d{2} \d{2}:\d{2}", notes[1][0])
    assert notes[2:] == [["共1行。手机号、身份证号已脱敏。"]]
    assert all("青川" not in v for v in text_of(rows))


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("alice", {"锦江"}),
        ("bob", {"锦江"}),
        ("charlie", {"青川"}),
        ("pat", {"锦江", "青川"}),
    ],
)
@pytest.mark.parametrize("name", LISTS)
def test_exports_contain_only_rows_in_the_users_jurisdiction(
    request: pytest.FixtureRequest,
    records_with_personal_data: None,
    person: str,
    expected: set[str],
    name: str,
) -> None:
    user: User = request.getfixturevalue(person)
    rows = cells(export(client_for(user), name))
    values = text_of(rows)
    seen = {label for label in ("锦江", "青川") if any(label in v for v in values)}
    assert seen == expected
    data_rows = len(rows) - 1 - 3  # the header, and three lines on the notes sheet
    assert data_rows == len(expected)


def test_the_demand_export_masks_numbers_inside_free_text(
    alice: User, records_with_personal_data: None
) -> None:
    rows = cells(export(client_for(alice), "demands"))
    assert rows[0][:8] == [
        "编号",
        "需求名称",
        "需求单位",
        "统一社会信用代码",
        "所在区县",
        "类别",
        "所属行业",
        "需求描述",
    ]
    demand = Demand.objects.get(region_id="510104")
    assert rows[1][:8] == [
        demand.pk,
        "锦江需求",
        "锦江企业有限公司",
        demand.organisation.uscc,
        "成都市 锦江区",
        "技术难题",
        None,
        "联系人手机 138****5678，身份证 5101**********0043",
    ]


def test_the_case_export_lists_outcomes(alice: User, records_with_personal_data: None) -> None:
    rows = cells(export(client_for(alice), "cases"))
    case = Case.objects.get(region_id="510104")
    assert rows[0][:7] == [
        "案例编号",
        "需求名称",
        "需求单位",
        "所在区县",
        "承办中心",
        "科服保姆",
        "当前环节",
    ]
    assert rows[1][:4] == [case.pk, "锦江需求", "锦江企业有限公司", "成都市 锦江区"]
    assert rows[1][6] == "已办结"
    assert rows[1][9:12] == ["已解决", "HT-200001", 12.5]


def test_the_organisation_export_keeps_codes_exact(
    alice: User, records_with_personal_data: None
) -> None:
    rows = cells(export(client_for(alice), "organisations"))
    org = Organisation.objects.get(region_id="510104")
    assert rows[0] == [
        "编号",
        "名称",
        "类型",
        "统一社会信用代码",
        "所在区县",
        "所属行业",
        "需求数",
        "登记时间",
    ]
    assert rows[1][:7] == [org.pk, "锦江企业有限公司", "企业", org.uscc, "成都市 锦江区", None, 1]


def test_text_that_looks_like_a_formula_stays_text(alice: User) -> None:
    org = make_enterprise('=HYPERLINK("http://evil.example","点我")', "510104", "MA6300001")
    response = export(client_for(alice), "organisations")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    assert sheet["A2"].value == org.pk
    assert sheet["B2"].value == '=HYPERLINK("http://evil.example","点我")'
    assert sheet["B2"].data_type == "s"


def test_each_export_is_audited_with_its_list_and_row_count(
    bob: User, records_with_personal_data: None
) -> None:
    client = client_for(bob)
    response = export(client, "workers")
    assert response["Content-Disposition"].startswith("attachment;")
    assert ".xlsx" in response["Content-Disposition"]
    export(client, "cases")
    events = AuditEvent.objects.filter(action="sheets.export").order_by("id")
    assert [(e.user_id, e.object_type, e.detail) for e in events] == [
        (bob.pk, "workers", {"list": "workers", "rows": 1, "truncated": False}),
        (bob.pk, "cases", {"list": "cases", "rows": 1, "truncated": False}),
    ]


def test_an_export_stops_at_the_row_cap_and_says_so(
    pat: User, records_with_personal_data: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kejiyun.spreadsheets.services.MAX_EXPORT_ROWS", 1)
    rows = cells(export(client_for(pat), "workers"))
    assert len(rows) == 1 + 1 + 4
    assert rows[-1] == ["超过1行，只导出了前1行。"]
    event = AuditEvent.objects.get(action="sheets.export")
    assert event.detail == {"list": "workers", "rows": 1, "truncated": True}


@pytest.mark.parametrize("name", LISTS)
def test_exports_use_a_fixed_number_of_queries(pat: User, name: str) -> None:
    client = client_for(pat)
    add_records("510104", "甲", "300001", "13800000001", JINJIANG_ID)
    export(client, name)  # the first request of a session also updates the session
    with CaptureQueriesContext(connection) as few:
        b"".join(export(client, name).streaming_content)
    add_records("510105", "乙", "300002", "13800000002", JINJIANG_ID)
    add_records("510822", "丙", "300003", "13800000003", QINGCHUAN_ID)
    with CaptureQueriesContext(connection) as many:
        b"".join(export(client, name).streaming_content)
    # Audit row: the chain's seal is locked, the row written, the seal moved. The view counts
    # the rows once (a large list runs in the background; a personal list above the
    # bulk-approval threshold needs approval), and the personal list's service counts again.
    assert len(many) == len(few) == (10 if name == "workers" else 9)


def test_non_staff_are_refused_every_export_and_nothing_is_audited(
    dora: User, records_with_personal_data: None
) -> None:
    worker = TalentProfile.objects.get(region_id="510104").user
    for person in (dora, worker):
        client = client_for(person)
        for name in LISTS:
            assert client.get(f"/sheets/export/{name}.xlsx").status_code == 404
    for name in LISTS:
        response = Client().get(f"/sheets/export/{name}.xlsx")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert not AuditEvent.objects.filter(action="sheets.export").exists()


def test_an_unknown_list_is_a_404(alice: User) -> None:
    assert client_for(alice).get("/sheets/export/users.xlsx").status_code == 404


def test_masked_text_masks_numbers_even_inside_longer_digit_runs() -> None:
    assert masked_text("电话13812345678，或 +86 13987654321") == (
        "电话138****5678，或 +86 139****4321"
    )
    assert masked_text("身份证51010419751230004x号") == "身份证5101**********004x号"
    assert masked_text("ID510104197512300043") == "ID5101**********0043"
    assert masked_text("8613812345678") == "86138****5678"
    assert masked_text("订单 2026-001，合同 12.5 万元") == "订单 2026-001，合同 12.5 万元"


def test_masked_text_masks_numbers_written_with_spaces_or_dashes() -> None:
    assert masked_text("电话 138-0000-1234 或 139 8765 4321") == ("电话 138****1234 或 139****4321")
    assert masked_text("身份证 510104 19900101 123X") == "身份证 5101**********123X"


def test_exports_are_limited_to_thirty_an_hour_per_person(alice: User) -> None:
    client = client_for(alice)
    statuses = [client.get("/sheets/export/demands.xlsx").status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429  # Too Many Requests, with Retry-After (docs/security.md item 21)
    assert AuditEvent.objects.filter(action="sheets.export").count() == 30
    assert AuditEvent.objects.filter(action="access.rate_limited", user=alice).count() == 1
