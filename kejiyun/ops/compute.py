"""Every indicator of the catalogue computed straight from the platform's own records.

One function per catalogue key, all with one signature::

    def cases_opened(start: date, end: date, centres: CentreMap) -> DayCells

returning the figure of every Beijing day from `start` to `end` (inclusive) for every service
centre with something to count: `{day: {centre id: Cell}}`. Each is one or a few SQL aggregate
queries over an indexed date column, grouped by the record's region and the Beijing day; the
region is mapped to its serving centre in Python through `CentreMap` (built once per run). A
figure over a range is the sum of its days (`compute`), so a rollup of one day, the month rows
built from day rows and a whole year computed in one go (the benchmark's "anchor") agree by
construction.

The exact definitions (what counts, which date puts a record on a day, which centre it counts
for) are in docs/ops-indicators.md; each function's docstring repeats its own. Two rules hold
for all of them:

- The centre is the serving centre of the record's region: the centre of that region, else the
  nearest centre above it (a township's record counts for its county's centre). A record with
  no region, or in a region no centre serves, is counted nowhere.
- Records people make about themselves and their business (registrations, demands, cases,
  dockings, plans) count where they are: the region of the worker, enterprise, citizen,
  demand or case. Work a centre produces (science content, campaigns, activities) counts for
  the centre that produced it (content without a centre: the centre serving its region).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from kejiyun.accounts.models import Organisation, Role
from kejiyun.cases.models import Case, CaseEvent, DockingRequest, Outcome, Step
from kejiyun.common.workdays import (
    BEIJING,
    WorkCalendarUnknown,
    add_working_hours,
    subtract_working_hours,
    working_time_between,
)
from kejiyun.demands.models import Demand, DemandEvent
from kejiyun.events.models import Agreement, Booking, Exhibit
from kejiyun.integrity.models import Flag
from kejiyun.integrity.models import Kind as FlagKind
from kejiyun.integrity.models import Subject as FlagSubject
from kejiyun.ops.indicators import CATALOGUE
from kejiyun.plans.models import PlanAction
from kejiyun.popsci.models import (
    ActivitySignup,
    CitizenProfile,
    ContentVersion,
    Delivery,
    QuizAttempt,
    ReadEvent,
)
from kejiyun.regions.models import Region, ServiceCentre
from kejiyun.talent.models import TalentProfile, Team

logger = logging.getLogger(__name__)

# A case nobody at any centre has acted on within this many working hours of its opening
# counts as unowned (无人认领): the time the intake step is given before it escalates.
UNOWNED_HOURS: int = settings.CASE_STEP_DUE_HOURS["intake"]
# A delivery counts as read to the end when the citizen read it to the end within this many
# hours of receiving it. Rollups recompute the last days (`rollups.SETTLE_DAYS`) so that a
# late read, or a read the bot job flags late (it looks 48 hours back), still lands.
READ_WINDOW_HOURS = 48


@dataclass
class Cell:
    """One centre's figure: numerator, denominator and (for medians) the sorted samples."""

    num: Decimal = Decimal(0)
    den: int = 0
    samples: list[float] = field(default_factory=list)

    def add(self, other: Cell) -> None:
        self.num += other.num
        self.den += other.den
        if other.samples:
            self.samples.extend(other.samples)  # the caller sorts once it is done adding

    @property
    def empty(self) -> bool:
        return self.num == 0 and self.den == 0 and not self.samples


DayCells = dict[date, dict[int, Cell]]


class CentreMap:
    """{region code: id of its serving centre}, and each centre's region path, read once.

    The serving centre of a region is its own centre, else the nearest one above it."""

    def __init__(self, serving: dict[str, int], paths: dict[int, str]) -> None:
        self.serving = serving
        self.paths = paths

    @classmethod
    def build(cls) -> CentreMap:
        own = dict(ServiceCentre.objects.values_list("region_id", "id"))
        serving: dict[str, int] = {}
        for code, path in Region.objects.values_list("code", "path"):
            for ancestor in reversed([c for c in path.split("/") if c]):
                if ancestor in own:
                    serving[code] = own[ancestor]
                    break
        paths = dict(ServiceCentre.objects.values_list("id", "region__path"))
        return cls(serving, paths)

    def of(self, region_code: str | None) -> int | None:
        return self.serving.get(region_code) if region_code else None


# --- Helpers --------------------------------------------------------------------------------


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start of `start`, start of the day after `end`), Beijing time."""
    return (
        datetime.combine(start, time(0), tzinfo=BEIJING),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=BEIJING),
    )


def beijing_day(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def _cell(out: DayCells, day: date, centre: int | None) -> Cell | None:
    if centre is None:
        return None
    return out.setdefault(day, {}).setdefault(centre, Cell())


def _rows(
    qs: QuerySet[Any],
    *,
    moment: str,
    region: str | Any,
    start: date,
    end: date,
    **aggregates: Any,
) -> Iterator[dict[str, Any]]:
    """`qs` within the days, grouped by Beijing day (`day`) and region (`region`), with the
    aggregates; `region` is a field path or an expression."""
    lo, hi = bounds(start, end)
    region_expr = F(region) if isinstance(region, str) else region
    yield from (
        qs.filter(**{f"{moment}__gte": lo, f"{moment}__lt": hi})
        .annotate(ops_day=TruncDate(moment, tzinfo=BEIJING), ops_region=region_expr)
        .values("ops_day", "ops_region")
        .annotate(**aggregates)
        .order_by()
    )


def _counted(
    qs: QuerySet[Any],
    centres: CentreMap,
    *,
    moment: str,
    region: str | Any,
    start: date,
    end: date,
    distinct: str | None = None,
) -> DayCells:
    """The number of rows (or of distinct `distinct` values) per day and centre."""
    out: DayCells = {}
    counter = Count(distinct, distinct=True) if distinct else Count("pk")
    for row in _rows(qs, moment=moment, region=region, start=start, end=end, n=counter):
        cell = _cell(out, row["ops_day"], centres.of(row["ops_region"]))
        if cell is not None:
            cell.num += Decimal(row["n"])
    return out


def _merge(*parts: DayCells) -> DayCells:
    out: DayCells = {}
    for part in parts:
        for day, cells in part.items():
            for centre, cell in cells.items():
                mine = _cell(out, day, centre)
                assert mine is not None
                mine.add(cell)
    return out


# Content, reads and quizzes count for the centre that published the content, else the centre
# serving the content's region ("全省通用" content without either counts nowhere).
def _content_region(prefix: str) -> Any:
    return Coalesce(F(f"{prefix}centre__region_id"), F(f"{prefix}region_id"))


# --- Registration ---------------------------------------------------------------------------


def workers_registered(start: date, end: date, centres: CentreMap) -> DayCells:
    """S&T worker profiles by `TalentProfile.created_at`, in the worker's region."""
    return _counted(
        TalentProfile.objects.all(),
        centres,
        moment="created_at",
        region="region_id",
        start=start,
        end=end,
    )


def workers_verified(start: date, end: date, centres: CentreMap) -> DayCells:
    """Worker profiles verified, by `verified_at` (a verification withdrawn later clears it
    and leaves the day), in the worker's region."""
    return _counted(
        TalentProfile.objects.filter(verified=True),
        centres,
        moment="verified_at",
        region="region_id",
        start=start,
        end=end,
    )


def enterprises_registered(start: date, end: date, centres: CentreMap) -> DayCells:
    """Organisations of kind enterprise by `created_at`, in the enterprise's region."""
    return _counted(
        Organisation.objects.filter(kind=Organisation.Kind.ENTERPRISE),
        centres,
        moment="created_at",
        region="region_id",
        start=start,
        end=end,
    )


def citizens_registered(start: date, end: date, centres: CentreMap) -> DayCells:
    """Citizen profiles by `CitizenProfile.created_at`, in the citizen's region."""
    return _counted(
        CitizenProfile.objects.all(),
        centres,
        moment="created_at",
        region="region_id",
        start=start,
        end=end,
    )


def teams_created(start: date, end: date, centres: CentreMap) -> DayCells:
    """Teams and studios by `Team.created_at`, in the team's region."""
    return _counted(
        Team.objects.all(), centres, moment="created_at", region="region_id", start=start, end=end
    )


# --- Demands --------------------------------------------------------------------------------


def demands_published(start: date, end: date, centres: CentreMap) -> DayCells:
    """Demands published (accepted by staff), by `Demand.published_at`, in the demand's
    region."""
    return _counted(
        Demand.objects.filter(published_at__isnull=False),
        centres,
        moment="published_at",
        region="region_id",
        start=start,
        end=end,
    )


def demands_returned(start: date, end: date, centres: CentreMap) -> DayCells:
    """Returns of demands for changes (automatic and by staff): every `DemandEvent` to
    "returned", by its time, in the demand's region. A demand returned twice counts twice."""
    return _counted(
        DemandEvent.objects.filter(to_status=Demand.Status.RETURNED),
        centres,
        moment="created_at",
        region="demand__region_id",
        start=start,
        end=end,
    )


def _flags(start: date, end: date) -> QuerySet[Flag]:
    """Integrity flags not cleared (open or confirmed) whose day lies in `start`..`end`."""
    return Flag.objects.filter(day__gte=start, day__lte=end, centre__isnull=False).exclude(
        status=Flag.Status.CLEARED
    )


def _flag_counts(qs: QuerySet[Flag], distinct: str | None = None) -> DayCells:
    """Rows of `qs` (or distinct `distinct` values) per flag day and flag centre."""
    counter = Count(distinct, distinct=True) if distinct else Count("pk")
    out: DayCells = {}
    for day, centre, n in qs.values_list("day", "centre_id").annotate(n=counter).order_by():
        cell = _cell(out, day, centre)
        if cell is not None:
            cell.num += Decimal(n)
    return out


def demands_flagged(start: date, end: date, centres: CentreMap) -> DayCells:
    """Template and repeated demands (模板或重复需求): distinct demands with an integrity flag
    of kind DUPLICATE_DEMAND that staff have not cleared (open or confirmed), on the flag's
    day (the demand's submission) for the flag's centre (the demand's region)."""
    return _flag_counts(
        _flags(start, end).filter(kind=FlagKind.DUPLICATE_DEMAND), distinct="subject_id"
    )


# --- Cases ----------------------------------------------------------------------------------


def cases_opened(start: date, end: date, centres: CentreMap) -> DayCells:
    """Cases by `Case.opened_at`, in the case's region (the enterprise's county)."""
    return _counted(
        Case.objects.all(), centres, moment="opened_at", region="region_id", start=start, end=end
    )


def _staff_acts() -> Q:
    """Case events by a staff member other than the opening itself (the opening's actor is
    whoever accepted the demand)."""
    return Q(actor__role=Role.STAFF) & ~Q(kind=CaseEvent.Kind.OPENED)


def first_response_hours(start: date, end: date, centres: CentreMap) -> DayCells:
    """Working hours (09:00-17:00 on working days) from a case's opening to the first thing a
    staff member did on it (any case event by staff but the opening: a step change, an
    assignment, a note, a visit, a docking...), on the day of that first action, in the case's
    region. A median; cases nobody has acted on yet have no sample (see unowned_cases)."""
    lo, hi = bounds(start, end)
    earlier = CaseEvent.objects.filter(_staff_acts(), case=OuterRef("case_id"), created_at__lt=lo)
    rows = (
        CaseEvent.objects.filter(_staff_acts(), created_at__gte=lo, created_at__lt=hi)
        .filter(~Exists(earlier))
        .values("case_id", "case__opened_at", "case__region_id")
        .annotate(first=Min("created_at"))
        .order_by()
    )
    out: DayCells = {}
    for row in rows:
        cell = _cell(out, beijing_day(row["first"]), centres.of(row["case__region_id"]))
        if cell is not None:
            try:
                spent = working_time_between(row["case__opened_at"], row["first"])
            except WorkCalendarUnknown:
                logger.warning("case %s: no working calendar for its dates", row["case_id"])
                continue
            cell.samples.append(round(spent.total_seconds() / 3600, 2))
    for cells in out.values():
        for cell in cells.values():
            cell.samples.sort()
    return out


def cases_closed(start: date, end: date, centres: CentreMap) -> DayCells:
    """Cases that ended (办结, withdrawn or unsolvable), by `Case.closed_at`, in the case's
    region."""
    return _counted(
        Case.objects.filter(closed_at__isnull=False),
        centres,
        moment="closed_at",
        region="region_id",
        start=start,
        end=end,
    )


def closed_on_time_share(start: date, end: date, centres: CentreMap) -> DayCells:
    """Of the cases that ended that day (`closed_at`), the share never escalated
    (`Case.escalations` = 0): num = ended and never escalated, den = ended."""
    out: DayCells = {}
    for row in _rows(
        Case.objects.filter(closed_at__isnull=False),
        moment="closed_at",
        region="region_id",
        start=start,
        end=end,
        n=Count("pk", filter=Q(escalations=0)),
        d=Count("pk"),
    ):
        cell = _cell(out, row["ops_day"], centres.of(row["ops_region"]))
        if cell is not None:
            cell.num += Decimal(row["n"])
            cell.den += row["d"]
    return out


def _closed_solved() -> QuerySet[Case]:
    return Case.objects.filter(step=Step.CLOSED, outcome=Outcome.SOLVED)


def solved_with_evidence(start: date, end: date, centres: CentreMap) -> DayCells:
    """Cases closed (办结) as solved with evidence on file, by `closed_at`, in the case's
    region."""
    return _counted(
        _closed_solved().exclude(evidence=""),
        centres,
        moment="closed_at",
        region="region_id",
        start=start,
        end=end,
    )


def contract_amount(start: date, end: date, centres: CentreMap) -> DayCells:
    """The contract amounts of cases closed as solved, in yuan (the case stores 万元), by
    `closed_at`, in the case's region."""
    out: DayCells = {}
    for row in _rows(
        _closed_solved().filter(contract_amount__isnull=False),
        moment="closed_at",
        region="region_id",
        start=start,
        end=end,
        n=Sum("contract_amount"),
    ):
        cell = _cell(out, row["ops_day"], centres.of(row["ops_region"]))
        if cell is not None:
            cell.num += Decimal(row["n"]) * 10000
    return out


def satisfaction_mean(start: date, end: date, centres: CentreMap) -> DayCells:
    """The enterprises' mean rating (1-5) of cases closed that day: num = sum of ratings,
    den = cases rated, by `closed_at` (the enterprise rates as it confirms, which closes the
    case), in the case's region."""
    out: DayCells = {}
    for row in _rows(
        Case.objects.filter(step=Step.CLOSED, rating__isnull=False),
        moment="closed_at",
        region="region_id",
        start=start,
        end=end,
        n=Sum("rating"),
        d=Count("pk"),
    ):
        cell = _cell(out, row["ops_day"], centres.of(row["ops_region"]))
        if cell is not None:
            cell.num += Decimal(row["n"])
            cell.den += row["d"]
    return out


def rated_share(start: date, end: date, centres: CentreMap) -> DayCells:
    """Of the cases closed (办结) that day, the share the enterprise rated."""
    out: DayCells = {}
    for row in _rows(
        Case.objects.filter(step=Step.CLOSED),
        moment="closed_at",
        region="region_id",
        start=start,
        end=end,
        n=Count("pk", filter=Q(rating__isnull=False)),
        d=Count("pk"),
    ):
        cell = _cell(out, row["ops_day"], centres.of(row["ops_region"]))
        if cell is not None:
            cell.num += Decimal(row["n"])
            cell.den += row["d"]
    return out


def escalations(start: date, end: date, centres: CentreMap) -> DayCells:
    """Escalations for lateness: `CaseEvent` of kind escalated, by its time, in the case's
    region (a case escalated twice counts twice)."""
    return _counted(
        CaseEvent.objects.filter(kind=CaseEvent.Kind.ESCALATED),
        centres,
        moment="created_at",
        region="case__region_id",
        start=start,
        end=end,
    )


def unowned_cases(start: date, end: date, centres: CentreMap) -> DayCells:
    """Cases nobody at any centre acted on (no case event by staff but the opening) within
    UNOWNED_HOURS working hours of opening; each counts once, on the day those hours ran out,
    once they have run out, in the case's region."""
    lo, hi = bounds(start, end)
    now = timezone.now()
    # A case whose time runs out at or after `lo` was opened no earlier than this.
    try:
        earliest = subtract_working_hours(lo, UNOWNED_HOURS)
    except WorkCalendarUnknown:
        earliest = lo - timedelta(days=30)  # far more than 16 working hours on any calendar
    rows = (
        Case.objects.filter(opened_at__gte=earliest, opened_at__lt=hi)
        .annotate(
            acted=Min(
                "events__created_at",
                filter=Q(events__actor__role=Role.STAFF) & ~Q(events__kind=CaseEvent.Kind.OPENED),
            )
        )
        .values_list("pk", "opened_at", "acted", "region_id")
        .order_by()
    )
    out: DayCells = {}
    for case_id, opened_at, acted, region_id in rows:
        try:
            deadline = add_working_hours(opened_at, UNOWNED_HOURS)
        except WorkCalendarUnknown:
            logger.warning("case %s: no working calendar for its dates", case_id)
            continue
        if not lo <= deadline < hi or deadline > now:
            continue
        if acted is not None and acted < deadline:
            continue
        cell = _cell(out, beijing_day(deadline), centres.of(region_id))
        if cell is not None:
            cell.num += 1
    return out


def dockings_sent(start: date, end: date, centres: CentreMap) -> DayCells:
    """Docking requests sent to experts: those staff sent (`created_at`) and enterprises'
    proposals staff sent on (`decided_at`), in the case's region. A worker's own application
    is not a request sent."""
    staff = _counted(
        DockingRequest.objects.filter(origin=DockingRequest.Origin.STAFF),
        centres,
        moment="created_at",
        region="case__region_id",
        start=start,
        end=end,
    )
    proposed = _counted(
        DockingRequest.objects.filter(
            origin=DockingRequest.Origin.ENTERPRISE, decided_at__isnull=False
        ).exclude(status__in=[DockingRequest.Status.REQUESTED, DockingRequest.Status.REFUSED]),
        centres,
        moment="decided_at",
        region="case__region_id",
        start=start,
        end=end,
    )
    return _merge(staff, proposed)


def dockings_accepted(start: date, end: date, centres: CentreMap) -> DayCells:
    """Dockings accepted (an expert's acceptance, or staff approving a worker's application),
    by `responded_at`, in the case's region."""
    return _counted(
        DockingRequest.objects.filter(status=DockingRequest.Status.ACCEPTED),
        centres,
        moment="responded_at",
        region="case__region_id",
        start=start,
        end=end,
    )


def dockings_declined(start: date, end: date, centres: CentreMap) -> DayCells:
    """Docking requests an expert declined (each with its reason, `decline_reason`), by
    `responded_at`, in the case's region."""
    return _counted(
        DockingRequest.objects.filter(status=DockingRequest.Status.DECLINED),
        centres,
        moment="responded_at",
        region="case__region_id",
        start=start,
        end=end,
    )


# --- Plans ----------------------------------------------------------------------------------


def plans_with_actions_done(start: date, end: date, centres: CentreMap) -> DayCells:
    """Service plans with at least one action done that day (distinct plans per day, by
    `PlanAction.done_at`), in the worker's region."""
    return _counted(
        PlanAction.objects.filter(done_at__isnull=False),
        centres,
        moment="done_at",
        region="plan__profile__region_id",
        start=start,
        end=end,
        distinct="plan_id",
    )


# --- Popular science ------------------------------------------------------------------------


def popsci_published(start: date, end: date, centres: CentreMap) -> DayCells:
    """Science content published for the first time (its first `ContentVersion`), by that
    version's `published_at`, for the content's centre."""
    return _counted(
        ContentVersion.objects.filter(number=1),
        centres,
        moment="published_at",
        region=_content_region("article__"),
        start=start,
        end=end,
    )


def campaign_reach(start: date, end: date, centres: CentreMap) -> DayCells:
    """Campaign deliveries (one per citizen reached), by `Delivery.created_at`, for the
    centre that ran the campaign."""
    return _counted(
        Delivery.objects.all(),
        centres,
        moment="created_at",
        region="campaign__centre__region_id",
        start=start,
        end=end,
    )


def read_to_end_share(start: date, end: date, centres: CentreMap) -> DayCells:
    """Of the deliveries made that day, the share read to the end within READ_WINDOW_HOURS:
    num = read to the end in time, den = delivered; for the campaign's centre."""
    window = timedelta(hours=READ_WINDOW_HOURS)
    out: DayCells = {}
    for row in _rows(
        Delivery.objects.all(),
        moment="created_at",
        region="campaign__centre__region_id",
        start=start,
        end=end,
        n=Count(
            "pk",
            filter=Q(read_to_end_at__isnull=False, read_to_end_at__lt=F("created_at") + window),
        ),
        d=Count("pk"),
    ):
        cell = _cell(out, row["ops_day"], centres.of(row["ops_region"]))
        if cell is not None:
            cell.num += Decimal(row["n"])
            cell.den += row["d"]
    return out


def _quiz(phase: str, start: date, end: date, centres: CentreMap) -> DayCells:
    out: DayCells = {}
    for row in _rows(
        QuizAttempt.objects.filter(phase=phase, total__gt=0),
        moment="created_at",
        region=_content_region("article__"),
        start=start,
        end=end,
        n=Sum("correct"),
        d=Sum("total"),
    ):
        cell = _cell(out, row["ops_day"], centres.of(row["ops_region"]))
        if cell is not None:
            cell.num += Decimal(row["n"])
            cell.den += row["d"]
    return out


def quiz_accuracy_before(start: date, end: date, centres: CentreMap) -> DayCells:
    """Answers right before studying: num = questions answered right, den = questions
    answered, over quiz attempts of phase "before" by `created_at`, for the content's centre."""
    return _quiz(QuizAttempt.Phase.BEFORE, start, end, centres)


def quiz_accuracy_after(start: date, end: date, centres: CentreMap) -> DayCells:
    """As quiz_accuracy_before, for attempts after studying."""
    return _quiz(QuizAttempt.Phase.AFTER, start, end, centres)


def activity_attendance(start: date, end: date, centres: CentreMap) -> DayCells:
    """Sign-ups checked in at an activity, by `checked_in_at`, for the activity's host
    centre."""
    return _counted(
        ActivitySignup.objects.filter(checked_in_at__isnull=False),
        centres,
        moment="checked_in_at",
        region="activity__centre__region_id",
        start=start,
        end=end,
    )


# --- Suspected gaming -----------------------------------------------------------------------


def bot_reads(start: date, end: date, centres: CentreMap) -> DayCells:
    """Reads flagged as bot-like (`ReadEvent.flagged`, set by the popsci bot rule), by
    `opened_at`, for the content's centre."""
    return _counted(
        ReadEvent.objects.filter(flagged=True),
        centres,
        moment="opened_at",
        region=_content_region("article__"),
        start=start,
        end=end,
    )


def suspect_accounts(start: date, end: date, centres: CentreMap) -> DayCells:
    """Accounts that look like gaming a centre's figures: distinct accounts with an integrity
    flag on the account (scripted reading, quota account, ...) that staff have not cleared,
    on the flag's day for the flag's centre. Each account counts once per centre and day. A
    signal for staff to look at, not a verdict."""
    return _flag_counts(
        _flags(start, end).filter(subject_type=FlagSubject.ACCOUNT), distinct="subject_id"
    )


def gaming_confirmed(start: date, end: date, centres: CentreMap) -> DayCells:
    """Records staff of a higher centre confirmed as gaming (确认的刷量记录): integrity flags
    of every kind with status confirmed, on the flag's day for the flag's centre."""
    return _flag_counts(
        Flag.objects.filter(
            status=Flag.Status.CONFIRMED, day__gte=start, day__lte=end, centre__isnull=False
        )
    )


# --- Docking events ---------------------------------------------------------------------------
# An event's figures count for its organiser (the centre of the event's region): the province
# centre for the 服务大会, a city's centre for its 科创会.


def event_exhibits(start: date, end: date, centres: CentreMap) -> DayCells:
    """Exhibits accepted for an event, by `Exhibit.decided_at`, for the centre that nominated
    them (the exhibit's region: a county's demands and results shown at the province's 服务大会
    count for the county)."""
    return _counted(
        Exhibit.objects.filter(status=Exhibit.Status.ACCEPTED, decided_at__isnull=False),
        centres,
        moment="decided_at",
        region="region_id",
        start=start,
        end=end,
    )


def event_meetings(start: date, end: date, centres: CentreMap) -> DayCells:
    """On-site docking meetings held: bookings checked in at an event, by
    `Booking.checked_in_at`, for the organiser's centre."""
    return _counted(
        Booking.objects.filter(checked_in_at__isnull=False),
        centres,
        moment="checked_in_at",
        region="event__region_id",
        start=start,
        end=end,
    )


def event_agreements(start: date, end: date, centres: CentreMap) -> DayCells:
    """Agreements signed on site at an event, by `Agreement.signed_at`, for the organiser's
    centre."""
    return _counted(
        Agreement.objects.all(),
        centres,
        moment="signed_at",
        region="event__region_id",
        start=start,
        end=end,
    )


def event_amount(start: date, end: date, centres: CentreMap) -> DayCells:
    """The amounts of the agreements signed on site, in yuan (the agreement stores 万元), by
    `Agreement.signed_at`, for the organiser's centre."""
    out: DayCells = {}
    for row in _rows(
        Agreement.objects.all(),
        moment="signed_at",
        region="event__region_id",
        start=start,
        end=end,
        n=Sum("amount"),
    ):
        cell = _cell(out, row["ops_day"], centres.of(row["ops_region"]))
        if cell is not None:
            cell.num += Decimal(row["n"]) * 10000
    return out


# --- The registry ---------------------------------------------------------------------------

ComputeFn = Callable[[date, date, CentreMap], DayCells]

REGISTRY: dict[str, ComputeFn] = {
    fn.__name__: fn
    for fn in (
        workers_registered,
        workers_verified,
        enterprises_registered,
        citizens_registered,
        teams_created,
        demands_published,
        demands_returned,
        cases_opened,
        first_response_hours,
        cases_closed,
        closed_on_time_share,
        solved_with_evidence,
        contract_amount,
        satisfaction_mean,
        rated_share,
        escalations,
        unowned_cases,
        dockings_sent,
        dockings_accepted,
        dockings_declined,
        plans_with_actions_done,
        popsci_published,
        campaign_reach,
        read_to_end_share,
        quiz_accuracy_before,
        quiz_accuracy_after,
        activity_attendance,
        event_exhibits,
        event_meetings,
        event_agreements,
        event_amount,
        demands_flagged,
        bot_reads,
        suspect_accounts,
        gaming_confirmed,
    )
}

# The dated columns the indicators read: the earliest of them is where a fresh database's
# rollups begin.
DATED_SOURCES: tuple[tuple[type[Any], str], ...] = (
    (TalentProfile, "created_at"),
    (Organisation, "created_at"),
    (CitizenProfile, "created_at"),
    (Team, "created_at"),
    (DemandEvent, "created_at"),
    (Case, "opened_at"),
    (DockingRequest, "created_at"),
    (PlanAction, "done_at"),
    (ContentVersion, "published_at"),
    (Delivery, "created_at"),
    (ReadEvent, "opened_at"),
    (QuizAttempt, "created_at"),
    (ActivitySignup, "checked_in_at"),
    (Booking, "checked_in_at"),
    (Agreement, "signed_at"),
)


def earliest_day() -> date | None:
    """The Beijing day of the earliest dated record any indicator reads, or None."""
    found = [
        moment
        for model, column in DATED_SOURCES
        if (moment := model.objects.aggregate(m=Min(column))["m"]) is not None
    ]
    return beijing_day(min(found)) if found else None


def compute_days(
    start: date,
    end: date,
    *,
    keys: Iterable[str] | None = None,
    centres: CentreMap | None = None,
) -> dict[str, DayCells]:
    """{indicator: {day: {centre id: Cell}}} for every indicator (or those named), computed
    from raw records."""
    centres = centres or CentreMap.build()
    names = list(keys) if keys is not None else [i.key for i in CATALOGUE]
    return {key: REGISTRY[key](start, end, centres) for key in names}


def compute(
    key: str, start: date, end: date, *, centres: CentreMap | None = None
) -> dict[int, Cell]:
    """One indicator over the days `start`..`end` (inclusive) per centre, straight from raw
    records: the sum of its days (medians: all their samples)."""
    centres = centres or CentreMap.build()
    out: dict[int, Cell] = {}
    for cells in REGISTRY[key](start, end, centres).values():
        for centre, cell in cells.items():
            out.setdefault(centre, Cell()).add(cell)
    for cell in out.values():
        cell.samples.sort()
    return {centre: cell for centre, cell in out.items() if not cell.empty}
