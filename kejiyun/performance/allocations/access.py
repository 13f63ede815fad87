"""Who may see and do what with allocations.

Province staff and administrators see every allocation whole. The staff of a city or county
centre see approved allocations only, and in them only the lines of the centres in their
jurisdiction; anything else is a 404, so an allocation they may not see looks exactly like
one that does not exist. Writing needs the scheme role, approving the approver role (and
someone other than the creator and submitter), both on the province side.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from kejiyun.accounts.models import User
from kejiyun.performance.models import Allocation, AllocationEvent, AllocationLine
from kejiyun.performance.roles import has_approver_role, is_province_side
from kejiyun.regions.selectors import jurisdiction_filter

# The steps that shape what is approved: whoever took one may not approve.
SHAPING = (
    AllocationEvent.Action.CREATE,
    AllocationEvent.Action.COMPUTE,
    AllocationEvent.Action.EDIT,
    AllocationEvent.Action.SUBMIT,
)


def shaped_by(allocation: Allocation) -> set[int]:
    """Everyone who created, computed, changed or submitted the allocation, in any round
    (a return sends it back to draft, and whoever changed it then shaped it too)."""
    actors = set(
        AllocationEvent.objects.filter(allocation=allocation, action__in=SHAPING).values_list(
            "actor_id", flat=True
        )
    )
    return actors | {
        pk for pk in (allocation.created_by_id, allocation.submitted_by_id) if pk is not None
    }


def may_approve(user: User, allocation: Allocation) -> bool:
    """Holds the approver role and took no part in shaping the allocation (two-person
    control: the approver checks what someone else made)."""
    return has_approver_role(user) and user.pk not in shaped_by(allocation)


def _lines_in_jurisdiction(user: User) -> QuerySet[AllocationLine]:
    return jurisdiction_filter(
        AllocationLine.objects.all(), user=user, region_field="centre__region"
    )


def allocations_for(user: User) -> QuerySet[Allocation]:
    """The allocations `user` may open, newest first."""
    qs = Allocation.objects.select_related("scheme", "created_by", "approved_by")
    if is_province_side(user):
        return qs
    if not user.is_centre_staff:
        return qs.none()
    mine = _lines_in_jurisdiction(user).filter(allocation=OuterRef("pk"))
    return qs.filter(Exists(mine), status=Allocation.Status.APPROVED)


def access_allocation(user: User, allocation_id: int) -> Allocation:
    """The allocation when `user` may open it; 404 otherwise."""
    allocation = allocations_for(user).filter(pk=allocation_id).first()
    if allocation is None:
        raise Http404("页面不存在")
    return allocation


def visible_lines(user: User, allocation: Allocation) -> list[AllocationLine]:
    """The lines `user` may read: every line on the province side, else those of the
    centres in their jurisdiction; in rank order."""
    qs = (
        AllocationLine.objects.filter(allocation=allocation)
        if is_province_side(user)
        else _lines_in_jurisdiction(user).filter(allocation=allocation)
    )
    return list(qs.select_related("centre", "centre__region").order_by("rank", "centre__region_id"))
