"""Demo cases: published demo demands taken through the real services to varied steps.

Deterministic for a seed; idempotent (demands that already have a case are left alone).
Every step, docking and outcome goes through the case services (`kejiyun.cases.workflow`,
`.clock` and `.dockings`) with a controlled clock, so the timelines, owners and due times
look like the real thing: most cases are within their time, some are overdue, a few are
paused waiting on the enterprise, and some are closed with an outcome the enterprise
confirmed and rated.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from pypdf import PdfWriter

from kejiyun.accounts.models import Role, User
from kejiyun.cases.clock.services import case_pause
from kejiyun.cases.dockings.services import docking_respond, docking_send
from kejiyun.cases.models import MAIN_LINE, DockingRequest, Step
from kejiyun.cases.workflow.services import (
    OutcomeInput,
    case_confirm,
    case_open,
    case_outcome_record,
    case_transition,
)
from kejiyun.common.workdays import subtract_working_hours
from kejiyun.demands.models import Demand
from kejiyun.demo.seed import demo_login_usernames
from kejiyun.talent.models import TalentProfile

# Where a demo case ends up, with weights.
_TARGETS: tuple[tuple[str, int], ...] = (
    (Step.INTAKE, 14),
    (Step.DIAGNOSIS, 14),
    (Step.MATCHING, 14),
    (Step.DOCKING, 14),
    (Step.AGREEMENT, 10),
    (Step.DELIVERY, 10),
    (Step.ACCEPTANCE, 6),
    (Step.CLOSED, 14),
    (Step.UNSOLVABLE, 4),
)
_UNSOLVABLE_REASONS = (
    "企业所需检测设备省内暂无，已推荐至国家级平台",
    "企业经营调整，需求不再推进",
    "技术路线尚不成熟，暂无可承接的团队",
)
_COMMENTS = ("专家很专业，问题解决了", "对接及时，后续还想合作", "服务周到", "")


def _evidence_pdf(contract: str) -> bytes:
    """A one-page PDF for a demo contract: uploads are accepted only if they parse. Each
    contract's file is its own (its title names it): one file behind several closures is what
    the hollow-closure detector looks for."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": f"合同 {contract}"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class DemoCases:
    opened: int
    closed: int


def demo_cases_seed(*, seed: int, limit: int, now: datetime | None = None) -> DemoCases:
    """Open up to `limit` demo cases for published demands in Chengdu and of the demo
    enterprises that can log in, and take each to a step chosen by the seed. Docking
    requests go to the demo workers who can log in about half the time."""
    now = now or timezone.now()
    rng = random.Random(seed * 7919 + 17)
    province = settings.DEPLOYMENT_PROVINCE
    chengdu = f"{province}/{province[:2]}01"
    logins = set(demo_login_usernames(scale="large"))
    login_orgs = list(
        User.objects.filter(username__in=logins, role=Role.ENTERPRISE).values_list(
            "organisation_id", flat=True
        )
    )
    demands = list(
        Demand.objects.filter(status=Demand.Status.PUBLISHED, case__isnull=True)
        .filter(Q(region__path__startswith=chengdu) | Q(organisation_id__in=login_orgs))
        .select_related("region", "region__parent", "organisation")
        .order_by("id")[:limit]
    )
    staff = list(User.objects.filter(role=Role.STAFF, centre__isnull=False).order_by("-id"))
    staff_by_region: dict[str, User] = {
        u.centre.region_id: u  # type: ignore[union-attr]
        for u in staff
    }
    login_experts = list(
        TalentProfile.objects.filter(user__username__in=logins)
        .select_related("user")
        .order_by("id")
    )
    experts = list(
        TalentProfile.objects.filter(region__path__startswith=chengdu)
        .select_related("user")
        .order_by("id")[:200]
    )
    opened = closed = 0
    for demand in demands:
        target = rng.choices([t for t, _ in _TARGETS], weights=[w for _, w in _TARGETS])[0]
        # The county's staff, else the city's, else the province's act on the case.
        county = demand.region
        actor = (
            staff_by_region.get(county.code)
            or staff_by_region.get(county.parent_id or "")
            or staff_by_region.get(province)
        )
        pool = login_experts if login_experts and rng.random() < 0.5 else experts
        with transaction.atomic():
            if actor is not None and _walk(rng, demand, target, now, actor, pool):
                opened += 1
                closed += target in (Step.CLOSED, Step.UNSOLVABLE)
    return DemoCases(opened=opened, closed=closed)


def _walk(
    rng: random.Random,
    demand: Demand,
    target: str,
    now: datetime,
    actor: User,
    experts: list[TalentProfile],
) -> bool:
    hours = settings.CASE_STEP_DUE_HOURS
    # An unsolvable case is given up during matching; others walk the main line to target.
    end = Step.MATCHING if target == Step.UNSOLVABLE else target
    path: list[str] = list(MAIN_LINE[: MAIN_LINE.index(end) + 1])
    # Working hours spent in each finished step; the current one started a little while ago
    # (a fifth of the open cases are past their due time). Due times count working hours
    # (`CASE_STEP_DUE_HOURS`), so the starts are counted back in working hours from now.
    spent = [hours[s] * rng.uniform(0.2, 0.8) for s in path[:-1]]
    current = path[-1]
    if current in hours:
        share = rng.uniform(1.05, 1.6) if rng.random() < 0.2 else rng.uniform(0.05, 0.9)
        current_start = subtract_working_hours(now, hours[current] * share)
    else:
        current_start = now - timedelta(days=rng.uniform(1, 60))
    starts = [current_start]
    for worked in reversed(spent):
        starts.insert(0, subtract_working_hours(starts[0], worked))
    earliest = demand.created_at + timedelta(hours=rng.uniform(2, 48))
    if starts[0] < earliest:
        # A young demand: its steps are squeezed into the time since it was published.
        shift = earliest - starts[0]
        starts = [min(moment + shift, now) for moment in starts]
    clock = starts[0]
    case = case_open(demand=demand, actor=actor, now=clock)
    enterprise = (
        User.objects.filter(organisation_id=demand.organisation_id, role=Role.ENTERPRISE)
        .order_by("id")
        .first()
    )
    for step, clock in zip(path[1:], starts[1:], strict=True):
        if step == Step.DOCKING and experts:
            expert = experts[rng.randrange(len(experts))]
            docking_send(case=case, expert=expert, actor=actor, now=clock)
            if rng.random() < 0.8:
                docking_respond(
                    docking=case.dockings.get(expert=expert),
                    actor=expert.user,
                    accept=True,
                    now=min(clock + timedelta(hours=rng.uniform(1, 20)), now),
                )
            continue
        if step == Step.AGREEMENT:
            # Without an expert who accepted, agreement needs a reason (the enterprise's
            # own partner).
            accepted = case.dockings.filter(status=DockingRequest.Status.ACCEPTED).exists()
            case_transition(
                case=case,
                to_step=step,
                actor=actor,
                reason="" if accepted else "企业自行找到合作方",
                now=clock,
            )
            continue
        if step == Step.ACCEPTANCE:
            case_outcome_record(case=case, outcome=_outcome(rng), actor=actor, now=clock)
            continue
        if step == Step.CLOSED:
            if enterprise is None:
                return True  # nobody to confirm: the case waits in acceptance
            case_confirm(
                case=case,
                actor=enterprise,
                rating=rng.choices([5, 4, 3, 2], weights=[6, 3, 1, 0.3])[0],
                comment=rng.choice(_COMMENTS),
                now=clock,
            )
            continue
        case_transition(case=case, to_step=step, actor=actor, now=clock)
    if target == Step.UNSOLVABLE:
        case_transition(
            case=case,
            to_step=Step.UNSOLVABLE,
            actor=actor,
            reason=rng.choice(_UNSOLVABLE_REASONS),
            now=min(clock + timedelta(days=3), now),
        )
    elif case.is_open and rng.random() < 0.08:
        case_pause(case=case, actor=actor, reason="等待企业补充资料", now=now)
    return True


def _outcome(rng: random.Random) -> OutcomeInput:
    if rng.random() < 0.85:
        serial = rng.randrange(10_000, 99_999)
        return OutcomeInput(
            solved=True,
            contract_number=f"SC-JS-{serial}",
            contract_amount=Decimal(rng.randrange(2, 300)) / Decimal(2),
            evidence=SimpleUploadedFile(f"contract-{serial}.pdf", _evidence_pdf(f"SC-JS-{serial}")),
        )
    return OutcomeInput(solved=False, reason="试验效果未达到企业的目标指标")
