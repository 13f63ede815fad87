"""The detectors' snapshot read from the database (`snapshot_load`).

For a window [start, end) it loads, as plain rows (`kejiyun/integrity/rows.py`):

- the accounts (S&T workers, enterprise users, citizens) registered in the window, with their
  profile as one text, their person keys, their real activity since registration, and every
  footprint they left (registration, logins, ratings);
- the demands submitted in the window and, as context, in the DEMAND_CONTEXT_DAYS before it
  (templates are reused across time);
- the reads of popsci articles opened in the window;
- the organisations behind those demands and accounts, with their people's keys;
- the case side (`sources_cases.cases_load`): cases, enterprises and experts, and the
  footprints the case-side detectors compare (`sources_cases.cases_footprints`).

Every record is put on the centre the operations indicators count it for: the serving centre
of its region (its own centre, else the nearest one above; `kejiyun/ops/compute.py`
`CentreMap` maps the same way). People appear only as person keys.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from django.db.models import Count, F
from django.db.models.functions import Coalesce, Length

from kejiyun.accounts.models import Footprint, Organisation, Role, User
from kejiyun.cases.models import DockingRequest
from kejiyun.common.workdays import BEIJING
from kejiyun.demands.models import Demand
from kejiyun.integrity.rows import (
    AccountRow,
    DemandRow,
    FootprintRow,
    OrganisationRow,
    ReadRow,
    Snapshot,
)
from kejiyun.integrity.sources_cases import cases_footprints, cases_load, person_keys
from kejiyun.plans.models import PlanAction
from kejiyun.popsci.models import CitizenProfile, ReadEvent
from kejiyun.regions.models import Region, ServiceCentre
from kejiyun.talent.models import TalentProfile

DEMAND_CONTEXT_DAYS = 365
ACCOUNT_ROLES = (Role.WORKER, Role.ENTERPRISE, Role.CITIZEN)


class Serving:
    """{region code: id of the centre serving it}, read once per snapshot."""

    def __init__(self) -> None:
        own = dict(ServiceCentre.objects.values_list("region_id", "id"))
        self.serving: dict[str, int] = {}
        for code, path in Region.objects.values_list("code", "path"):
            for ancestor in reversed([c for c in path.split("/") if c]):
                if ancestor in own:
                    self.serving[code] = own[ancestor]
                    break

    def of(self, code: str | None) -> int | None:
        return self.serving.get(code) if code else None


def organisation_rows(org_ids: set[int]) -> list[OrganisationRow]:
    """The organisations named, each with its members' person keys (and "account:<id>")."""
    keys: dict[int, set[str]] = defaultdict(set)
    for pk, org_id, mobile, id_hash in User.objects.filter(organisation_id__in=org_ids).values_list(
        "pk", "organisation_id", "mobile_hash", "talent_profile__id_number_hash"
    ):
        keys[org_id] |= person_keys(account_id=pk, mobile_hash=mobile, id_number_hash=id_hash or "")
    return [
        OrganisationRow(id=pk, name=name, address=address, person_keys=frozenset(keys[pk]))
        for pk, name, address in Organisation.objects.filter(pk__in=org_ids)
        .order_by("pk")
        .values_list("pk", "name", "address")
    ]


def _citizen_text(occupation: str, age_band: str, interests: list[str], crops: str) -> str:
    return " ".join([occupation, age_band, *[str(i) for i in interests or []], crops])


def _accounts(
    start: datetime, end: datetime, serving: Serving
) -> tuple[list[AccountRow], list[FootprintRow], set[int]]:
    users = list(
        User.objects.filter(date_joined__gte=start, date_joined__lt=end, role__in=ACCOUNT_ROLES)
        .order_by("pk")
        .values_list(
            "pk",
            "role",
            "date_joined",
            "mobile_hash",
            "region_id",
            "organisation_id",
            "organisation__region_id",
            "organisation__description",
        )
    )
    ids = [u[0] for u in users]
    talent = {
        row[0]: row[1:]
        for row in TalentProfile.objects.filter(user_id__in=ids).values_list(
            "user_id",
            "region_id",
            "employer",
            "title",
            "fields",
            "keywords",
            "capability",
            "id_number_hash",
        )
    }
    citizens = {
        row[0]: row[1:]
        for row in CitizenProfile.objects.filter(user_id__in=ids).values_list(
            "user_id", "region_id", "occupation", "age_band", "interests", "crops"
        )
    }
    activity: Counter[int] = Counter()
    for qs, column in (
        (Demand.objects.filter(created_by_id__in=ids, submitted_at__isnull=False), "created_by_id"),
        (ReadEvent.objects.filter(user_id__in=ids, finished_at__isnull=False), "user_id"),
        (
            DockingRequest.objects.filter(expert__user_id__in=ids, responded_at__isnull=False),
            "expert__user_id",
        ),
        (PlanAction.objects.filter(done_by_id__in=ids, done_at__isnull=False), "done_by_id"),
    ):
        for account, n in qs.values_list(column).annotate(n=Count("pk")).order_by():
            activity[account] += n
    joined = {u[0]: u[2] for u in users}
    footprints = [
        FootprintRow(account_id=user_id, kind=kind, at=at, network=network, device=device)
        for user_id, kind, at, network, device in Footprint.objects.filter(user_id__in=ids)
        .order_by("created_at", "pk")
        .values_list("user_id", "kind", "created_at", "network", "device")
    ]
    later_login_days: dict[int, set[object]] = defaultdict(set)
    for f in footprints:
        day = f.at.astimezone(BEIJING).date()
        if f.kind == Footprint.Kind.LOGIN and day > joined[f.account_id].astimezone(BEIJING).date():
            later_login_days[f.account_id].add(day)
    for account, days in later_login_days.items():
        activity[account] += len(days)

    rows = []
    org_ids: set[int] = set()
    for pk, role, date_joined, mobile, region, org_id, org_region, org_text in users:
        id_hash = ""
        if role == Role.WORKER and pk in talent:
            t_region, employer, title, fields, keywords, capability, id_hash = talent[pk]
            region = t_region or region
            text = " ".join([employer, title, fields, keywords, capability])
        elif role == Role.CITIZEN and pk in citizens:
            c_region, occupation, age_band, interests, crops = citizens[pk]
            region = c_region or region
            text = _citizen_text(occupation, age_band, interests, crops)
        elif role == Role.ENTERPRISE:
            region = org_region or region
            text = org_text or ""
        else:
            text = ""
        if org_id is not None:
            org_ids.add(org_id)
        rows.append(
            AccountRow(
                id=pk,
                role=role,
                centre_id=serving.of(region),
                created_at=date_joined,
                profile_text=text.strip(),
                organisation_id=org_id,
                person_keys=frozenset(
                    person_keys(account_id=None, mobile_hash=mobile, id_number_hash=id_hash or "")
                ),
                activity=activity[pk],
            )
        )
    return rows, footprints, org_ids


def _demands(start: datetime, end: datetime, serving: Serving) -> list[DemandRow]:
    return [
        DemandRow(
            id=pk,
            organisation_id=org,
            created_by_id=by,
            centre_id=serving.of(region),
            submitted_at=at or start,  # never None: the query keeps submitted demands only
            title=title,
            description=description,
            problem=problem,
            current_state=state,
            target_indicators=targets,
        )
        for pk, org, by, region, at, title, description, problem, state, targets in (
            Demand.objects.filter(
                submitted_at__isnull=False,
                submitted_at__gte=start - timedelta(days=DEMAND_CONTEXT_DAYS),
                submitted_at__lt=end,
            )
            .order_by("submitted_at", "pk")
            .values_list(
                "pk",
                "organisation_id",
                "created_by_id",
                "region_id",
                "submitted_at",
                "title",
                "description",
                "problem",
                "current_state",
                "target_indicators",
            )
        )
    ]


def _reads(start: datetime, end: datetime, serving: Serving) -> list[ReadRow]:
    return [
        ReadRow(
            id=pk,
            account_id=user_id,
            article_id=article_id,
            centre_id=serving.of(region),
            device=device,
            opened_at=opened,
            finished_at=finished,
            body_chars=chars or 0,
        )
        for pk, user_id, article_id, region, device, opened, finished, chars in (
            ReadEvent.objects.filter(opened_at__gte=start, opened_at__lt=end)
            .annotate(
                body_chars=Length("article__body"),
                content_region=Coalesce(F("article__centre__region_id"), F("article__region_id")),
            )
            .order_by("opened_at", "pk")
            .values_list(
                "pk",
                "user_id",
                "article_id",
                "content_region",
                "device",
                "opened_at",
                "finished_at",
                "body_chars",
            )
        )
    ]


def snapshot_load(start: datetime, end: datetime) -> Snapshot:
    """Everything the detectors read for the window [start, end) (see the module docstring)."""
    serving = Serving()
    accounts, footprints, account_orgs = _accounts(start, end, serving)
    demands = _demands(start, end, serving)
    case_orgs, experts, cases = cases_load(start, end)
    known = {o.id for o in case_orgs}
    wanted = ({d.organisation_id for d in demands} | account_orgs) - known
    organisations: list[OrganisationRow] = sorted(
        [*case_orgs, *organisation_rows(wanted)], key=lambda o: o.id
    )
    seen = set(footprints)
    footprints += [f for f in cases_footprints(cases) if f not in seen]
    return Snapshot(
        start=start,
        end=end,
        accounts=accounts,
        footprints=footprints,
        organisations=organisations,
        experts=experts,
        demands=demands,
        reads=_reads(start, end, serving),
        cases=cases,
    )
