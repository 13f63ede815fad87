"""The case side of a detector snapshot, read from the database (`cases_load`), and the
evidence hash that the hollow-closure detector compares (`Case.evidence_sha256`)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal

from django.test import RequestFactory
from django.utils import timezone

from kejiyun.accounts.footprints import footprint_record
from kejiyun.accounts.models import Footprint, Organisation, User
from kejiyun.cases.dockings.services import docking_respond, docking_send
from kejiyun.cases.models import Case, Step
from kejiyun.cases.workflow.services import (
    OutcomeInput,
    case_confirm,
    case_dispute,
    case_outcome_record,
    case_transition,
    case_visit_add,
)
from kejiyun.common.crypto import lookup_hash, mobile_lookup
from kejiyun.integrity.detectors import hollow, selfdealing
from kejiyun.integrity.rows import Snapshot
from kejiyun.integrity.sources_cases import cases_footprints, cases_load, person_keys
from kejiyun.regions.models import ServiceCentre
from kejiyun.talent.models import TalentProfile
from tests.builders import (
    client_for,
    make_case,
    make_enterprise_user,
    make_tea_expert,
    pdf_bytes,
    pdf_upload,
)

# Device cookies are 32 hex digits (anything else is no device id).
ALICE_DEVICE = "a1" * 16
ERIN_DEVICE = "e7" * 16
VISIT = "专家到茶园现场查看，确定茶小绿叶蝉为主要害虫，制定了黄板诱杀与生物农药轮换方案。"


def solved(data: bytes, contract: str = "HT-2026-001") -> OutcomeInput:
    return OutcomeInput(
        solved=True,
        contract_number=contract,
        contract_amount=Decimal("8.00"),
        evidence=pdf_upload("验收单.pdf", data),
    )


def to_acceptance(
    case: Case, staff: User, expert: TalentProfile, *, data: bytes, contract: str = "HT-2026-001"
) -> Case:
    """Matching → docking with `expert` accepted → agreement → delivery, a visit, then the
    solved outcome with `data` as its evidence."""
    case_transition(case=case, to_step=Step.DIAGNOSIS, actor=staff)
    case_transition(case=case, to_step=Step.MATCHING, actor=staff)
    docking = docking_send(case=case, expert=expert, actor=staff)
    docking_respond(docking=docking, actor=expert.user, accept=True)
    case.refresh_from_db()
    case_transition(case=case, to_step=Step.AGREEMENT, actor=staff)
    case_transition(case=case, to_step=Step.DELIVERY, actor=staff)
    case_visit_add(
        case=case,
        actor=staff,
        visited_on=timezone.localdate(),
        place="企业茶园",
        people="专家与企业技术员",
        outcome=VISIT,
    )
    case_outcome_record(case=case, outcome=solved(data, contract), actor=staff)
    return case


def test_evidence_gets_its_sha256_when_saved_and_loses_it_with_a_disputed_outcome(alice: User):
    data = pdf_bytes(pages=2)
    tina = make_tea_expert()
    case = make_case(alice)
    erin = make_enterprise_user(case.demand.organisation, "erin")
    to_acceptance(case, alice, tina, data=data)
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.evidence_sha256 == hashlib.sha256(data).hexdigest()
    assert fresh.evidence.name  # the file itself is still saved whole
    with fresh.evidence.open("rb") as handle:
        assert handle.read() == data
    case_dispute(case=fresh, actor=erin, reason="验收单不是我们签的")
    assert Case.objects.get(pk=case.pk).evidence_sha256 == ""


def test_cases_load_builds_the_rows_of_a_closed_and_rated_case(alice: User):
    data = pdf_bytes()
    tina = make_tea_expert()
    university = Organisation.objects.create(
        kind=Organisation.Kind.UNIVERSITY,
        name="四川农业大学",
        region_id="510104",
        address="成都市锦江区琉璃场1号",
    )
    tina.user.organisation = university
    tina.user.save(update_fields=["organisation"])
    case = make_case(alice)
    enterprise = case.demand.organisation
    enterprise.address = "四川省成都市锦江区红星路二段88号"
    enterprise.save(update_fields=["address"])
    erin = make_enterprise_user(enterprise, "erin", mobile="13900001111")
    to_acceptance(case, alice, tina, data=data)
    case_confirm(case=case, actor=erin, rating=5, comment="很好")
    closed = Case.objects.get(pk=case.pk)
    # A case still open is not in the window.
    make_case(alice, serial="2", title="另一件需求")

    now = timezone.now()
    organisations, experts, cases = cases_load(now - timedelta(hours=1), now + timedelta(hours=1))

    assert [c.id for c in cases] == [case.pk]
    row = cases[0]
    assert row.centre_id == ServiceCentre.objects.get(region_id="510104").pk
    assert (row.demand_id, row.organisation_id, row.owner_id) == (
        case.demand_id,
        enterprise.pk,
        alice.pk,
    )
    assert row.expert_ids == (tina.user_id,)
    assert (row.opened_at, row.closed_at) == (closed.opened_at, closed.closed_at)
    assert row.outcome == "solved"
    assert row.evidence_sha256 == hashlib.sha256(data).hexdigest()
    assert row.contract_number == "HT-2026-001"
    assert VISIT in row.closing_text
    assert "合同" not in row.closing_text  # the generated outcome line is not narrative
    assert (row.rating, row.rated_by_id, row.rated_at) == (5, erin.pk, closed.confirmed_at)

    by_id = {o.id: o for o in organisations}
    assert set(by_id) == {enterprise.pk, university.pk}
    assert by_id[enterprise.pk].address == "四川省成都市锦江区红星路二段88号"
    assert by_id[enterprise.pk].person_keys == frozenset(
        {
            f"account:{erin.pk}",
            lookup_hash(f"mobile:{mobile_lookup('13900001111')}", purpose="integrity-person"),
        }
    )
    assert f"account:{tina.user_id}" in by_id[university.pk].person_keys
    (expert,) = experts
    assert (expert.account_id, expert.employer, expert.organisation_id, expert.address) == (
        tina.user_id,
        "四川农业大学",
        university.pk,
        "成都市锦江区琉璃场1号",
    )
    assert expert.person_keys == frozenset(
        person_keys(account_id=tina.user_id, mobile_hash=tina.user.mobile_hash)
    )
    # No number in the clear anywhere in the rows.
    assert "13900001111" not in repr((organisations, experts, cases))
    assert tina.user.mobile not in repr((organisations, experts, cases))

    # The detectors read these rows: a local university's expert is no self-dealing, and one
    # honest closure is no hollow closure.
    snapshot = Snapshot(
        start=now - timedelta(hours=1),
        end=now + timedelta(hours=1),
        organisations=organisations,
        experts=experts,
        cases=cases,
    )
    assert selfdealing.detect(snapshot) == []
    assert hollow.detect(snapshot) == []


def test_cases_load_brings_earlier_cases_that_share_evidence_or_a_contract_as_context(
    alice: User,
):
    tina = make_tea_expert()
    shared = pdf_bytes(pages=3)
    now_case = to_acceptance(make_case(alice, serial="1"), alice, tina, data=shared)
    same_file = to_acceptance(
        make_case(alice, serial="2", title="茶园二"), alice, tina, data=shared, contract="X-1"
    )
    same_contract = to_acceptance(
        make_case(alice, serial="3", title="茶园三"),
        alice,
        tina,
        data=pdf_bytes(pages=4),
        contract="ht 2026 001",
    )
    unrelated = to_acceptance(
        make_case(alice, serial="4", title="茶园四"),
        alice,
        tina,
        data=pdf_bytes(pages=5),
        contract="HT-2026-999",
    )
    too_old = to_acceptance(
        make_case(alice, serial="5", title="茶园五"), alice, tina, data=shared, contract="Y-1"
    )
    recent = to_acceptance(
        make_case(alice, serial="6", title="茶园六"),
        alice,
        tina,
        data=pdf_bytes(pages=6),
        contract="HT-2026-600",
    )
    now = timezone.now()
    # The window's case is closed now; the others closed 100 days ago (400 for one), but one
    # 30 days ago, which comes as context anyway (a peer closed recently).
    Case.objects.filter(pk=now_case.pk).update(step=Step.CLOSED, closed_at=now)
    earlier = ((same_file, 100), (same_contract, 100), (unrelated, 100), (too_old, 400))
    for case, days in (*earlier, (recent, 30)):
        Case.objects.filter(pk=case.pk).update(
            step=Step.CLOSED,
            closed_at=now - timedelta(days=days),
            outcome_recorded_at=now - timedelta(days=days),
        )
    start = now - timedelta(days=1)
    _, _, cases = cases_load(start, now + timedelta(hours=1))
    assert sorted(c.id for c in cases) == sorted(
        [now_case.pk, same_file.pk, same_contract.pk, recent.pk]
    )
    # The hollow-closure detector flags the window's case only, for the reuse.
    snapshot = Snapshot(start=start, end=now + timedelta(hours=1), cases=cases)
    (finding,) = hollow.detect(snapshot)
    assert finding.subject_id == now_case.pk
    assert finding.evidence["shared_evidence_cases"] == sorted([same_file.pk, same_contract.pk])


def test_the_enterprises_rating_records_where_it_was_given_from(alice: User):
    tina = make_tea_expert()
    case = make_case(alice)
    erin = make_enterprise_user(case.demand.organisation, "erin")
    to_acceptance(case, alice, tina, data=pdf_bytes())
    case.refresh_from_db()
    client = client_for(erin)
    client.cookies["kjy_device"] = ERIN_DEVICE
    response = client.post(
        f"/cases/mine/{case.pk}/confirm/",
        {"rating": "4", "comment": "", "version": case.version},
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 302
    (footprint,) = Footprint.objects.filter(user=erin, kind=Footprint.Kind.RATE)
    assert footprint.device == lookup_hash(ERIN_DEVICE, purpose="footprint-device")
    assert footprint.network == lookup_hash("203.0.113.0/24", purpose="footprint-network")
    # A refused rating (a stale page) leaves no footprint.
    response = client.post(
        f"/cases/mine/{case.pk}/confirm/",
        {"rating": "4", "comment": "", "version": case.version},
    )
    assert Footprint.objects.filter(user=erin, kind=Footprint.Kind.RATE).count() == 1


def test_a_rating_given_on_the_owners_device_is_found_from_the_database(alice: User):
    tina = make_tea_expert()
    honest_case = make_case(alice, serial="1")
    helped_case = make_case(alice, serial="2", title="茶园二")
    erin = make_enterprise_user(honest_case.demand.organisation, "erin")
    fred = make_enterprise_user(helped_case.demand.organisation, "fred")
    to_acceptance(honest_case, alice, tina, data=pdf_bytes(pages=1))
    to_acceptance(helped_case, alice, tina, data=pdf_bytes(pages=2), contract="HT-2026-002")
    # Alice signs in from the centre's office on her own browser.
    office = RequestFactory().get("/", REMOTE_ADDR="198.51.100.20")
    office.COOKIES["kjy_device"] = ALICE_DEVICE
    footprint_record(office, alice, Footprint.Kind.LOGIN)
    for user, case, device, ip in (
        (erin, honest_case, ERIN_DEVICE, "203.0.113.7"),
        (fred, helped_case, ALICE_DEVICE, "198.51.100.20"),  # rated on Alice's laptop
    ):
        case.refresh_from_db()
        client = client_for(user)
        client.cookies["kjy_device"] = device
        client.post(
            f"/cases/mine/{case.pk}/confirm/",
            {"rating": "5", "comment": "", "version": case.version},
            REMOTE_ADDR=ip,
        )
    now = timezone.now()
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    organisations, experts, cases = cases_load(start, end)
    footprints = cases_footprints(cases)
    assert sorted((f.account_id, f.kind) for f in footprints) == sorted(
        [(erin.pk, "rate"), (fred.pk, "rate"), (alice.pk, "login")]
    )
    snapshot = Snapshot(
        start=start,
        end=end,
        organisations=organisations,
        experts=experts,
        cases=cases,
        footprints=footprints,
    )
    (finding,) = hollow.detect(snapshot)
    assert finding.subject_id == helped_case.pk
    # (Both closings carry the same visit note, which alone is no flag.)
    assert finding.reason.endswith("企业评价来自承办人员登录所用的设备。")
