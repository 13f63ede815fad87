"""Staff import demands and S&T workers collected on paper from the platform's .xlsx templates.

Every row is checked first and reported in Chinese; a file with errors writes nothing unless
the uploader chooses to import only the valid rows; importing the same file again changes
nothing. Test files are built with openpyxl here, never stored as binaries.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook  # type: ignore[import-untyped]

from kejiyun.accounts.models import Organisation, Role, User
from kejiyun.accounts.validators import id_number_check_character
from kejiyun.audit.models import AuditEvent
from kejiyun.common.crypto import lookup_hash, mobile_lookup, unseal
from kejiyun.demands.models import Demand
from kejiyun.spreadsheets import services
from kejiyun.spreadsheets.models import ImportBatch
from kejiyun.spreadsheets.services import import_batch_apply
from kejiyun.talent.models import ID_NUMBER_PURPOSE, TalentProfile
from tests.builders import (
    ID_NUMBER,
    WORKER_HEADERS,
    client_for,
    make_demand,
    make_enterprise,
    make_uscc,
    make_worker,
    make_xlsx,
    office_bytes,
    upload,
    upload_batch,
    worker_row,
)

pytestmark = pytest.mark.django_db

DEMAND_HEADERS = [
    "企业名称*",
    "统一社会信用代码*",
    "所在区县代码*",
    "需求名称*",
    "需求描述*",
    "类别*",
    "所属行业",
    "要解决的问题",
    "目前现状",
    "目标指标",
    "预算范围",
    "期望完成时间",
    "公开方式",
]

USCC_A = make_uscc("510104", "MA6100001")
USCC_B = make_uscc("510104", "MA6100002")


def demand_row(
    name: str = "锦江电子有限公司",
    uscc: str = USCC_A,
    county: Any = "510104",
    title: str = "电路板焊点缺陷自动检测",
    category: str = "技术难题",
    budget: str = "5万–20万元",
    deadline: Any = "2026-12-31",
    confidentiality: str = "",
) -> list[Any]:
    return [
        name,
        uscc,
        county,
        title,
        "产线人工目检效率低，漏检率高。",
        category,
        "电子信息",
        "焊点虚焊识别",
        "人工目检",
        "漏检率低于0.5%",
        budget,
        deadline,
        confidentiality,
    ]


def issues(client: Client, batch: ImportBatch) -> list[tuple[int, str, str]]:
    report = client.get(f"/sheets/import/batches/{batch.pk}/").context["report"]
    return [(i.row, i.column, i.message) for i in report.issues]


def confirm(client: Client, batch: ImportBatch, *, valid_rows_only: bool = False) -> Any:
    data = {"valid_rows_only": "1"} if valid_rows_only else {}
    return client.post(f"/sheets/import/batches/{batch.pk}/confirm/", data, follow=True)


def snapshot() -> tuple[object, ...]:
    return (
        list(Organisation.objects.order_by("pk").values()),
        list(Demand.objects.order_by("pk").values()),
        list(
            User.objects.order_by("pk").values("pk", "username", "mobile_hash", "role", "password")
        ),
        list(TalentProfile.objects.order_by("pk").values()),
    )


def messages_of(response: Any) -> list[str]:
    """The flashed messages, and the message of the background run the confirm started (the
    import runs as a run with a progress page; tests run it inline)."""
    flashed = [str(m) for m in response.context["messages"]]
    run = response.context.get("run")
    return flashed + ([run.message] if run is not None else [])


def test_the_demand_template_has_starred_chinese_headers_lists_and_an_instructions_sheet(
    alice: User,
) -> None:
    response = client_for(alice).get("/sheets/templates/demands.xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E6%8A%80%E6%9C%AF%E9%9C%80%E6%B1%82"
        "%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
    )
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["需求", "填写说明"]
    data = workbook["需求"]
    assert [c.value for c in data[1]] == DEMAND_HEADERS
    # The example lives on the instructions sheet: the data sheet has the header row only.
    assert data.max_row == 1
    lists = {str(v.sqref): v.formula1 for v in data.data_validations.dataValidation}
    assert lists["F2:F5001"] == '"技术难题,人才需求,仪器设备,技术培训,成果购买"'
    assert lists["K2:K5001"] == (
        '"待商定,5万元以下,5万–20万元,20万–50万元,50万–100万元,100万元以上"'
    )
    assert lists["M2:M5001"] == '"公开,仅公开摘要,不公开"'
    notes = workbook["填写说明"]
    assert [c.value for c in notes[1]] == ["列名", "是否必填", "填写说明", "可选值", "示例"]
    assert [notes.cell(row=r, column=1).value for r in range(2, 15)] == [
        h.rstrip("*") for h in DEMAND_HEADERS
    ]
    assert notes.cell(row=3, column=2).value == "必填"
    assert notes.cell(row=8, column=2).value == "选填"


def test_the_worker_template_keeps_numbers_as_text(alice: User) -> None:
    response = client_for(alice).get("/sheets/templates/workers.xlsx")
    workbook = load_workbook(io.BytesIO(response.content))
    data = workbook["科技工作者"]
    assert [c.value for c in data[1]] == WORKER_HEADERS
    assert data.column_dimensions["B"].number_format == "@"
    assert data.column_dimensions["C"].number_format == "@"
    assert data.data_validations.dataValidation == []


def test_a_file_with_bad_rows_gets_a_row_by_row_report_and_writes_nothing(alice: User) -> None:
    client = client_for(alice)
    data = make_xlsx(
        DEMAND_HEADERS,
        [
            demand_row(),  # row 2: valid
            demand_row(uscc="91510104MA610000", title="二号需求"),  # row 3
            demand_row(title="", category="难题"),  # row 4
            [],  # row 5: blank, skipped
            demand_row(uscc=USCC_B, title="五号需求", county="510822"),  # row 6
            demand_row(),  # row 7: duplicate of row 2
            demand_row(title="七号需求", deadline="2026/12/31", budget="很多"),  # row 8
            demand_row(uscc=USCC_B, title="八号需求", county=510105),  # row 9
            demand_row(uscc=USCC_B, title="九号需求", county="5101"),  # row 10
        ],
    )
    before = snapshot()
    batch = upload_batch(client, "demands", data)
    assert batch.row_count == 8
    assert issues(client, batch) == [
        (3, "统一社会信用代码", "统一社会信用代码应为18位。"),
        (4, "需求名称", "必填，不能为空"),
        (4, "类别", "请从下拉列表中选择：技术难题、人才需求、仪器设备、技术培训、成果购买"),
        (6, "所在区县代码", "该区县不在您的辖区内"),
        (7, "需求名称", "与第2行重复（同一企业的同名需求）"),
        (
            8,
            "预算范围",
            "请从下拉列表中选择：待商定、5万元以下、5万–20万元、20万–50万元、"
            "50万–100万元、100万元以上",
        ),
        (8, "期望完成时间", "日期格式应为 YYYY-MM-DD，如 2026-12-31"),
        (9, "所在区县代码", "该区县不在您的辖区内"),
        (10, "所在区县代码", "应为6位区县代码，如 510104"),
    ]
    page = client.get(f"/sheets/import/batches/{batch.pk}/").content.decode()
    assert "仅导入有效行" in page
    assert "与第2行重复（同一企业的同名需求）" in page

    response = confirm(client, batch)
    assert messages_of(response) == [
        "文件中有错误，未导入任何数据。请修改后重新上传，或选择“仅导入有效行”。"
    ]
    assert snapshot() == before
    batch.refresh_from_db()
    assert batch.applied_at is None
    assert not AuditEvent.objects.filter(action="sheets.import").exists()


def test_import_valid_rows_writes_only_the_valid_ones(alice: User) -> None:
    client = client_for(alice)
    data = make_xlsx(
        DEMAND_HEADERS,
        [
            demand_row(deadline=date(2026, 12, 31), confidentiality="不公开"),
            demand_row(title="", uscc=USCC_B),
            demand_row(uscc=USCC_B, title="茶叶加工", category="技术培训", budget=""),
        ],
    )
    batch = upload_batch(client, "demands", data)
    response = confirm(client, batch, valid_rows_only=True)
    assert messages_of(response) == ["导入完成：新增2条，已存在跳过0条。"]

    demands = list(Demand.objects.order_by("id"))
    assert [(d.organisation.uscc, d.title) for d in demands] == [
        (USCC_A, "电路板焊点缺陷自动检测"),
        (USCC_B, "茶叶加工"),
    ]
    first, second = demands
    assert first.source == Demand.Source.PAPER
    assert first.status == Demand.Status.SUBMITTED
    assert first.created_by == alice
    assert first.submitted_at is not None
    assert first.region_id == "510104"
    assert first.category == Demand.Category.PROBLEM
    assert first.budget == Demand.Budget.FROM_50K
    assert first.deadline == date(2026, 12, 31)
    assert first.confidentiality == Demand.Confidentiality.PRIVATE
    assert first.problem == "焊点虚焊识别"
    # It reaches the review queue like an online submission: a timeline event, checked flags.
    assert list(first.events.values_list("from_status", "to_status", "actor_id")) == [
        ("draft", "submitted", alice.pk)
    ]
    assert (first.review_flags, first.duplicate_of_id) == ([], None)
    assert first.target_indicators == "漏检率低于0.5%"
    assert second.category == Demand.Category.TRAINING
    assert second.budget == Demand.Budget.UNKNOWN
    assert second.confidentiality == Demand.Confidentiality.PUBLIC
    org = first.organisation
    assert (org.kind, org.name, org.region_id) == ("enterprise", "锦江电子有限公司", "510104")

    batch.refresh_from_db()
    assert batch.applied_at is not None
    assert batch.stored_rows() == []  # the stored personal data is gone once applied
    assert batch.rows_sealed == ""
    assert batch.result == {"created": 2, "skipped": 0, "invalid": 1}
    event = AuditEvent.objects.get(action="sheets.import")
    assert (event.user_id, event.object_type, event.object_id, event.detail) == (
        alice.pk,
        "demand",
        str(batch.pk),
        {"created": 2, "skipped": 0},
    )
    page = client.get(f"/sheets/import/batches/{batch.pk}/").content.decode()
    assert "新增 2 条，已存在跳过 0 条，有错误未导入 1 条" in page


def test_an_imported_copy_of_an_online_demand_is_flagged_for_review(alice: User) -> None:
    other = make_enterprise("锦江另一家公司", "510104", "MA6100009")
    online = make_demand(
        other,
        title="电路板焊点缺陷自动检测",
        description="产线人工目检效率低，漏检率高。",
        status=Demand.Status.SUBMITTED,
    )
    client = client_for(alice)
    confirm(client, upload_batch(client, "demands", make_xlsx(DEMAND_HEADERS, [demand_row()])))
    imported = Demand.objects.get(source=Demand.Source.PAPER)
    assert imported.duplicate_of_id == online.pk
    assert len(imported.review_flags) == 1


def test_importing_the_same_demand_file_three_times_leaves_the_same_rows(alice: User) -> None:
    client = client_for(alice)
    data = make_xlsx(
        DEMAND_HEADERS,
        [demand_row(), demand_row(title="第二个需求"), demand_row(uscc=USCC_B, title="第三个")],
    )
    results = []
    for _ in range(3):
        batch = upload_batch(client, "demands", data)
        results.append(messages_of(confirm(client, batch)))
        ids = (
            list(Demand.objects.order_by("id").values_list("id", "title")),
            list(Organisation.objects.order_by("id").values_list("id", "uscc")),
        )
        if len(results) == 1:
            first_ids = ids
        assert ids == first_ids
    assert results == [
        ["导入完成：新增3条，已存在跳过0条。"],
        ["导入完成：新增0条，已存在跳过3条。"],
        ["导入完成：新增0条，已存在跳过3条。"],
    ]
    assert Demand.objects.count() == 3
    assert Organisation.objects.count() == 2
    details = list(
        AuditEvent.objects.filter(action="sheets.import")
        .order_by("id")
        .values_list("detail", flat=True)
    )
    assert details == [
        {"created": 3, "skipped": 0},
        {"created": 0, "skipped": 3},
        {"created": 0, "skipped": 3},
    ]


def test_a_re_import_reports_existing_rows_as_skipped(alice: User) -> None:
    client = client_for(alice)
    org = make_enterprise("锦江电子有限公司", "510104", "MA6100001")
    make_demand(
        org, title="电路板焊点缺陷自动检测", description="网上发布的", status=Demand.Status.DRAFT
    )
    batch = upload_batch(client, "demands", make_xlsx(DEMAND_HEADERS, [demand_row()]))
    response = client.get(f"/sheets/import/batches/{batch.pk}/")
    assert response.context["report"].skipped_rows == [2]
    assert "已存在，跳过" in response.content.decode()


def test_an_existing_enterprise_is_reused_and_must_be_in_the_row_county(
    alice: User, bob: User
) -> None:
    client = client_for(alice)
    org = make_enterprise("锦江电子", "510104", "MA6100001")
    batch = upload_batch(
        client,
        "demands",
        make_xlsx(
            DEMAND_HEADERS,
            [
                demand_row(name="锦江电子有限公司（新名称）"),
                demand_row(uscc=USCC_A, title="另一个", county="510105"),
            ],
        ),
    )
    # 510105 is not Alice's: that alone is the error reported.
    assert issues(client, batch) == [(3, "所在区县代码", "该区县不在您的辖区内")]

    bob_batch = upload_batch(
        client_for(bob),
        "demands",
        make_xlsx(
            DEMAND_HEADERS,
            [
                demand_row(uscc=USCC_A, title="另一个", county="510105"),
                demand_row(uscc=USCC_B, title="新企业一", county="510105"),
                demand_row(uscc=USCC_B, title="新企业二", county="510106"),
            ],
        ),
    )
    assert issues(client_for(bob), bob_batch) == [
        (2, "所在区县代码", "与该企业已登记的所在区县不一致"),
        (4, "所在区县代码", "与第3行同一企业的所在区县不一致"),
    ]
    confirm(client, batch, valid_rows_only=True)
    demand = Demand.objects.get()
    assert demand.organisation_id == org.pk
    org.refresh_from_db()
    assert org.name == "锦江电子"
    assert Organisation.objects.count() == 1


def test_a_county_outside_the_staff_members_jurisdiction_is_a_row_error(
    alice: User, bob: User, charlie: User
) -> None:
    data = make_xlsx(
        WORKER_HEADERS,
        [
            worker_row(mobile="13800000001", id_number="", county="510104"),
            worker_row(mobile="13800000002", id_number="", county="510822"),
            worker_row(mobile="13800000003", id_number="", county="999999"),
            worker_row(mobile="13800000004", id_number="", county="510100"),
        ],
        sheet="科技工作者",
    )
    seen = {}
    for person in (alice, bob, charlie):
        client = client_for(person)
        seen[person.username] = issues(client, upload_batch(client, "workers", data))
    assert seen == {
        "alice": [
            (3, "所在区县代码", "该区县不在您的辖区内"),
            (4, "所在区县代码", "不是本省的区县代码"),
            (5, "所在区县代码", "不是本省的区县代码"),
        ],
        "bob": [
            (3, "所在区县代码", "该区县不在您的辖区内"),
            (4, "所在区县代码", "不是本省的区县代码"),
            (5, "所在区县代码", "不是本省的区县代码"),
        ],
        "charlie": [
            (2, "所在区县代码", "该区县不在您的辖区内"),
            (4, "所在区县代码", "不是本省的区县代码"),
            (5, "所在区县代码", "不是本省的区县代码"),
        ],
    }


def test_workers_are_created_with_an_unusable_password_and_a_profile(alice: User) -> None:
    client = client_for(alice)
    data = make_xlsx(
        WORKER_HEADERS,
        [
            worker_row(mobile=13800001234),
            worker_row(name="李四", mobile="138 0000 5678", id_number=""),
        ],
        sheet="科技工作者",
    )
    batch = upload_batch(client, "workers", data)
    assert issues(client, batch) == []
    assert messages_of(confirm(client, batch)) == ["导入完成：新增2条，已存在跳过0条。"]
    zhang = User.objects.for_mobile("13800001234").get()
    # An opaque username: the number is not in it (security item 16).
    assert re.fullmatch(r"u[a-z2-7]{16}", zhang.username)
    assert (zhang.display_name, zhang.role, zhang.region_id) == (
        "张三",
        Role.WORKER,
        "510104",
    )
    assert not zhang.has_usable_password()
    profile = zhang.talent_profile
    assert (
        profile.region_id,
        profile.employer,
        profile.title,
        profile.fields,
        profile.keywords,
        profile.capability,
        unseal(profile.id_number_sealed, purpose=ID_NUMBER_PURPOSE),
        profile.verified,
    ) == ("510104", "四川大学", "教授", "机器视觉", "缺陷检测", "图像检测", ID_NUMBER, False)
    assert ID_NUMBER not in profile.id_number_sealed  # stored sealed
    assert profile.id_number_hash == lookup_hash(ID_NUMBER, purpose=ID_NUMBER_PURPOSE)
    li = User.objects.for_mobile("13800005678").get()
    assert (li.talent_profile.id_number_sealed, li.talent_profile.id_number_hash) == ("", "")
    event = AuditEvent.objects.get(action="sheets.import")
    assert (event.object_type, event.detail) == ("talent_profile", {"created": 2, "skipped": 0})
    assert "1380000" not in str(event.detail)


def test_importing_the_same_worker_file_three_times_leaves_the_same_rows(alice: User) -> None:
    client = client_for(alice)
    data = make_xlsx(
        WORKER_HEADERS,
        [worker_row(), worker_row(name="李四", mobile="13800005678", id_number="")],
        sheet="科技工作者",
    )
    states = []
    for _ in range(3):
        confirm(client, upload_batch(client, "workers", data))
        states.append(
            (
                list(User.objects.order_by("id").values_list("id", "username", "password")),
                list(TalentProfile.objects.order_by("id").values_list("id", "user_id")),
            )
        )
    assert states[0] == states[1] == states[2]
    assert User.objects.filter(role=Role.WORKER).count() == 2
    assert TalentProfile.objects.count() == 2


def test_worker_rows_are_checked_for_mobile_id_number_and_duplicates(
    alice: User, dora: User
) -> None:
    make_worker("w_old", "510822", "13900000009")
    client = client_for(alice)
    data = make_xlsx(
        WORKER_HEADERS,
        [
            worker_row(),  # row 2
            worker_row(name="", mobile="1380000123", id_number=""),  # row 3
            worker_row(mobile="13800001234", id_number="510104199001011231"),  # row 4
            worker_row(mobile=dora.mobile, id_number="51010419900101"),  # row 5
            worker_row(mobile="13900000009", id_number=""),  # row 6: a worker elsewhere
            worker_row(mobile="13800002222"),  # row 7: same ID number as row 2
        ],
        sheet="科技工作者",
    )
    batch = upload_batch(client, "workers", data)
    assert issues(client, batch) == [
        (3, "姓名", "必填，不能为空"),
        (3, "手机号", "请输入有效的中国大陆手机号（11位数字，以1开头）。"),
        (4, "身份证号", "身份证号校验码不正确，请核对。"),
        (4, "手机号", "与第2行重复"),
        (5, "身份证号", "身份证号应为18位：17位数字加1位校验码（数字或X）。"),
        (5, "手机号", "该手机号已被其他类型的账号使用"),
        # A worker in another city: the one answer that names no county (no oracle).
        (6, "手机号", "该人员已在平台登记，请联系上级服务中心核查"),
        (7, "身份证号", "与第2行重复"),
    ]
    report = client.get(f"/sheets/import/batches/{batch.pk}/").context["report"]
    assert report.skipped_rows == []
    before = snapshot()
    assert messages_of(confirm(client, batch, valid_rows_only=True)) == [
        "导入完成：新增1条，已存在跳过0条。"
    ]
    assert User.objects.for_mobile(dora.mobile).get().role == Role.CITIZEN
    after = snapshot()
    assert len(after[2]) == len(before[2]) + 1
    assert User.objects.for_mobile("13800001234").count() == 1


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("名单.csv", "姓名,手机号\n张三,13800001234\n".encode(), "只支持 Excel .xlsx 文件"),
        ("旧版.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "只支持 Excel .xlsx 文件"),
        ("坏文件.xlsx", b"PK\x03\x04" + b"\0" * 100, "无法按 Excel（.xlsx）文件读取"),
        ("文档.xlsx", office_bytes(), "只支持 Excel .xlsx 文件"),
        ("网页.xlsx", b"PK\x03\x04<html><script>alert(1)</script>", "该文件含有网页代码"),
        ("大文件.xlsx", b"PK\x03\x04" + b"\0" * (5 * 1024 * 1024), "文件超过5MB"),
        ("空表.xlsx", None, "表格中没有数据行"),
        ("缺列.xlsx", make_xlsx(["姓名*", "手机号*"], [["张三", "13800001234"]]), "缺少必填列"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_a_message_and_nothing_is_stored(
    alice: User, name: str, data: bytes | None, message: str
) -> None:
    if data is None:
        data = make_xlsx(WORKER_HEADERS, [], sheet="科技工作者")
    before = snapshot()
    response = upload(client_for(alice), "workers", data, name=name)
    assert response.status_code == 400
    errors = response.context["form"].errors["file"]
    assert len(errors) == 1 and message in errors[0]
    assert message in response.content.decode()
    assert ImportBatch.objects.count() == 0
    assert snapshot() == before


def zip_bomb() -> bytes:
    """A small .xlsx-looking archive whose one member unpacks to 60 MB of one character."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", "A" * (60 * 1024 * 1024))
    return buffer.getvalue()


def test_an_archive_that_would_unpack_to_gigabytes_is_refused_before_it_is_read(
    alice: User,
) -> None:
    data = zip_bomb()
    assert len(data) < 5 * 1024 * 1024
    before = snapshot()
    response = upload(client_for(alice), "workers", data, name="炸弹.xlsx")
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "只支持 Excel .xlsx 文件，请使用平台提供的模板。文件解压后过大或压缩比异常。"
    ]
    assert ImportBatch.objects.count() == 0
    assert snapshot() == before


def test_a_missing_column_names_the_missing_ones(alice: User) -> None:
    response = upload(
        client_for(alice), "workers", make_xlsx(["姓名*", "手机号*"], [["张三", "1"]])
    )
    assert response.context["form"].errors["file"] == [
        "第1行缺少必填列：所在区县代码。请使用平台提供的模板。"
    ]


def test_a_file_with_more_than_5000_rows_is_refused(alice: User) -> None:
    rows = [worker_row(mobile=f"138{n:08d}", id_number="") for n in range(5001)]
    response = upload(client_for(alice), "workers", make_xlsx(WORKER_HEADERS, rows))
    assert response.context["form"].errors["file"] == ["数据超过5000行，请分批导入。"]
    assert ImportBatch.objects.count() == 0


def test_only_the_uploading_user_can_confirm_a_batch_and_only_once(alice: User, bob: User) -> None:
    data = make_xlsx(WORKER_HEADERS, [worker_row()], sheet="科技工作者")
    batch = upload_batch(client_for(alice), "workers", data)
    before = snapshot()
    bobs = client_for(bob)
    assert bobs.get(f"/sheets/import/batches/{batch.pk}/").status_code == 404
    assert bobs.post(f"/sheets/import/batches/{batch.pk}/confirm/").status_code == 404
    assert (
        bobs.post(
            f"/sheets/import/batches/{batch.pk}/confirm/", {"valid_rows_only": "1"}
        ).status_code
        == 404
    )
    with pytest.raises(PermissionDenied):
        import_batch_apply(batch=batch, actor=bob, valid_rows_only=False)
    assert snapshot() == before
    batch.refresh_from_db()
    assert batch.applied_at is None

    alices = client_for(alice)
    stale = ImportBatch.objects.get(pk=batch.pk)  # as a second, concurrent request read it
    assert messages_of(confirm(alices, batch)) == ["导入完成：新增1条，已存在跳过0条。"]
    after_first = snapshot()
    assert messages_of(confirm(alices, batch)) == ["该文件已经导入过，不能重复确认。"]
    with pytest.raises(ValidationError) as raised:
        import_batch_apply(batch=stale, actor=alice, valid_rows_only=False)
    assert raised.value.code == "batch_applied"
    assert snapshot() == after_first
    assert AuditEvent.objects.filter(action="sheets.import").count() == 1
    assert alices.get(f"/sheets/import/batches/{batch.pk}/confirm/").status_code == 405


def test_a_record_registered_between_the_check_and_the_write_rolls_the_import_back(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(alice)
    data = make_xlsx(
        WORKER_HEADERS,
        [worker_row(mobile="13800000001"), worker_row(mobile="13800000002", id_number="")],
    )
    batch = upload_batch(client, "workers", data)
    real_report = services.import_batch_report

    def report_then_someone_registers(**kwargs: Any) -> Any:
        report = real_report(**kwargs)
        make_worker("late", "510104", "13800000002")
        return report

    monkeypatch.setattr(services, "import_batch_report", report_then_someone_registers)
    before_users = User.objects.count()
    assert messages_of(confirm(client, batch)) == [
        "导入时数据已被他人修改，未导入任何数据，请稍后重试。"
    ]
    assert User.objects.count() == before_users + 1  # only the late registration
    assert not User.objects.for_mobile("13800000001").exists()
    batch.refresh_from_db()
    assert batch.applied_at is None
    assert not AuditEvent.objects.filter(action="sheets.import").exists()


def test_a_batch_cannot_be_confirmed_a_day_after_its_upload(alice: User, time_machine: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    client = client_for(alice)
    batch = upload_batch(client, "workers", make_xlsx(WORKER_HEADERS, [worker_row()]))
    time_machine.move_to(timezone.now() + timedelta(hours=24, seconds=1), tick=False)
    client = client_for(alice)  # sessions last 12 hours: sign in again
    page = client.get(f"/sheets/import/batches/{batch.pk}/").content.decode()
    assert "上传已超过24小时，请重新上传文件。" in page
    assert 'action="/sheets/import/batches/' not in page
    before = snapshot()
    assert messages_of(confirm(client, batch)) == ["上传已超过24小时，请重新上传文件。"]
    assert snapshot() == before


def test_rows_of_batches_left_unconfirmed_for_a_day_are_purged(
    alice: User, time_machine: Any
) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    client = client_for(alice)
    old = upload_batch(client, "workers", make_xlsx(WORKER_HEADERS, [worker_row()]))
    time_machine.move_to(timezone.now() + timedelta(hours=23), tick=False)
    client = client_for(alice)
    recent = upload_batch(client, "workers", make_xlsx(WORKER_HEADERS, [worker_row()]))
    assert services.import_batches_purge() == 0
    time_machine.move_to(timezone.now() + timedelta(hours=1, seconds=1), tick=False)
    assert services.import_batches_purge() == 1
    assert services.import_batches_purge() == 0
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.stored_rows(), old.row_count) == ([], 1)
    assert "13800001234" not in recent.rows_sealed  # sealed at rest
    assert recent.stored_rows() == [
        {
            "row": 2,
            "values": dict(
                zip(
                    [h.rstrip("*") for h in WORKER_HEADERS],
                    [
                        "张三",
                        "13800001234",
                        ID_NUMBER,
                        "510104",
                        "四川大学",
                        "教授",
                        "机器视觉",
                        "缺陷检测",
                        "图像检测",
                        "",
                        "",
                        "",
                    ],
                    strict=True,
                )
            ),
        }
    ]


def test_non_staff_get_refused_on_every_sheets_url_and_nothing_changes(
    alice: User, dora: User
) -> None:
    data = make_xlsx(WORKER_HEADERS, [worker_row()], sheet="科技工作者")
    batch = upload_batch(client_for(alice), "workers", data)
    worker = make_worker("w1", "510104", "13900000001")
    before = snapshot()
    urls = [
        "/sheets/",
        "/sheets/templates/demands.xlsx",
        "/sheets/templates/workers.xlsx",
        "/sheets/import/demands/",
        "/sheets/import/workers/",
        f"/sheets/import/batches/{batch.pk}/",
    ]
    for person in (dora, worker.user):
        client = client_for(person)
        for url in urls:
            assert client.get(url).status_code == 404, url
        assert upload(client, "workers", data).status_code == 404
        assert client.post(f"/sheets/import/batches/{batch.pk}/confirm/").status_code == 404
    anonymous = Client()
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert anonymous.post(f"/sheets/import/batches/{batch.pk}/confirm/").status_code == 302
    assert ImportBatch.objects.count() == 1
    assert snapshot() == before


def valid_id_number(n: int) -> str:
    first17 = f"51010419900101{n:03d}"
    return first17 + id_number_check_character(first17)


@pytest.mark.parametrize("kind", ["demands", "workers"])
def test_the_report_page_uses_a_fixed_number_of_queries(alice: User, kind: str) -> None:
    client = client_for(alice)
    client.get("/sheets/")  # the first request of a session also updates the session
    if kind == "demands":
        small = [demand_row()]
        large = [
            demand_row(uscc=make_uscc("510104", f"MA7{n:06d}"), title=f"需求{n}") for n in range(30)
        ]
    else:
        small = [worker_row()]
        large = [
            worker_row(mobile=f"1380000{n:04d}", id_number=valid_id_number(n)) for n in range(30)
        ]
    counts = []
    for rows in (small, large):
        batch = upload_batch(
            client, kind, make_xlsx(DEMAND_HEADERS if kind == "demands" else WORKER_HEADERS, rows)
        )
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/sheets/import/batches/{batch.pk}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_an_unknown_import_kind_is_a_404(alice: User) -> None:
    client = client_for(alice)
    assert client.get("/sheets/import/plans/").status_code == 404
    assert client.get("/sheets/templates/plans.xlsx").status_code == 404


def test_the_index_links_templates_imports_and_exports(alice: User) -> None:
    page = client_for(alice).get("/sheets/").content.decode()
    for href in (
        "/sheets/templates/demands.xlsx",
        "/sheets/templates/workers.xlsx",
        "/sheets/import/demands/",
        "/sheets/import/workers/",
        "/sheets/export/demands.xlsx",
        "/sheets/export/workers.xlsx",
        "/sheets/export/organisations.xlsx",
        "/sheets/export/cases.xlsx",
    ):
        assert f'href="{href}"' in page


@pytest.mark.parametrize("kind", ["demands", "workers"])
def test_every_templates_example_row_imports_cleanly(alice: User, kind: str) -> None:
    """The examples on a template's instructions sheet, copied into its data sheet as one
    row, pass every check and import (Alice's county is the examples' 510104)."""
    client = client_for(alice)
    workbook = load_workbook(io.BytesIO(client.get(f"/sheets/templates/{kind}.xlsx").content))
    data, notes = workbook.worksheets
    headers = [c.value for c in data[1]]
    examples = {
        notes.cell(row=r, column=1).value: notes.cell(row=r, column=5).value or ""
        for r in range(2, len(headers) + 2)
    }
    row = [examples[h.rstrip("*")] for h in headers]
    assert all(examples[h.rstrip("*")] for h in headers if h.endswith("*"))

    batch = upload_batch(client, kind, make_xlsx(headers, [row], sheet=data.title))

    assert issues(client, batch) == []
    assert messages_of(confirm(client, batch)) == ["导入完成：新增1条，已存在跳过0条。"]


def test_the_demand_templates_example_code_passes_the_uscc_check() -> None:
    from kejiyun.accounts.validators import is_valid_uscc
    from kejiyun.spreadsheets.importers.demands import USCC

    assert is_valid_uscc(USCC.example)
    assert USCC.example.startswith("91510104")


def classified_row(disciplines: str = "", industries: str = "", modes: str = "") -> list[Any]:
    return [*worker_row(), disciplines, industries, modes]


def test_workers_disciplines_industries_and_service_modes_are_read_by_name_or_code(
    alice: User,
) -> None:
    client = client_for(alice)
    data = make_xlsx(
        WORKER_HEADERS,
        [
            classified_row(
                "图像理解与识别、F0202；c2003",
                "酒、饮料和精制茶制造业、A0164，6513 应用软件开发",
                "咨询、现场指导",
            ),
            [*worker_row(name="李四", mobile="13800005678", id_number=""), "", "", ""],
        ],
        sheet="科技工作者",
    )
    batch = upload_batch(client, "workers", data)
    assert issues(client, batch) == []
    confirm(client, batch)

    zhang = TalentProfile.objects.get(user__mobile_hash=mobile_lookup("13800001234"))
    assert sorted(d.code for d in zhang.disciplines.all()) == ["C2003", "F0116", "F0202"]
    assert sorted(i.code for i in zhang.industries.all()) == ["0164", "15", "6513"]
    assert zhang.service_mode_labels == ["咨询", "现场指导"]
    li = TalentProfile.objects.get(user__mobile_hash=mobile_lookup("13800005678"))
    assert (li.disciplines.count(), li.industries.count(), li.service_modes) == (0, 0, 0)


def _one_line(codes: list[str]) -> bool:
    deepest = max(codes, key=len)
    return all(deepest.startswith(code) for code in codes)


def test_a_name_shared_by_a_class_and_its_own_subclass_names_the_subclass() -> None:
    from kejiyun.spreadsheets.importers.workers import Classification

    industries = Classification("行业", [("45", "燃气生产和供应业"), ("451", "燃气生产和供应业")])
    assert industries.resolve("燃气生产和供应业") == (["451"], [])
    apart = Classification("学科", [("A01", "同名"), ("B02", "同名")])
    assert apart.resolve("同名") == ([], ["“同名”对应多个学科（A01、B02），请填写代码"])


def test_unknown_or_ambiguous_classifications_are_chinese_row_errors_and_nothing_is_written(
    alice: User,
) -> None:
    from kejiyun.talent.models import Discipline

    # A name shared by two disciplines in different branches must be given by its code (a
    # class and its own subclass of one name are one thing: the narrower is taken).
    names = (
        Discipline.objects.values("name")
        .annotate(n=Count("code"))
        .filter(n__gt=1)
        .order_by("name")
        .values_list("name", flat=True)
    )
    shared = next(
        name
        for name in names
        if not _one_line(list(Discipline.objects.filter(name=name).values_list("code", flat=True)))
    )
    client = client_for(alice)
    data = make_xlsx(
        WORKER_HEADERS,
        [
            classified_row("量子烹饪学", "9999", "上门维修"),
            [*worker_row(name="李四", mobile="13800005678", id_number=""), shared, "", "培训"],
        ],
        sheet="科技工作者",
    )
    batch = upload_batch(client, "workers", data)
    found = issues(client, batch)

    assert found[:3] == [
        (2, "学科", "找不到学科“量子烹饪学”，请填写学科名称或代码"),
        (2, "服务行业", "找不到行业“9999”，请填写行业名称或代码"),
        (
            2,
            "服务方式",
            "服务方式“上门维修”不正确，请从咨询、培训、联合研发、成果转化、现场指导中选填",
        ),
    ]
    assert len(found) == 4
    assert found[3][:2] == (3, "学科")
    assert found[3][2].startswith(f"“{shared}”对应多个学科（") and found[3][2].endswith(
        "请填写代码"
    )
    before = snapshot()
    assert "未导入任何数据" in messages_of(confirm(client, batch))[0]
    assert snapshot() == before
