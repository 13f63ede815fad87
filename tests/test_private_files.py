"""Private case files (kejiyun/common/files.py, kejiyun/cases/files/): attachments and outcome
evidence are stored outside MEDIA_ROOT under random names and leave only through views that
apply the case's own access rule, as downloads with the stored type, `nosniff` and `no-store`
(X-Accel-Redirect in production); each download is audited. Also the headers every page
carries: the Content-Security-Policy, and `no-store` for signed-in users."""

from __future__ import annotations

import importlib
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.cases.dockings.services import docking_respond, docking_send
from kejiyun.cases.models import Case, CaseAttachment, Step
from kejiyun.cases.workflow.services import (
    OutcomeInput,
    case_attachment_add,
    case_outcome_record,
    case_transition,
)
from kejiyun.talent.models import TalentProfile
from tests.builders import (
    client_for,
    make_case,
    make_citizen,
    make_enterprise,
    make_enterprise_user,
    make_reviewer,
    make_superuser,
    make_worker,
    pdf_bytes,
)

pytestmark = pytest.mark.django_db

RANDOM_NAME = re.compile(r"cases/attachments/[0-9a-f]{32}\.pdf")
CONTRACT = pdf_bytes(pages=2)


def files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def attach(case: Case, actor: User, name: str = "诊断报告.pdf") -> CaseAttachment:
    upload = SimpleUploadedFile(name, CONTRACT, content_type="text/html")
    return case_attachment_add(case=case, actor=actor, upload=upload, name="诊断报告")


def expert_with_docking(case: Case, actor: User, username: str, mobile: str) -> TalentProfile:
    """An S&T worker sent a docking request on `case` (moved on to matching first)."""
    for step in (Step.DIAGNOSIS, Step.MATCHING):
        if case.step != Step.DOCKING and case.step != step:
            case_transition(case=case, to_step=step, actor=actor)
    expert = make_worker(username, "510104", mobile)
    docking_send(case=case, expert=expert, actor=actor)
    return expert


def test_an_attachment_is_stored_privately_under_a_random_name_and_keeps_its_own_name(
    alice: User, media_root: Path, private_root: Path
) -> None:
    case = make_case(alice)
    response = client_for(alice).post(
        f"/cases/{case.pk}/attachments/",
        {"name": "诊断报告", "file": SimpleUploadedFile("诊断 报告.pdf", CONTRACT)},
    )
    assert response.status_code == 302
    item = case.attachments.get()
    assert RANDOM_NAME.fullmatch(item.file.name)
    assert (item.original_name, item.content_type) == ("诊断 报告.pdf", "application/pdf")
    assert files_in(private_root) == [private_root / item.file.name]
    assert (private_root / item.file.name).read_bytes() == CONTRACT
    assert files_in(media_root) == []
    with pytest.raises(ValueError, match="私有文件没有公开地址"):
        _ = item.file.url


def test_the_download_is_an_attachment_with_the_stored_type_nosniff_and_no_store(
    alice: User,
) -> None:
    case = make_case(alice)
    item = attach(case, alice, name="诊断 报告.pdf")
    response = client_for(alice).get(f"/cases/{case.pk}/attachments/{item.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CONTRACT  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"__ __.pdf\"; filename*=UTF-8''"
        "%E8%AF%8A%E6%96%AD%20%E6%8A%A5%E5%91%8A.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    assert "X-Accel-Redirect" not in response


def test_in_production_nginx_sends_the_bytes_through_x_accel_redirect(
    alice: User, settings: Any
) -> None:
    settings.PRIVATE_FILES_ACCEL = "/_private/"
    case = make_case(alice)
    item = attach(case, alice)
    response = client_for(alice).get(f"/cases/{case.pk}/attachments/{item.pk}/")
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/_private/{item.file.name}"
    assert response.content == b""
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; ")
    assert response["Cache-Control"] == "no-store"
    # Nobody else is sent there: the access rule runs first.
    assert Client().get(f"/cases/{case.pk}/attachments/{item.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("alice", 200),  # county staff of the case
        ("bob", 200),  # city staff above it
        ("pat", 200),  # province staff
        ("charlie", 404),  # staff of another city's county
        ("anonymous", 404),
        ("owner_enterprise", 200),  # a user of the enterprise whose demand it is
        ("other_enterprise", 404),
        ("docking_expert", 200),  # sent a docking request on the case
        ("declined_expert", 404),  # declined it
        ("other_worker", 404),
        ("citizen", 404),
        ("reviewer", 404),
    ],
)
def test_only_those_who_may_see_the_case_may_fetch_its_files(
    alice: User, bob: User, pat: User, charlie: User, who: str, status: int
) -> None:
    case = make_case(alice)
    item = attach(case, alice)
    people: dict[str, User] = {"alice": alice, "bob": bob, "pat": pat, "charlie": charlie}
    if who == "owner_enterprise":
        people[who] = make_enterprise_user(case.demand.organisation, "erin")
    elif who == "other_enterprise":
        people[who] = make_enterprise_user(make_enterprise("别家公司", "510104", "77"), "oscar")
    elif who == "docking_expert":
        people[who] = expert_with_docking(case, alice, "tina", "13900000001").user
    elif who == "declined_expert":
        expert = expert_with_docking(case, alice, "dan", "13900000003")
        docking_respond(
            docking=expert.dockings.get(), actor=expert.user, accept=False, reason="没空"
        )
        people[who] = expert.user
    elif who == "other_worker":
        people[who] = make_worker("wang", "510104", "13900000004").user
    elif who == "citizen":
        people[who] = make_citizen("dora")
    elif who == "reviewer":
        people[who] = make_reviewer()
    client = Client() if who == "anonymous" else client_for(people[who])
    before = AuditEvent.objects.filter(action=AuditAction.CASE_FILE_DOWNLOAD).count()
    response = client.get(f"/cases/{case.pk}/attachments/{item.pk}/")
    assert response.status_code == status
    downloads = AuditEvent.objects.filter(action=AuditAction.CASE_FILE_DOWNLOAD)
    assert downloads.count() == before + (1 if status == 200 else 0)
    if status == 200:
        event = downloads.latest("id")
        assert (event.user_id, event.object_type, event.object_id) == (
            people[who].pk,
            "case",
            str(case.pk),
        )
        assert event.detail == {"file": "attachment", "attachment": item.pk}


def test_an_attachment_of_another_case_is_not_found_through_a_case_one_may_see(
    alice: User,
) -> None:
    mine = make_case(alice, serial="1")
    other = make_case(alice, serial="2", title="另一个案例")
    item = attach(other, alice)
    erin = make_enterprise_user(mine.demand.organisation, "erin")
    assert client_for(erin).get(f"/cases/{mine.pk}/attachments/{item.pk}/").status_code == 404


def _no_docking_reason(step: str) -> str:
    """These cases skip docking: agreement needs the recorded reason."""
    return "企业自行找到合作方" if step == Step.AGREEMENT else ""


def _solved_with_evidence(alice: User) -> Case:
    """A case of Alice's taken to acceptance, solved, with 验收单.pdf as its evidence."""
    case = make_case(alice)
    for step in (Step.DIAGNOSIS, Step.MATCHING, Step.DOCKING, Step.AGREEMENT, Step.DELIVERY):
        case_transition(case=case, to_step=step, actor=alice, reason=_no_docking_reason(step))
    outcome = OutcomeInput(
        solved=True,
        contract_number="HT-1",
        contract_amount=Decimal("3"),
        evidence=SimpleUploadedFile("验收单.pdf", CONTRACT),
    )
    case_outcome_record(case=case, outcome=outcome, actor=alice)
    case.refresh_from_db()
    return case


def test_outcome_evidence_is_private_and_the_enterprise_downloads_it(
    alice: User, charlie: User, private_root: Path, media_root: Path
) -> None:
    case = _solved_with_evidence(alice)
    assert re.fullmatch(r"cases/evidence/[0-9a-f]{32}\.pdf", case.evidence.name)
    assert (case.evidence_name, case.evidence_type) == ("验收单.pdf", "application/pdf")
    assert files_in(private_root) == [private_root / case.evidence.name]
    assert files_in(media_root) == []
    erin = client_for(make_enterprise_user(case.demand.organisation, "erin"))
    page = erin.get(f"/cases/mine/{case.pk}/").content.decode()
    assert f'href="/cases/{case.pk}/evidence/"' in page
    response = erin.get(f"/cases/{case.pk}/evidence/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CONTRACT  # type: ignore[attr-defined]
    assert response["Content-Disposition"].endswith("''%E9%AA%8C%E6%94%B6%E5%8D%95.pdf")
    assert client_for(charlie).get(f"/cases/{case.pk}/evidence/").status_code == 404
    assert Client().get(f"/cases/{case.pk}/evidence/").status_code == 404


@pytest.mark.parametrize("name", ["x.html", "x.pdf"])
def test_a_pdf_carrying_script_is_refused_with_400_and_nothing_is_stored(
    alice: User, private_root: Path, media_root: Path, name: str
) -> None:
    case = make_case(alice)
    events = case.events.count()
    polyglot = b"%PDF-1.4\n<script>fetch('/cases/')</script>\n%%EOF\n"
    response = client_for(alice).post(
        f"/cases/{case.pk}/attachments/",
        {
            "name": "报告",
            "file": SimpleUploadedFile(name, polyglot, content_type="application/pdf"),
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "该文件含有网页代码（&lt;script），已拒绝。" in html
    assert "is-invalid" in html or "invalid-feedback" in html  # shown on the upload form
    assert CaseAttachment.objects.count() == 0
    assert case.events.count() == events
    assert files_in(private_root) == [] and files_in(media_root) == []


def test_evidence_that_does_not_parse_is_refused_with_400_on_the_outcome_form(
    alice: User, private_root: Path
) -> None:
    case = make_case(alice)
    for step in (Step.DIAGNOSIS, Step.MATCHING, Step.DOCKING, Step.AGREEMENT, Step.DELIVERY):
        case_transition(case=case, to_step=step, actor=alice, reason=_no_docking_reason(step))
    case.refresh_from_db()
    fake = SimpleUploadedFile("合同.docx", b"PK\x03\x04" + b"\x00" * 64)
    response = client_for(alice).post(
        f"/cases/{case.pk}/outcome/",
        {
            "version": case.version,
            "solved": "1",
            "contract_number": "HT-9",
            "contract_amount": "8",
            "evidence": fake,
        },
    )
    assert response.status_code == 400
    form = response.context["outcome_form"]
    assert form.non_field_errors() == [
        "只能上传 PDF、图片（PNG/JPEG）或 Office 文档（.docx/.xlsx/.pptx）。"
        "无法按 Word（.docx）文件读取，文件可能已损坏。"
    ]
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.step, fresh.outcome, fresh.evidence.name, fresh.version) == (
        Step.DELIVERY,
        "",
        "",
        case.version,
    )
    assert files_in(private_root) == []


def test_the_migration_moves_existing_public_files_to_random_private_names(
    alice: User, media_root: Path, private_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    case = make_case(alice)
    old = media_root / "cases" / "attachments" / "2026" / "11" / "合同 扫描.pdf"
    old.parent.mkdir(parents=True)
    old.write_bytes(CONTRACT)
    item = CaseAttachment.objects.create(
        case=case, name="合同", file="cases/attachments/2026/11/合同 扫描.pdf"
    )
    old_evidence = media_root / "cases" / "evidence" / "2026" / "11" / "contract.docx"
    old_evidence.parent.mkdir(parents=True)
    old_evidence.write_bytes(b"PK\x03\x04 a word file")
    Case.objects.filter(pk=case.pk).update(evidence="cases/evidence/2026/11/contract.docx")
    missing = CaseAttachment.objects.create(case=case, name="丢失", file="cases/attachments/x.pdf")

    migration = importlib.import_module("kejiyun.cases.migrations.0004_private_case_files")
    with django_capture_on_commit_callbacks() as on_commit:
        migration.move_case_files_to_the_private_root(apps, None)
    # Until the rows naming the private copies commit, the public files stay where the rows
    # (were the migration rolled back) would still look for them.
    assert len(files_in(media_root)) == 2
    for callback in on_commit:
        callback()

    item.refresh_from_db()
    case.refresh_from_db()
    assert RANDOM_NAME.fullmatch(item.file.name)
    assert (item.original_name, item.content_type) == ("合同 扫描.pdf", "application/pdf")
    assert (private_root / item.file.name).read_bytes() == CONTRACT
    assert re.fullmatch(r"cases/evidence/[0-9a-f]{32}\.docx", case.evidence.name)
    assert case.evidence_name == "contract.docx"
    assert case.evidence_type.endswith("wordprocessingml.document")
    assert files_in(media_root) == []
    # A row whose file was already gone is left as it was (its download answers 404).
    missing.refresh_from_db()
    assert missing.file.name == "cases/attachments/x.pdf"
    response = client_for(alice).get(f"/cases/{case.pk}/attachments/{missing.pk}/")
    assert response.status_code == 404


# --- Headers on every page --------------------------------------------------------------------

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
)


def test_every_page_carries_the_content_security_policy(alice: User) -> None:
    for client, url in (
        (Client(), "/"),
        (Client(), "/accounts/login/"),
        (Client(), "/demands/"),
        (client_for(alice), "/cases/"),
        (client_for(alice), "/dashboard/"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        directives = {d.strip() for d in response["Content-Security-Policy"].split(";")}
        assert directives == set(POLICY.split("; ")), url


def test_pages_for_signed_in_users_are_not_stored_and_public_ones_may_be(alice: User) -> None:
    assert "no-store" not in Client().get("/").get("Cache-Control", "")
    staff = client_for(alice)
    for url in ("/", "/cases/", "/dashboard/", "/sheets/"):
        assert staff.get(url)["Cache-Control"] == "no-store", url
    # The answer to signing out still reaches a browser that showed signed-in pages.
    assert staff.post("/accounts/logout/")["Cache-Control"] == "no-store"


def test_the_admin_page_of_a_case_with_evidence_links_to_the_checked_download(
    alice: User, private_root: Path
) -> None:
    case = _solved_with_evidence(alice)
    response = client_for(make_superuser()).get(f"/admin/cases/case/{case.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/cases/{case.pk}/evidence/"' in html and "验收单.pdf" in html
