"""The two performance roles, on top of the staff role and the jurisdiction rules (ADR 0009):
the scheme role (`performance.manage_scheme`) writes schemes and allocations, the approver
role (`performance.approve_allocation`) approves allocations. Both act on the province side
only: province staff and administrators."""

from __future__ import annotations

from kejiyun.accounts.models import User
from kejiyun.regions.models import Region


def is_province_side(user: User) -> bool:
    """Province staff and administrators: the people who may see whole allocations and
    draft schemes."""
    if user.sees_everything:
        return True
    centre = user.centre if user.is_centre_staff else None
    return centre is not None and centre.region.level == Region.Level.PROVINCE


def may_manage(user: User) -> bool:
    """The scheme role on the province side: may write schemes and allocations."""
    return is_province_side(user) and user.has_perm("performance.manage_scheme")


def has_approver_role(user: User) -> bool:
    return is_province_side(user) and user.has_perm("performance.approve_allocation")
