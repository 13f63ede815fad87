"""Writes for half-year work reports (工作汇报).

- `report_create`: the staff of a city or county centre start their centre's report for the
  current or the previous half-year; the figures are read from the rollups at once.
- `report_update`: they edit the three text sections while the report is a draft or
  returned; every save reads the figures again (the filer never writes them), and
  `submit=True` hands it in within the same transaction (all three sections required).
- `report_return` / `report_accept`: the staff of the centre one level up ask for
  corrections (with a reason) or accept it. `report_comment` adds a comment while it is
  under review or returned.
- `reports_remind`: the periodic reminders, through the outbox, once per centre and stage.

Every status change goes through `report_transition`, which refuses what `REPORT_MOVES`
does not list, claims the row by its version (a report edited or moved since the page was
read is refused as stale) and writes a `ReportEvent`. An accepted report is final: every
write here refuses it and changes nothing. A refusal raises `ReportError` (NotPermitted when
the actor may not do it, StaleReport when someone got there first).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.common.errors import NotPermitted, ServiceError, Stale
from kejiyun.common.versioning import claim_version
from kejiyun.notifications.models import Channel
from kejiyun.notifications.services import OutboxDraft, outbox_enqueue_many
from kejiyun.ops.models import (
    COMMENT_MAX_LENGTH,
    SECTION_MAX_LENGTH,
    ReportComment,
    ReportEvent,
    WorkReport,
)
from kejiyun.ops.periods import Period
from kejiyun.ops.reports.selectors import (
    FILING_LEVELS,
    HANDED_IN,
    ReportRole,
    filing_centre,
    half_of,
    report_due_on,
    report_halves_open,
    report_role,
)
from kejiyun.ops.reports.transitions import FILER, REPORT_MOVES
from kejiyun.ops.selectors import figures
from kejiyun.regions.models import ServiceCentre

Status = WorkReport.Status

# The text sections the filer writes, with their names for messages.
SECTIONS: dict[str, str] = {
    "achievements": "主要工作成效",
    "difficulties": "存在的困难问题",
    "plans": "下半年工作安排",
}
REASON_MAX_LENGTH = COMMENT_MAX_LENGTH
COMMENTABLE = (Status.SUBMITTED, Status.RETURNED)
SOURCE = "ops_report"


class ReportError(ServiceError):
    """A refused work-report write; nothing was changed."""


class StaleReport(Stale, ReportError):
    """Someone changed the report since the page was read."""

    message_text = "该工作汇报已被他人修改或审阅，请刷新后再试。"


@dataclass(frozen=True)
class Sections:
    """The three text sections as the filer wrote them."""

    achievements: str = ""
    difficulties: str = ""
    plans: str = ""

    def as_fields(self) -> dict[str, str]:
        return {
            "achievements": self.achievements,
            "difficulties": self.difficulties,
            "plans": self.plans,
        }


# --- Checks -------------------------------------------------------------------------------


def _check_role(user: User, report: WorkReport, role: ReportRole) -> None:
    if report_role(user, report) != role:
        raise NotPermitted(
            "只有本中心工作人员可以填报工作汇报。"
            if role == ReportRole.FILER
            else "只有上一级服务中心的工作人员可以审阅工作汇报。"
        )


def _check_not_final(report: WorkReport) -> None:
    if report.is_final:
        raise ReportError("工作汇报已通过审阅，不能再修改。", code="final")


def _check_editable(report: WorkReport) -> None:
    _check_not_final(report)
    if not report.is_editable:
        raise ReportError("工作汇报已提交，正在审阅中，不能修改。", code="not_editable")


def report_sections_check(sections: Sections, *, submit: bool) -> None:
    """Refuse sections that are too long, or (when handing in) empty; the messages name the
    section, keyed by field."""
    errors: dict[str, str] = {}
    for name, label in SECTIONS.items():
        text = getattr(sections, name)
        if len(text) > SECTION_MAX_LENGTH:
            errors[name] = f"“{label}”不能超过{SECTION_MAX_LENGTH}个字（现有{len(text)}个字）。"
        elif submit and not text.strip():
            errors[name] = f"提交前请填写“{label}”。"
    if errors:
        raise ReportError(errors)


def _figures_snapshot(centre: ServiceCentre, year: int, half: int) -> dict[str, float | None]:
    """Every catalogue figure of the centre's region over the half-year, from the rollups."""
    found = figures(centre.region, Period.half(year, half))
    return {key: figure.value for key, figure in found.items()}


# --- Status changes -------------------------------------------------------------------------


def report_transition(
    *,
    report: WorkReport,
    to: str,
    actor: User,
    version: int | None,
    reason: str = "",
    updates: dict[str, Any] | None = None,
) -> WorkReport:
    """Move `report` to status `to` if `REPORT_MOVES` allows it for this actor, applying
    `updates` in the same conditional UPDATE on the version read (`version`, the report's own
    when None), with one `ReportEvent`, all in one transaction. A move that `needs_reason`
    needs a non-empty `reason`. A refused move changes nothing."""
    current = report.status
    reason = reason.strip()
    move = REPORT_MOVES.find(current, to)
    if move is None:
        _check_not_final(report)
        raise ReportError(
            f"不能把“{Status(current).label}”的工作汇报改为“{Status(to).label}”。"
            if to in Status.values
            else "目标状态不存在。",
            code="illegal_transition",
        )
    _check_role(actor, report, ReportRole.FILER if move.by == FILER else ReportRole.REVIEWER)
    if move.needs_reason and not reason:
        raise ReportError({"reason": "请填写退回原因。"}, code="reason_required")
    if len(reason) > REASON_MAX_LENGTH:
        raise ReportError({"reason": f"说明不能超过{REASON_MAX_LENGTH}个字。"})
    now = timezone.now()
    with transaction.atomic():
        claim_version(
            report,
            version,
            stale=StaleReport,
            only_if={"status": current},
            status=to,
            updated_at=now,
            **(updates or {}),
        )
        ReportEvent.objects.create(
            report=report,
            actor=actor,
            from_status=current,
            to_status=to,
            reason=reason,
            created_at=now,
        )
        _notify_move(report, to=to, reason=reason)
    return report


def report_create(*, actor: User, year: int, half: int, now: datetime | None = None) -> WorkReport:
    """Start the actor's centre's report for `year`/`half` (the current or the previous
    half-year only), with the figures read from the rollups. One per centre and half-year."""
    centre = filing_centre(actor)
    if centre is None:
        raise NotPermitted("只有市级和县级服务中心的工作人员可以填报工作汇报。")
    now = now or timezone.now()
    today = timezone.localdate(now)
    if half not in (1, 2) or Period.half(year, half) not in report_halves_open(today):
        raise ReportError(
            {"period": "只能填报本半年或上一个半年的工作汇报。"}, code="period_closed"
        )
    if WorkReport.objects.filter(centre=centre, year=year, half=half).exists():
        raise ReportError({"period": "本中心该半年的工作汇报已经存在。"}, code="exists")
    snapshot = _figures_snapshot(centre, year, half)
    try:
        with transaction.atomic():
            report = WorkReport.objects.create(
                centre=centre,
                year=year,
                half=half,
                status=Status.DRAFT,
                figures=snapshot,
                figures_at=now,
                author=actor,
                due_on=report_due_on(year, half),
                created_at=now,
                updated_at=now,
            )
            ReportEvent.objects.create(
                report=report, actor=actor, from_status="", to_status=Status.DRAFT, created_at=now
            )
    except IntegrityError as exc:  # a colleague started it at the same moment
        raise ReportError({"period": "本中心该半年的工作汇报已经存在。"}, code="exists") from exc
    return report


def report_update(
    *,
    report: WorkReport,
    actor: User,
    version: int | None,
    sections: Sections,
    submit: bool = False,
) -> WorkReport:
    """Save the filer's text sections and read the figures again from the rollups; with
    `submit`, hand the report in as well (all three sections required), freezing the figures
    as just read. Refused, with nothing changed, unless the report is a draft or returned,
    the actor is its centre's staff, and nobody changed it since `version`."""
    _check_role(actor, report, ReportRole.FILER)
    _check_editable(report)
    report_sections_check(sections, submit=submit)
    now = timezone.now()
    changes: dict[str, Any] = {
        **sections.as_fields(),
        "figures": _figures_snapshot(report.centre, report.year, report.half),
        "figures_at": now,
        "author": actor,
    }
    if not submit:
        with transaction.atomic():
            claim_version(
                report,
                version,
                stale=StaleReport,
                # Still open to the filer when written, not only when read.
                only_if={"status__in": (Status.DRAFT, Status.RETURNED)},
                updated_at=now,
                **changes,
            )
        return report
    return report_transition(
        report=report,
        to=Status.SUBMITTED,
        actor=actor,
        version=version,
        updates={**changes, "submitted_at": now},
    )


def report_submit(*, report: WorkReport, actor: User, version: int | None) -> WorkReport:
    """Hand in the report as it stands (its sections unchanged; the figures read once more
    and frozen)."""
    return report_update(
        report=report,
        actor=actor,
        version=version,
        sections=Sections(report.achievements, report.difficulties, report.plans),
        submit=True,
    )


def report_return(
    *, report: WorkReport, actor: User, version: int | None, reason: str
) -> WorkReport:
    """Send a submitted report back to its centre for corrections, with the reviewer's
    reason."""
    return report_transition(
        report=report,
        to=Status.RETURNED,
        actor=actor,
        version=version,
        reason=reason,
        updates={"reviewed_by": actor},
    )


def report_accept(*, report: WorkReport, actor: User, version: int | None) -> WorkReport:
    """Accept a submitted report: final from now on."""
    return report_transition(
        report=report,
        to=Status.ACCEPTED,
        actor=actor,
        version=version,
        updates={"reviewed_by": actor, "accepted_at": timezone.now()},
    )


def report_comment(*, report: WorkReport, actor: User, body: str) -> ReportComment:
    """Add a reviewer's comment to a report under review or returned. The report row is
    locked (PostgreSQL) while the comment is written, so a comment never lands on a report
    accepted meanwhile."""
    _check_role(actor, report, ReportRole.REVIEWER)
    body = body.strip()
    if not body:
        raise ReportError({"body": "请填写批注内容。"})
    if len(body) > COMMENT_MAX_LENGTH:
        raise ReportError({"body": f"批注不能超过{COMMENT_MAX_LENGTH}个字。"})
    _check_not_final(report)
    with transaction.atomic():
        open_rows = list(
            WorkReport.objects.select_for_update()
            .filter(pk=report.pk, status__in=COMMENTABLE)
            .values_list("pk", flat=True)
        )
        if not open_rows:
            current = WorkReport.objects.filter(pk=report.pk).values_list("status", flat=True)
            if list(current) == [Status.ACCEPTED]:
                raise ReportError("工作汇报已通过审阅，不能再批注。", code="final")
            raise ReportError("工作汇报尚未提交，不能批注。", code="not_submitted")
        comment = ReportComment.objects.create(report=report, author=actor, body=body)
        _notify_filer(
            report,
            title=f"{report.period.label}工作汇报有新的批注",
            body=body[:200],
            key=f"ops-report:{report.pk}:comment:{comment.pk}",
        )
    return comment


# --- Messages ---------------------------------------------------------------------------


def _report_url(report: WorkReport) -> str:
    return reverse("ops:reports:detail", args=[report.pk])


def _staff_of(centre_ids: list[int]) -> dict[int, list[User]]:
    out: dict[int, list[User]] = defaultdict(list)
    for user in User.objects.filter(
        role=Role.STAFF, centre_id__in=centre_ids, is_active=True
    ).order_by("id"):
        assert user.centre_id is not None
        out[user.centre_id].append(user)
    return out


def _parent_centre(centre: ServiceCentre) -> ServiceCentre | None:
    parent_code = centre.region.parent_id
    if parent_code is None:
        return None
    return ServiceCentre.objects.filter(region_id=parent_code).first()


def _drafts(users: list[User], *, title: str, body: str, url: str, key: str) -> list[OutboxDraft]:
    return [
        OutboxDraft(
            channel=Channel.IN_APP,
            recipient_id=user.pk,
            title=title,
            body=body,
            url=url,
            idempotency_key=f"{key}:{user.pk}",
            source=SOURCE,
        )
        for user in users
    ]


def _notify_filer(report: WorkReport, *, title: str, body: str, key: str) -> None:
    users = _staff_of([report.centre_id]).get(report.centre_id, [])
    outbox_enqueue_many(
        drafts=_drafts(users, title=title, body=body, url=_report_url(report), key=key)
    )


def _notify_move(report: WorkReport, *, to: str, reason: str) -> None:
    """Tell the other side about a move: the reviewers about a submission, the filers about
    a return or an acceptance. Keyed by the report's version, so each move tells once."""
    key = f"ops-report:{report.pk}:v{report.version}:{to}"
    label = f"{report.centre.name}{report.period.label}工作汇报"
    if to == Status.SUBMITTED:
        parent = _parent_centre(report.centre)
        if parent is None:
            return
        users = _staff_of([parent.pk]).get(parent.pk, [])
        outbox_enqueue_many(
            drafts=_drafts(
                users,
                title=f"{label}已提交，请审阅",
                body=f"{report.centre.name}提交了{report.period.label}工作汇报。",
                url=_report_url(report),
                key=key,
            )
        )
    elif to == Status.RETURNED:
        _notify_filer(report, title=f"{label}被退回修改", body=f"退回原因：{reason}", key=key)
    elif to == Status.ACCEPTED:
        _notify_filer(report, title=f"{label}已通过审阅", body="工作汇报已通过。", key=key)


# --- Reminders --------------------------------------------------------------------------

STAGE_SOON = "soon"  # 7 days before the due date (until the day before it)
STAGE_DUE = "due"  # on the due date
STAGE_OVERDUE = "overdue"  # after it
SOON_DAYS = 7


def reminder_stage(today: date, due: date) -> str | None:
    """Which reminder `today` calls for with a report due on `due` (None: none yet)."""
    days_left = (due - today).days
    if days_left < 0:
        return STAGE_OVERDUE
    if days_left == 0:
        return STAGE_DUE
    if days_left <= SOON_DAYS:
        return STAGE_SOON
    return None


STAGE_TEXT = {
    STAGE_SOON: "将于{due}截止，请尽快填报提交。",
    STAGE_DUE: "今天（{due}）截止，请于今天提交。",
    STAGE_OVERDUE: "已于{due}截止，至今未提交，请尽快提交。",
}


def reports_remind(*, now: datetime | None = None) -> int:
    """Remind the staff of every city and county centre that has not handed in (submitted or
    had accepted) its report for a half-year whose due date is near or past: once 7 days
    before, once on the day, once overdue; and tell the staff of each centre above, once per
    half-year, which of its centres are overdue. Only the current and the previous
    half-year are looked at. Each message has an idempotency key (centre or centre above,
    half-year, stage, recipient), so a second run sends nothing new. Returns how many
    messages were enqueued."""
    today = timezone.localdate(now or timezone.now())
    centres = list(
        ServiceCentre.objects.filter(region__level__in=FILING_LEVELS)
        .select_related("region")
        .order_by("region__code")
    )
    by_region = {
        c.region_id: c
        for c in ServiceCentre.objects.filter(
            region_id__in={c.region.parent_id for c in centres if c.region.parent_id}
        )
    }
    drafts: list[OutboxDraft] = []
    pending: list[tuple[ServiceCentre, Period, date, str]] = []
    for period in report_halves_open(today):
        year, half = period.start.year, half_of(period)
        due = report_due_on(year, half)
        stage = reminder_stage(today, due)
        if stage is None:
            continue
        handed_in = set(
            WorkReport.objects.filter(year=year, half=half, status__in=HANDED_IN).values_list(
                "centre_id", flat=True
            )
        )
        pending.extend((c, period, due, stage) for c in centres if c.pk not in handed_in)
    if not pending:
        return 0
    staff = _staff_of(list({c.pk for c, *_ in pending} | {p.pk for p in by_region.values()}))
    url = reverse("ops:reports:list")
    late: dict[tuple[str, str], list[ServiceCentre]] = defaultdict(list)
    late_periods: dict[str, tuple[Period, date]] = {}
    for centre, period, due, stage in pending:
        drafts += _drafts(
            staff.get(centre.pk, []),
            title=f"{period.label}工作汇报" + ("已逾期" if stage == STAGE_OVERDUE else "即将截止"),
            body=f"{centre.name}{period.label}工作汇报" + STAGE_TEXT[stage].format(due=due),
            url=url,
            key=f"ops-report-remind:{centre.pk}:{period.token}:{stage}",
        )
        if stage == STAGE_OVERDUE and centre.region.parent_id in by_region:
            late[(centre.region.parent_id or "", period.token)].append(centre)
            late_periods[period.token] = (period, due)
    # The level above hears once per half-year, in one message naming every centre late
    # when the due date passed.
    for (parent_code, token), behind in sorted(late.items()):
        parent = by_region[parent_code]
        period, due = late_periods[token]
        names = "、".join(c.name for c in behind)
        drafts += _drafts(
            staff.get(parent.pk, []),
            title=f"{period.label}工作汇报：{len(behind)}个下级中心逾期未交",
            body=f"截至今天，以下服务中心的{period.label}工作汇报已于{due}截止但未提交：{names}。",
            url=f"{url}?half={token}",
            key=f"ops-report-overdue:{parent.pk}:{token}",
        )
    return outbox_enqueue_many(drafts=drafts)
