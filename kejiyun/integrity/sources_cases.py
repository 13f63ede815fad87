"""The case side of a detector snapshot (minimal version on branch integ; the `detect` branch
owns this module and its version replaces this one at merge).

`cases_load(start, end)` returns (organisations, experts, cases): the cases closed or
confirmed in [start, end), the enterprises and experts involved, as plain rows. People are
*person keys* only: "account:<id>" and keyed hashes of a mobile number and of an ID-number
lookup hash."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db.models import Q

from kejiyun.accounts.models import Footprint, Organisation, User
from kejiyun.cases.models import Case, CaseEvent, DockingRequest
from kejiyun.common.crypto import lookup_hash
from kejiyun.integrity.rows import CaseRow, ExpertRow, FootprintRow, OrganisationRow
from kejiyun.talent.models import TalentProfile

PERSON_PURPOSE = "integrity-person"


def person_keys(
    *, account_id: int | None, mobile: str | None, id_number_hash: str = ""
) -> set[str]:
    """The person keys of one account: "account:<id>", the keyed hash of its mobile number and
    that of its ID-number lookup hash (for workers who gave one)."""
    keys: set[str] = set()
    if account_id is not None:
        keys.add(f"account:{account_id}")
    if mobile:
        keys.add(lookup_hash(mobile, purpose=PERSON_PURPOSE))
    if id_number_hash:
        keys.add(lookup_hash(f"id:{id_number_hash}", purpose=PERSON_PURPOSE))
    return keys


def cases_load(
    start: datetime, end: datetime
) -> tuple[list[OrganisationRow], list[ExpertRow], list[CaseRow]]:
    cases = list(
        Case.objects.filter(
            Q(closed_at__gte=start, closed_at__lt=end)
            | Q(confirmed_at__gte=start, confirmed_at__lt=end)
        )
        .select_related("demand")
        .order_by("pk")
    )
    ids = [c.pk for c in cases]
    experts_of: dict[int, list[int]] = defaultdict(list)
    for case_id, user_id in (
        DockingRequest.objects.filter(case_id__in=ids, status=DockingRequest.Status.ACCEPTED)
        .order_by("case_id", "expert__user_id")
        .values_list("case_id", "expert__user_id")
    ):
        experts_of[case_id].append(user_id)
    raters: dict[int, int] = {}
    for case_id, actor_id in (
        CaseEvent.objects.filter(
            case_id__in=ids, kind=CaseEvent.Kind.CONFIRMED, actor__isnull=False
        )
        .order_by("case_id", "created_at", "id")
        .values_list("case_id", "actor_id")
    ):
        raters[case_id] = actor_id
    case_rows = [
        CaseRow(
            id=c.pk,
            centre_id=c.centre_id,
            demand_id=c.demand_id,
            organisation_id=c.demand.organisation_id,
            owner_id=c.owner_id,
            expert_ids=tuple(experts_of.get(c.pk, ())),
            opened_at=c.opened_at,
            closed_at=c.closed_at,
            outcome=c.outcome,
            evidence_sha256=c.evidence_sha256,
            contract_number=c.contract_number,
            closing_text=c.outcome_reason,
            rating=c.rating,
            rated_by_id=raters.get(c.pk) if c.rating is not None else None,
            rated_at=c.confirmed_at if c.rating is not None else None,
        )
        for c in cases
    ]
    expert_ids = {uid for v in experts_of.values() for uid in v}
    profiles = list(
        TalentProfile.objects.filter(user_id__in=expert_ids).select_related("user").order_by("pk")
    )
    org_ids = {c.demand.organisation_id for c in cases} | {
        p.user.organisation_id for p in profiles if p.user.organisation_id is not None
    }
    keys: dict[int, set[str]] = defaultdict(set)
    for pk, org_id, mobile, id_hash in User.objects.filter(organisation_id__in=org_ids).values_list(
        "pk", "organisation_id", "mobile", "talent_profile__id_number_hash"
    ):
        keys[org_id] |= person_keys(account_id=pk, mobile=mobile, id_number_hash=id_hash or "")
    orgs = [
        OrganisationRow(id=pk, name=name, address=address, person_keys=frozenset(keys[pk]))
        for pk, name, address in Organisation.objects.filter(pk__in=org_ids)
        .order_by("pk")
        .values_list("pk", "name", "address")
    ]
    address = {o.id: o.address for o in orgs}
    experts = [
        ExpertRow(
            account_id=p.user_id,
            employer=p.employer,
            organisation_id=p.user.organisation_id,
            address=address.get(p.user.organisation_id or 0, ""),
            person_keys=frozenset(
                person_keys(
                    account_id=p.user_id, mobile=p.user.mobile, id_number_hash=p.id_number_hash
                )
            ),
        )
        for p in profiles
    ]
    return orgs, experts, case_rows


def cases_footprints(cases: list[CaseRow]) -> list[FootprintRow]:
    """The rate footprints of the accounts that rated `cases` (`snapshot_load` adds them to
    the snapshot's footprints)."""
    raters = {c.rated_by_id for c in cases if c.rated_by_id is not None}
    return [
        FootprintRow(account_id=user_id, kind=kind, at=at, network=network, device=device)
        for user_id, kind, at, network, device in Footprint.objects.filter(
            kind=Footprint.Kind.RATE, user_id__in=raters
        )
        .order_by("created_at", "pk")
        .values_list("user_id", "kind", "created_at", "network", "device")
    ]
