"""Who acts on a case: the actor checks every write makes first, and which staff member a
case is given to when it arrives at a centre (opened there or escalated to it)."""

from __future__ import annotations

from django.db.models import Count

from kejiyun.accounts.models import Role, User
from kejiyun.cases.errors import CaseError
from kejiyun.cases.models import TERMINAL, Case, DockingRequest, Step
from kejiyun.regions.models import ServiceCentre
from kejiyun.regions.selectors import region_in_jurisdiction


def may_act(user: User, case: Case) -> bool:
    """Staff may act on a case their jurisdiction holds the handling centre of.

    County staff lose the right to act (but may still read) once their case has escalated
    to the city; city and province staff act on everything handled below them.
    """
    return region_in_jurisdiction(user, case.centre.region)


def require_staff_actor(user: User, case: Case) -> None:
    """Refuse a staff write by someone who may not act on the case (`may_act`)."""
    if not may_act(user, case):
        raise CaseError("该案例已由上级中心承办，您只能查看。", code="not_handler")


def require_enterprise_actor(user: User, case: Case) -> None:
    """Refuse an enterprise write by anyone but a user of the demand's organisation."""
    if user.role != Role.ENTERPRISE or user.organisation_id != case.demand.organisation_id:
        raise CaseError("这一步只能由需求企业确认。", code="enterprise_only")


def require_open(case: Case) -> None:
    """Refuse a write to a case that has ended."""
    if case.step in TERMINAL:
        raise CaseError("该案例已结束，不能再修改。", code="closed")


def least_loaded_staff(centre: ServiceCentre) -> User | None:
    """The active staff member of `centre` with the fewest open cases (ties: lowest id)."""
    return (
        User.objects.filter(centre=centre, role=Role.STAFF, is_active=True)
        .annotate(open_cases=Count("owned_cases", filter=Case.open_q(via="owned_cases__")))
        .order_by("open_cases", "id")
        .first()
    )


def staffed_centre(centre: ServiceCentre) -> tuple[ServiceCentre, User | None]:
    """Where a case arriving at `centre` is handled, and by whom.

    A case never waits at a centre without staff: it goes to the nearest centre above with
    active staff (county → city → province), owned by that centre's least-loaded staff
    member. `(centre, None)` only when no centre up the chain has staff.
    """
    chain = list(
        ServiceCentre.objects.filter(region_id__in=centre.region.ancestor_codes)
        .select_related("region")
        .order_by("-region__path")
    )
    for candidate in chain:
        owner = least_loaded_staff(candidate)
        if owner is not None:
            return candidate, owner
    return centre, None


def require_agreement_basis(case: Case, reason: str) -> None:
    """A case enters agreement (签约) only with an expert who accepted its docking request,
    or with a recorded reason why none is needed (the enterprise found its own partner).
    A return from docking to matching says the dockings so far came to nothing: only an
    acceptance given after the last such return counts."""
    accepted = case.dockings.filter(status=DockingRequest.Status.ACCEPTED)
    fell_through = (
        case.events.filter(from_step=Step.DOCKING, to_step=Step.MATCHING)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if fell_through is not None:
        accepted = accepted.filter(responded_at__gt=fell_through)
    if not accepted.exists() and not reason.strip():
        raise CaseError(
            "还没有专家接受对接请求，不能转入签约。若企业已自行找到合作方等，请填写原因后再转入。",
            code="agreement_without_docking",
        )
