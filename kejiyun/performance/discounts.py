"""What gaming takes off a centre's figures before it is scored (扣除刷量).

A scheme discounts the integrity flags staff confirmed (and, when the scheme sets
`discount_open_above`, the open flags at or above that confidence) whose day falls in the
scheme's period. Each flagged record is loaded and its contribution to the indicators it
inflated is worked out with the same rules `kejiyun/ops/compute.py` uses to count it, for the
same centre and day, so the net figure is what the rollups would have shown without it:

- duplicate or template demand: demands_published (the demand, when published in the period);
- quota account: workers_registered, enterprises_registered or citizens_registered, by role;
- scripted reading: campaign_reach and read_to_end_share (the account's deliveries in the
  period);
- hollow closure, self-dealing, rating ring: cases_closed, closed_on_time_share,
  solved_with_evidence, contract_amount, satisfaction_mean, rated_share (the case, when it
  ended in the period).

A record flagged by several kinds is taken off once. Shares and means are recomputed from
their numerator and denominator less the flagged records' parts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q

from kejiyun.accounts.models import Organisation, Role, User
from kejiyun.cases.models import Case, Outcome, Step
from kejiyun.demands.models import Demand
from kejiyun.integrity.models import Flag, Kind, Subject
from kejiyun.ops.compute import READ_WINDOW_HOURS, CentreMap, bounds
from kejiyun.ops.periods import Period
from kejiyun.popsci.models import CitizenProfile, Delivery
from kejiyun.talent.models import TalentProfile

CASE_KINDS = (Kind.HOLLOW_CLOSURE, Kind.SELF_DEALING, Kind.RATING_RING)
CASE_INDICATORS = (
    "cases_closed",
    "closed_on_time_share",
    "solved_with_evidence",
    "contract_amount",
    "satisfaction_mean",
    "rated_share",
)
READING_INDICATORS = ("campaign_reach", "read_to_end_share")
REGISTRATION_BY_ROLE = {
    Role.WORKER: "workers_registered",
    Role.ENTERPRISE: "enterprises_registered",
    Role.CITIZEN: "citizens_registered",
}
# Which indicators each kind of flag can reduce (the published formula page lists them).
REDUCES: dict[str, tuple[str, ...]] = {
    Kind.DUPLICATE_DEMAND: ("demands_published",),
    Kind.QUOTA_ACCOUNT: tuple(REGISTRATION_BY_ROLE.values()),
    Kind.SCRIPTED_READING: READING_INDICATORS,
    Kind.HOLLOW_CLOSURE: CASE_INDICATORS,
    Kind.SELF_DEALING: CASE_INDICATORS,
    Kind.RATING_RING: CASE_INDICATORS,
}
# The word a note uses for one record of each kind.
MEASURE_WORD = {
    Kind.DUPLICATE_DEMAND: "项",
    Kind.QUOTA_ACCOUNT: "个",
    Kind.SCRIPTED_READING: "次",
    Kind.HOLLOW_CLOSURE: "件",
    Kind.SELF_DEALING: "件",
    Kind.RATING_RING: "件",
}


@dataclass
class Removal:
    """What flagged records take off one indicator of one centre: from the numerator, from
    the denominator, and how many records of each kind."""

    num: Decimal = Decimal(0)
    den: int = 0
    records: Counter[str] = field(default_factory=Counter)

    def take(self, kind: str, num: Decimal | int, den: int = 0) -> None:
        self.num += Decimal(num)
        self.den += den
        self.records[kind] += 1

    def note(self, word: str, *, ratio: bool) -> str:
        """Plain Chinese, e.g. 「扣除已确认的空壳结案 3 件、关联交易 1 件」."""
        order = list(Kind)
        kinds = sorted((Kind(k) for k in self.records), key=order.index)
        parts = [f"{kind.label} {self.records[kind]} {MEASURE_WORD[kind]}" for kind in kinds]
        text = f"扣除{word}的" + "、".join(parts)
        if ratio:
            text += f"（分子减 {_plain(self.num)}，分母减 {self.den}）"
        return text


Removals = dict[int, dict[str, Removal]]  # {scored centre id: {indicator: Removal}}
Slot = Callable[[int | None, str], "Removal | None"]


def _plain(value: Decimal) -> str:
    return str(value.quantize(Decimal(1))) if value == value.to_integral_value() else str(value)


def flags_counted(period: Period, discount_open_above: Decimal | None) -> Q:
    """The flags a scheme over `period` discounts."""
    status = Q(status=Flag.Status.CONFIRMED)
    if discount_open_above is not None:
        status |= Q(status=Flag.Status.OPEN, confidence__gte=float(discount_open_above))
    return status & Q(day__gte=period.start, day__lte=period.end)


def flag_word(discount_open_above: Decimal | None) -> str:
    if discount_open_above is None:
        return "已确认"
    return f"已确认或置信度不低于 {discount_open_above} 的待复核"


class _Scope:
    """Maps a record's region to the scored centre whose figures count it: the centre
    serving the region (compute.py's rule), then the scored centre above it or equal."""

    def __init__(self, scored: dict[str, int]) -> None:
        # {region path of a scored centre: its id}
        self.scored = scored
        self.lengths = sorted({len(p) for p in scored}, reverse=True)
        self.map = CentreMap.build()

    def of(self, region_code: str | None) -> int | None:
        centre = self.map.of(region_code)
        if centre is None:
            return None
        path = self.map.paths.get(centre, "")
        for length in self.lengths:
            found = self.scored.get(path[:length])
            if found is not None:
                return found
        return None


def removals(
    period: Period, scored: dict[str, int], discount_open_above: Decimal | None
) -> Removals:
    """What the counted flags take off each scored centre (`scored`: {region path: centre
    id}) over `period`."""
    flags = list(
        Flag.objects.filter(flags_counted(period, discount_open_above))
        .order_by("id")
        .values_list("kind", "subject_type", "subject_id")
    )
    out: Removals = {}
    if not flags:
        return out
    scope = _Scope(scored)
    lo, hi = bounds(period.start, period.end)

    def slot(centre: int | None, key: str) -> Removal | None:
        if centre is None:
            return None
        return out.setdefault(centre, {}).setdefault(key, Removal())

    order = list(Kind)

    def subjects(subject: Subject, kinds: Iterable[str]) -> dict[int, str]:
        """{record id: kind} for the records of `subject` flagged by any of `kinds`; a record
        flagged by several of them is taken off once, under the first kind in catalogue
        order."""
        wanted = set(kinds)
        found: dict[int, str] = {}
        for kind, subject_type, subject_id in flags:
            if subject_type != subject or kind not in wanted:
                continue
            if subject_id not in found or order.index(Kind(kind)) < order.index(
                Kind(found[subject_id])
            ):
                found[subject_id] = kind
        return found

    _demands(subjects(Subject.DEMAND, [Kind.DUPLICATE_DEMAND]), lo, hi, scope, slot)
    _cases(subjects(Subject.CASE, CASE_KINDS), lo, hi, scope, slot)
    _quota(subjects(Subject.ACCOUNT, [Kind.QUOTA_ACCOUNT]), lo, hi, scope, slot)
    _reading(subjects(Subject.ACCOUNT, [Kind.SCRIPTED_READING]), lo, hi, scope, slot)
    return out


def _demands(ids: dict[int, str], lo: datetime, hi: datetime, scope: _Scope, slot: Slot) -> None:
    rows = Demand.objects.filter(
        pk__in=list(ids), published_at__gte=lo, published_at__lt=hi
    ).values_list("pk", "region_id")
    for pk, region in rows:
        removal = slot(scope.of(region), "demands_published")
        if removal is not None:
            removal.take(ids[pk], 1)


def _cases(ids: dict[int, str], lo: datetime, hi: datetime, scope: _Scope, slot: Slot) -> None:
    rows = Case.objects.filter(pk__in=list(ids), closed_at__gte=lo, closed_at__lt=hi).values(
        "pk", "region_id", "step", "outcome", "evidence", "contract_amount", "rating", "escalations"
    )
    for row in rows:
        centre = scope.of(row["region_id"])
        kind = ids[row["pk"]]
        # Same rules as compute.py: every ended case counts in cases_closed and
        # closed_on_time_share; only 办结 ones in the others.
        if (r := slot(centre, "cases_closed")) is not None:
            r.take(kind, 1)
        if (r := slot(centre, "closed_on_time_share")) is not None:
            r.take(kind, 1 if row["escalations"] == 0 else 0, 1)
        if row["step"] != Step.CLOSED:
            continue
        solved = row["outcome"] == Outcome.SOLVED
        if solved and row["evidence"] and (r := slot(centre, "solved_with_evidence")):
            r.take(kind, 1)
        amount = row["contract_amount"]
        if solved and amount is not None and (r := slot(centre, "contract_amount")):
            r.take(kind, Decimal(amount) * 10000)
        if row["rating"] is not None and (r := slot(centre, "satisfaction_mean")):
            r.take(kind, row["rating"], 1)
        if (r := slot(centre, "rated_share")) is not None:
            r.take(kind, 1 if row["rating"] is not None else 0, 1)


def _quota(ids: dict[int, str], lo: datetime, hi: datetime, scope: _Scope, slot: Slot) -> None:
    roles = dict(User.objects.filter(pk__in=list(ids)).values_list("pk", "role"))
    workers = [pk for pk, role in roles.items() if role == Role.WORKER]
    citizens = [pk for pk, role in roles.items() if role == Role.CITIZEN]
    enterprise_users = [pk for pk, role in roles.items() if role == Role.ENTERPRISE]
    for user_id, region in TalentProfile.objects.filter(
        user_id__in=workers, created_at__gte=lo, created_at__lt=hi
    ).values_list("user_id", "region_id"):
        if (r := slot(scope.of(region), "workers_registered")) is not None:
            r.take(ids[user_id], 1)
    for user_id, region in CitizenProfile.objects.filter(
        user_id__in=citizens, created_at__gte=lo, created_at__lt=hi
    ).values_list("user_id", "region_id"):
        if (r := slot(scope.of(region), "citizens_registered")) is not None:
            r.take(ids[user_id], 1)
    # An enterprise is counted once, whichever of its accounts was flagged.
    org_of = dict(
        User.objects.filter(pk__in=enterprise_users, organisation__isnull=False).values_list(
            "organisation_id", "pk"
        )
    )
    for org_id, region in Organisation.objects.filter(
        pk__in=list(org_of),
        kind=Organisation.Kind.ENTERPRISE,
        created_at__gte=lo,
        created_at__lt=hi,
    ).values_list("pk", "region_id"):
        if (r := slot(scope.of(region), "enterprises_registered")) is not None:
            r.take(ids[org_of[org_id]], 1)


def _reading(ids: dict[int, str], lo: datetime, hi: datetime, scope: _Scope, slot: Slot) -> None:
    window = timedelta(hours=READ_WINDOW_HOURS)
    for user_id, region, created, read in Delivery.objects.filter(
        citizen__user_id__in=list(ids), created_at__gte=lo, created_at__lt=hi
    ).values_list(
        "citizen__user_id", "campaign__centre__region_id", "created_at", "read_to_end_at"
    ):
        centre = scope.of(region)
        if (r := slot(centre, "campaign_reach")) is not None:
            r.take(ids[user_id], 1)
        in_time = read is not None and read < created + window
        if (r := slot(centre, "read_to_end_share")) is not None:
            r.take(ids[user_id], 1 if in_time else 0, 1)
