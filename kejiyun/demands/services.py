"""Writes for demands: the enterprise edits and submits, the automatic checks, staff review.

Status moves are declared once, in `DEMAND_MOVES`; `demand_transition` is the only function that
changes `Demand.status`. It refuses any move the table does not allow, claims the row with a
conditional UPDATE (so two reviewers, or a reviewer and a withdrawing enterprise, cannot both
win), and writes a `DemandEvent` with actor, from, to, time and reason.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from kejiyun.accounts.models import Organisation, Role, User
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.common.errors import ServiceError, Stale
from kejiyun.common.signals import DEMAND_PUBLISHED, domain_event
from kejiyun.common.workflow import Move, MoveTable
from kejiyun.demands.models import Demand, DemandEvent
from kejiyun.demands.review import (
    Candidate,
    DemandText,
    ReviewProblem,
    completeness_problems,
    review_flags,
)
from kejiyun.matchlog.services import DEMANDS, index_change_record
from kejiyun.notifications.services import outbox_enqueue
from kejiyun.pagecache.services import DEMANDS as PUBLIC_DEMANDS
from kejiyun.pagecache.services import content_changed
from kejiyun.regions.models import Region
from kejiyun.talent.models import Discipline, Industry

S = Demand.Status
# The statuses whose demands anyone sees: the hall lists published ones, and the home page
# counts published and closed ones.
SHOWN_PUBLICLY: frozenset[str] = frozenset({S.PUBLISHED, S.CLOSED})

ENTERPRISE = "enterprise"
STAFF = "staff"
CHECK = "automatic check"
CASE = "case"

# Every allowed status move, and who makes it (docs/requirements/style.md rule 5). Anything
# else is refused by `demand_transition`.
DEMAND_MOVES = MoveTable(
    Demand.Status.values,
    [
        # The enterprise submits (staff do it for a paper demand imported from Excel); the
        # automatic check sends an incomplete one straight back.
        Move(S.DRAFT, S.SUBMITTED, ENTERPRISE),
        Move(S.DRAFT, S.RETURNED, CHECK, needs_reason=True),
        Move(S.DRAFT, S.WITHDRAWN, ENTERPRISE),
        Move(S.RETURNED, S.SUBMITTED, ENTERPRISE),
        Move(S.RETURNED, S.RETURNED, CHECK, needs_reason=True),
        Move(S.RETURNED, S.WITHDRAWN, ENTERPRISE),
        # Staff accept (its case is opened) or send back; the enterprise may still withdraw.
        Move(S.SUBMITTED, S.PUBLISHED, STAFF),
        Move(S.SUBMITTED, S.RETURNED, STAFF, needs_reason=True),
        Move(S.SUBMITTED, S.WITHDRAWN, ENTERPRISE),
        # Once accepted, the demand follows its case: closed or withdrawn with it.
        Move(S.PUBLISHED, S.CLOSED, CASE, needs_reason=True),
        Move(S.PUBLISHED, S.WITHDRAWN, CASE, needs_reason=True),
    ],
)

# The enterprise may change the text only while no one is reviewing or working on it.
EDITABLE: frozenset[str] = frozenset({S.DRAFT, S.RETURNED})
# The enterprise may withdraw on its own only before acceptance; afterwards through the case.
WITHDRAWABLE: frozenset[str] = frozenset({S.DRAFT, S.RETURNED, S.SUBMITTED})

# The duplicate check looks at this many other demands at most (newest first).
DUPLICATE_CANDIDATES_CAP = 2000
DUPLICATE_WINDOW = timedelta(days=365)


class DemandError(ServiceError):
    """A refused write to a demand; `messages[0]` is the message. Nothing was changed."""


class StaleDemand(Stale, DemandError):
    """Someone moved the demand since it was read."""

    message_text = "该需求刚被他人处理过，请刷新后再试。"


@dataclass(frozen=True)
class DemandInput:
    """What the enterprise's form hands to the service, already validated."""

    title: str
    description: str
    category: str
    industry: str
    region: Region
    problem: str
    current_state: str
    target_indicators: str
    budget: str
    deadline: date | None
    confidentiality: str
    industry_class: Industry | None = None
    discipline: Discipline | None = None


@dataclass(frozen=True)
class SubmitResult:
    """What happened on submit: submitted with flags for staff, or sent back with problems."""

    submitted: bool
    problems: list[ReviewProblem] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


def _status_label(status: str) -> str:
    return str(Demand.Status(status).label)


def demand_transition(
    *,
    demand: Demand,
    to_status: str,
    actor: User | None,
    reason: str = "",
    automatic: bool = False,
    changes: dict[str, Any] | None = None,
    only_from: Collection[str] | None = None,
    refusal: str = "",
    expected_version: int | None = None,
) -> Demand:
    """Move `demand` to `to_status` if `DEMAND_MOVES` allows it, writing `changes` with it.

    `only_from` narrows the table for one action (staff may return only a submitted demand,
    though the automatic check may return a draft); `refusal` is then the message, with
    `{status}` standing for the current status. The move is a conditional UPDATE on the
    status read from the database, so a demand that someone else moved in the meantime is
    refused rather than overwritten; with `expected_version` (the API's If-Match) it is also
    refused as stale when the demand was edited since. Raises `DemandError` and changes nothing
    when refused.
    """
    row = Demand.objects.filter(pk=demand.pk).values_list("status", "version").first()
    if row is None:
        raise DemandError("需求不存在。")
    current, version = row
    if expected_version is not None and version != expected_version:
        raise StaleDemand()
    if only_from is not None and current not in only_from:
        raise DemandError(refusal.format(status=_status_label(current)))
    move = DEMAND_MOVES.find(current, to_status)
    if move is None:
        raise DemandError(
            f"当前状态为「{_status_label(current)}」，不能改为「{_status_label(to_status)}」。"
        )
    if move.needs_reason and not reason.strip():
        raise DemandError("请填写原因。")
    values = {"status": to_status, **(changes or {})}
    with transaction.atomic():
        claimed = Demand.objects.filter(pk=demand.pk, status=current, version=version).update(
            version=F("version") + 1, **values
        )
        if claimed != 1:
            raise StaleDemand()
        DemandEvent.objects.create(
            demand_id=demand.pk,
            actor=actor,
            from_status=current,
            to_status=to_status,
            automatic=automatic,
            reason=reason,
        )
        if current in SHOWN_PUBLICLY or to_status in SHOWN_PUBLICLY:
            content_changed(PUBLIC_DEMANDS)  # the hall, the demand's page, the home page
    for name, value in values.items():
        setattr(demand, name, value)
    demand.version = version + 1
    return demand


# --- The enterprise's edits --------------------------------------------------------------


# The fields an enterprise writes; everything else (status, review, organisation) is not theirs.
INPUT_FIELDS: tuple[str, ...] = (
    "title",
    "description",
    "category",
    "industry",
    "region",
    "problem",
    "current_state",
    "target_indicators",
    "budget",
    "deadline",
    "confidentiality",
    "industry_class",
    "discipline",
)


def demand_create(*, organisation: Organisation, actor: User, data: DemandInput) -> Demand:
    """A new draft of `organisation`'s, written by `actor`."""
    demand = Demand(organisation=organisation, created_by=actor, status=S.DRAFT)
    for name in INPUT_FIELDS:
        setattr(demand, name, getattr(data, name))
    with transaction.atomic():
        demand.save()
        index_change_record(kind=DEMANDS, object_ids=[demand.pk])
    return demand


def demand_update(
    *, demand: Demand, actor: User, data: DemandInput, expected_version: int | None = None
) -> Demand:
    """Save the enterprise's edits to a draft or returned demand; refused in any other status.

    The write is conditional on the status still being editable, so an edit that races a
    submission (or a withdrawal) in another tab changes nothing; with `expected_version` (the
    API's If-Match) it is also refused as stale when someone edited the demand since.
    """
    values = {name: getattr(data, name) for name in INPUT_FIELDS}
    matching = Demand.objects.filter(pk=demand.pk, status__in=EDITABLE)
    if expected_version is not None:
        matching = matching.filter(version=expected_version)
    updated = matching.update(version=F("version") + 1, **values)
    still_editable = Demand.objects.filter(pk=demand.pk, status__in=EDITABLE)
    if updated != 1 and expected_version is not None and still_editable.exists():
        raise StaleDemand()
    if updated != 1:
        current = Demand.objects.filter(pk=demand.pk).values_list("status", flat=True).first()
        raise DemandError(
            f"需求当前状态为「{_status_label(current or demand.status)}」，"
            "只有草稿或退回修改的需求可以编辑。"
        )
    index_change_record(kind=DEMANDS, object_ids=[demand.pk])
    for name, value in values.items():
        setattr(demand, name, value)
    demand.version = Demand.objects.values_list("version", flat=True).get(pk=demand.pk)
    return demand


def demand_withdraw(*, demand: Demand, actor: User, expected_version: int | None = None) -> Demand:
    """The enterprise takes its demand back before staff accept it."""
    return demand_transition(
        demand=demand,
        to_status=S.WITHDRAWN,
        actor=actor,
        expected_version=expected_version,
        only_from=WITHDRAWABLE,
        refusal="需求当前状态为「{status}」，不能在此撤回；已受理的需求请联系承办的服务中心。",
    )


# --- Submission and the automatic checks -------------------------------------------------


def demand_text_of(demand: Demand) -> DemandText:
    return DemandText(
        title=demand.title,
        description=demand.description,
        problem=demand.problem,
        current_state=demand.current_state,
        target_indicators=demand.target_indicators,
    )


def _duplicate_candidates(demand: Demand) -> list[Candidate]:
    """Other demands a copy would most likely be made from: the organisation's own (any
    time), and those of the same category in the same city in the last year. Drafts and
    withdrawn demands are no one's record, so they are left out. Only id, title and
    description are read; at most `DUPLICATE_CANDIDATES_CAP` rows, newest first."""
    region = Region.objects.only("path").get(pk=demand.region_id)
    since = timezone.now() - DUPLICATE_WINDOW
    rows = (
        Demand.objects.exclude(pk=demand.pk)
        .exclude(status__in=[S.DRAFT, S.WITHDRAWN])
        .filter(
            Q(organisation_id=demand.organisation_id)
            | Q(
                category=demand.category,
                region__path__startswith=region.city_path,
                created_at__gte=since,
            )
        )
        .order_by("-created_at", "-id")
        .values_list("id", "title", "description", "region_id", "confidentiality")[
            :DUPLICATE_CANDIDATES_CAP
        ]
    )
    return [
        Candidate(
            id=pk,
            title=title,
            description=text,
            disclose=region_id == demand.region_id and secrecy != Demand.Confidentiality.PRIVATE,
        )
        for pk, title, text, region_id, secrecy in rows
    ]


def demand_submit(*, demand: Demand, actor: User) -> SubmitResult:
    """Submit a draft or returned demand for review, after the automatic checks.

    An incomplete demand is *sent back* (status 退回修改, `return_reasons` one line per missing
    or vague part) rather than refused with form errors only. The issue asks for exactly that,
    and it is what the enterprise sees next time as well: the list shows the demand as sent
    back with its reasons, even if they close the page, and staff statistics can count
    automatic returns. The form page also shows each reason beside its field at once, so the
    user loses nothing by the status change; the text they typed is saved.

    A complete demand becomes 待审核. Near-duplicates and boilerplate do not block it: they are
    stored as `review_flags` (and `duplicate_of`) for staff to decide.
    """
    refusal = "需求当前状态为「{status}」，只有草稿或退回修改的需求可以提交审核。"
    text = demand_text_of(demand)
    problems = completeness_problems(text)
    if problems:
        reasons = "\n".join(p.message for p in problems)
        demand_transition(
            demand=demand,
            to_status=S.RETURNED,
            actor=actor,
            reason=reasons,
            automatic=True,
            changes={"return_reasons": reasons, "reviewed_by": None},
            only_from=EDITABLE,
            refusal=refusal,
        )
        return SubmitResult(submitted=False, problems=problems)
    flags, duplicate = review_flags(text, _duplicate_candidates(demand))
    demand_transition(
        demand=demand,
        to_status=S.SUBMITTED,
        actor=actor,
        reason="；".join(flags),
        changes={
            "submitted_at": timezone.now(),
            "return_reasons": "",
            "review_flags": flags,
            "duplicate_of_id": duplicate.id if duplicate else None,
            "reviewed_by": None,
        },
        only_from=EDITABLE,
        refusal=refusal,
    )
    return SubmitResult(submitted=True, flags=flags)


def demand_flags_refresh(*, demand: Demand) -> list[str]:
    """Run the duplicate and boilerplate checks and store their flags, without moving the
    demand. For demands that arrive already submitted (paper demands imported by staff), so
    that they reach the review queue flagged like online ones."""
    flags, duplicate = review_flags(demand_text_of(demand), _duplicate_candidates(demand))
    duplicate_id = duplicate.id if duplicate else None
    Demand.objects.filter(pk=demand.pk).update(review_flags=flags, duplicate_of_id=duplicate_id)
    demand.review_flags = flags
    demand.duplicate_of_id = duplicate_id
    return flags


# --- Staff review ------------------------------------------------------------------------


ONLY_SUBMITTED: frozenset[str] = frozenset({S.SUBMITTED})


def demand_publish(*, demand: Demand, actor: User) -> Demand:
    """Staff accept a submitted demand: it is published. Acceptance also opens the demand's
    case; `cases.workflow.services.case_open_from_demand` does both in one transaction and is
    what the staff action calls."""
    with transaction.atomic():
        demand_transition(
            demand=demand,
            to_status=S.PUBLISHED,
            actor=actor,
            reason="受理",
            changes={"published_at": timezone.now(), "reviewed_by": actor},
            only_from=ONLY_SUBMITTED,
            refusal="只有待审核的需求可以受理；该需求当前状态为「{status}」。",
        )
        audit_record(
            action=AuditAction.DEMAND_ACCEPT,
            user=actor,
            object_type="demand",
            object_id=str(demand.pk),
        )
        domain_event.send(sender=Demand, name=DEMAND_PUBLISHED, instance=demand)
    return demand


def _enterprise_recipients(demand: Demand) -> list[User]:
    if demand.created_by_id is not None:
        creator = User.objects.filter(pk=demand.created_by_id, is_active=True).first()
        if creator is not None and creator.organisation_id == demand.organisation_id:
            return [creator]
    return list(
        User.objects.filter(
            organisation_id=demand.organisation_id, role=Role.ENTERPRISE, is_active=True
        ).order_by("pk")
    )


def demand_return(
    *, demand: Demand, actor: User, reasons: str, expected_version: int | None = None
) -> Demand:
    """Staff send a submitted demand back to the enterprise with reasons (required), and the
    enterprise is told in-app."""
    reasons = (reasons or "").strip()
    if not reasons:
        raise DemandError("请填写退回原因，告诉企业需要补充或修改什么。")
    with transaction.atomic():
        demand_transition(
            demand=demand,
            to_status=S.RETURNED,
            actor=actor,
            reason=reasons,
            changes={"return_reasons": reasons, "reviewed_by": actor},
            only_from=ONLY_SUBMITTED,
            refusal="只有待审核的需求可以退回；该需求当前状态为「{status}」。",
            expected_version=expected_version,
        )
        n = DemandEvent.objects.filter(
            demand_id=demand.pk, to_status=S.RETURNED, automatic=False
        ).count()
        recipients = _enterprise_recipients(demand)
        for recipient in recipients:
            key = f"demand-returned:{demand.pk}:{n}"
            if len(recipients) > 1:
                key = f"{key}:{recipient.pk}"
            outbox_enqueue(
                channel="inapp",
                recipient=recipient,
                title=f"需求《{demand.title}》被退回修改",
                body=f"退回原因：{reasons}",
                url=reverse("demands:mine_detail", args=[demand.pk]),
                idempotency_key=key,
                source="demand",
            )
    return demand
