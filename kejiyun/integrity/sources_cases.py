"""The case side of a detector snapshot, read from the database: the cases closed or rated in
a window, the enterprises and experts involved, as plain rows (`kejiyun/integrity/rows.py`).

`cases_load(start, end)` returns (organisations, experts, cases). Besides the cases closed
(`closed_at`) or rated (`confirmed_at`) in [start, end) it returns, as context, the cases closed
or rated in the RECENT_DAYS before `start` (peers for what "fast" is, earlier ratings of a
ring) and those of the 365 days before `start` whose evidence file (SHA-256) or contract number
(normalised as the hollow-closure detector compares it) is also on a case of the window:
reused evidence is seen across the turn of a window. The detectors flag only the window's
cases.

People appear only as *person keys* (`person_keys`): keyed hashes of a mobile number and of an
ID-number lookup hash, and "account:<id>". An organisation's keys are its members' keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Max, Q

from kejiyun.accounts.models import Footprint, Organisation, User
from kejiyun.cases.models import TERMINAL, Case, CaseEvent, CaseVisit, DockingRequest
from kejiyun.common.crypto import lookup_hash
from kejiyun.integrity.detectors.hollow import RATE_MATCH, contract_key
from kejiyun.integrity.rows import CaseRow, ExpertRow, FootprintRow, OrganisationRow
from kejiyun.regions.models import Region, ServiceCentre
from kejiyun.talent.models import TalentProfile

PERSON_PURPOSE = "integrity-person"
# How far back a case of another window may share evidence with one of this window.
CONTEXT_DAYS = 365
# Every case closed or rated this long before the window comes as context: the peers whose
# median time to closure says what is fast, and the earlier top ratings a ring's later ones
# join (the periodic scan looks at a few days at a time).
RECENT_DAYS = 90
# How far from its ratings an owner's logins tell where the owner works from.
OWNER_LOGIN_DAYS = 90


def person_keys(
    *, account_id: int | None, mobile_hash: str | None, id_number_hash: str = ""
) -> set[str]:
    """The person keys of one account: "account:<id>", the keyed hash of its mobile number's
    lookup hash and that of its ID-number lookup hash (for workers who gave one). Two rows
    that share a key share a person; no key can be turned back into a number (the numbers
    themselves are sealed and never read here)."""
    keys: set[str] = set()
    if account_id is not None:
        keys.add(f"account:{account_id}")
    if mobile_hash:
        keys.add(lookup_hash(f"mobile:{mobile_hash}", purpose=PERSON_PURPOSE))
    if id_number_hash:
        keys.add(lookup_hash(f"id:{id_number_hash}", purpose=PERSON_PURPOSE))
    return keys


def _serving_centres(region_codes: Iterable[str]) -> dict[str, int]:
    """{region code: id of the centre serving it} (its own centre, else the nearest above):
    the centre the operations indicators count a case's region for."""
    codes = set(region_codes)
    paths = dict(Region.objects.filter(code__in=codes).values_list("code", "path"))
    ancestors = {a for path in paths.values() for a in path.split("/") if a}
    own = dict(ServiceCentre.objects.filter(region_id__in=ancestors).values_list("region_id", "id"))
    out: dict[str, int] = {}
    for code, path in paths.items():
        for ancestor in reversed([a for a in path.split("/") if a]):
            if ancestor in own:
                out[code] = own[ancestor]
                break
    return out


def _context_case_ids(window_ids: set[int], start: datetime, end: datetime) -> set[int]:
    """Cases of the CONTEXT_DAYS before `start` (by closure or outcome) that share an evidence
    hash or a normalised contract number with a case of the window."""
    window = Case.objects.filter(pk__in=window_ids)
    hashes = set(window.exclude(evidence_sha256="").values_list("evidence_sha256", flat=True))
    contracts = {
        contract_key(n)
        for n in window.exclude(contract_number="").values_list("contract_number", flat=True)
    } - {""}
    if not hashes and not contracts:
        return set()
    since = start - timedelta(days=CONTEXT_DAYS)
    earlier = (
        Case.objects.filter(
            Q(closed_at__gte=since, closed_at__lt=end)
            | Q(outcome_recorded_at__gte=since, outcome_recorded_at__lt=end)
        )
        .exclude(pk__in=window_ids)
        .filter(~Q(evidence_sha256="") | ~Q(contract_number=""))
    )
    found: set[int] = set()
    for pk, sha, number in earlier.values_list("pk", "evidence_sha256", "contract_number"):
        if (sha and sha in hashes) or (number and contract_key(number) in contracts):
            found.add(pk)
    return found


def _closing_texts(case_ids: set[int]) -> dict[int, list[str]]:
    """Visit outcomes and the reason of the event that ended the case, per case."""
    texts: dict[int, list[str]] = defaultdict(list)
    for case_id, outcome in (
        CaseVisit.objects.filter(case_id__in=case_ids)
        .order_by("case_id", "visited_on", "id")
        .values_list("case_id", "outcome")
    ):
        texts[case_id].append(outcome)
    closing: dict[int, str] = {}
    for case_id, reason in (
        CaseEvent.objects.filter(case_id__in=case_ids, to_step__in=list(TERMINAL))
        .order_by("case_id", "created_at", "id")
        .values_list("case_id", "reason")
    ):
        closing[case_id] = reason  # the last one wins: a case ends once
    for case_id, reason in closing.items():
        texts[case_id].append(reason)
    return texts


def _raters(case_ids: set[int]) -> dict[int, int]:
    """{case id: the account that confirmed and rated it} (the last confirmation)."""
    out: dict[int, int] = {}
    for case_id, actor_id in (
        CaseEvent.objects.filter(
            case_id__in=case_ids, kind=CaseEvent.Kind.CONFIRMED, actor__isnull=False
        )
        .order_by("case_id", "created_at", "id")
        .values_list("case_id", "actor_id")
    ):
        out[case_id] = actor_id
    return out


def cases_load(
    start: datetime, end: datetime
) -> tuple[list[OrganisationRow], list[ExpertRow], list[CaseRow]]:
    """The organisations, experts and cases the case-side detectors read for [start, end)."""
    window_ids = set(
        Case.objects.filter(
            Q(closed_at__gte=start, closed_at__lt=end)
            | Q(confirmed_at__gte=start, confirmed_at__lt=end)
        ).values_list("pk", flat=True)
    )
    recent = start - timedelta(days=RECENT_DAYS)
    recent_ids = set(
        Case.objects.filter(
            Q(closed_at__gte=recent, closed_at__lt=start)
            | Q(confirmed_at__gte=recent, confirmed_at__lt=start)
        ).values_list("pk", flat=True)
    )
    case_ids = window_ids | recent_ids | _context_case_ids(window_ids, start, end)
    cases = list(
        Case.objects.filter(pk__in=case_ids)
        .select_related("demand")
        .order_by("pk")
        .only(
            "pk",
            "region_id",
            "centre_id",
            "owner_id",
            "opened_at",
            "closed_at",
            "outcome",
            "outcome_reason",
            "evidence_sha256",
            "contract_number",
            "rating",
            "confirmed_at",
            "demand__id",
            "demand__organisation_id",
        )
    )
    experts_of: dict[int, list[int]] = defaultdict(list)
    for case_id, user_id in (
        DockingRequest.objects.filter(case_id__in=case_ids, status=DockingRequest.Status.ACCEPTED)
        .order_by("case_id", "expert__user_id")
        .values_list("case_id", "expert__user_id")
    ):
        experts_of[case_id].append(user_id)
    texts = _closing_texts(case_ids)
    raters = _raters(case_ids)
    centres = _serving_centres(c.region_id for c in cases)

    case_rows = [
        CaseRow(
            id=c.pk,
            centre_id=centres.get(c.region_id, c.centre_id),
            demand_id=c.demand.pk,
            organisation_id=c.demand.organisation_id,
            owner_id=c.owner_id,
            expert_ids=tuple(experts_of.get(c.pk, ())),
            opened_at=c.opened_at,
            closed_at=c.closed_at,
            outcome=c.outcome,
            evidence_sha256=c.evidence_sha256,
            contract_number=c.contract_number,
            closing_text="\n".join(
                t for t in [c.outcome_reason, *texts.get(c.pk, [])] if t.strip()
            ),
            rating=c.rating,
            rated_by_id=raters.get(c.pk) if c.rating is not None else None,
            rated_at=c.confirmed_at if c.rating is not None else None,
        )
        for c in cases
    ]

    # The experts: their profile, their organisation (the one their account belongs to).
    expert_user_ids = {uid for ids in experts_of.values() for uid in ids}
    profiles = list(
        TalentProfile.objects.filter(user_id__in=expert_user_ids)
        .select_related("user")
        .order_by("user_id")
        .only("user_id", "employer", "id_number_hash", "user__mobile_hash", "user__organisation_id")
    )
    org_ids = {c.demand.organisation_id for c in cases} | {
        p.user.organisation_id for p in profiles if p.user.organisation_id is not None
    }
    organisations = {
        o.pk: o for o in Organisation.objects.filter(pk__in=org_ids).only("pk", "name", "address")
    }
    # An organisation's people: its members' keys (workers add their ID-number key).
    org_keys: dict[int, set[str]] = defaultdict(set)
    members = User.objects.filter(organisation_id__in=org_ids).values_list(
        "pk", "organisation_id", "mobile_hash", "talent_profile__id_number_hash"
    )
    for pk, org_id, mobile, id_hash in members:
        org_keys[org_id] |= person_keys(
            account_id=pk, mobile_hash=mobile, id_number_hash=id_hash or ""
        )
    organisation_rows = [
        OrganisationRow(
            id=o.pk, name=o.name, address=o.address, person_keys=frozenset(org_keys.get(o.pk, ()))
        )
        for o in sorted(organisations.values(), key=lambda o: o.pk)
    ]
    expert_rows = []
    for p in profiles:
        org = organisations.get(p.user.organisation_id) if p.user.organisation_id else None
        expert_rows.append(
            ExpertRow(
                account_id=p.user_id,
                employer=p.employer,
                organisation_id=p.user.organisation_id,
                address=org.address if org is not None else "",
                person_keys=frozenset(
                    person_keys(
                        account_id=p.user_id,
                        mobile_hash=p.user.mobile_hash,
                        id_number_hash=p.id_number_hash,
                    )
                ),
            )
        )
    return organisation_rows, expert_rows, case_rows


def cases_footprints(cases: list[CaseRow]) -> list[FootprintRow]:
    """The footprints the case-side detectors compare, for `cases` (from `cases_load`): each
    rater's rate footprints near the ratings, and where each owning staff member logged in
    from within OWNER_LOGIN_DAYS of them (one row per network and device, at the last such
    login). `snapshot_load` adds these to the snapshot's footprints."""
    rated = [c for c in cases if c.rated_by_id is not None and c.rated_at is not None]
    moments = [c.rated_at for c in cases if c.rated_by_id is not None and c.rated_at is not None]
    if not moments:
        return []
    first, last = min(moments), max(moments)
    rows = [
        FootprintRow(account_id=user_id, kind=kind, at=at, network=network, device=device)
        for user_id, kind, at, network, device in Footprint.objects.filter(
            kind=Footprint.Kind.RATE,
            user_id__in={c.rated_by_id for c in rated},
            created_at__gte=first - RATE_MATCH,
            created_at__lte=last + RATE_MATCH,
        )
        .order_by("created_at", "pk")
        .values_list("user_id", "kind", "created_at", "network", "device")
    ]
    owners = {c.owner_id for c in rated if c.owner_id is not None}
    logins = (
        Footprint.objects.filter(
            kind=Footprint.Kind.LOGIN,
            user_id__in=owners,
            created_at__gte=first - timedelta(days=OWNER_LOGIN_DAYS),
            created_at__lte=last + timedelta(days=OWNER_LOGIN_DAYS),
        )
        .values("user_id", "network", "device")
        .annotate(at=Max("created_at"))
        .order_by("user_id", "network", "device")
    )
    rows += [
        FootprintRow(
            account_id=row["user_id"],
            kind=Footprint.Kind.LOGIN,
            at=row["at"],
            network=row["network"],
            device=row["device"],
        )
        for row in logins
    ]
    return rows
