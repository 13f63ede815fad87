"""Who may act on an application, and in which part of the chain.

- the applicant: the user who created it;
- the county: staff of the centre whose region is the application's county;
- the city: staff of the centre whose region is the city above that county;
- the province: staff of the province centre holding `recognition.manage_recognition`, and
  administrators.

A reviewer is not a role here: reviewers reach an application only through their own
`ReviewAssignment` (review pages), and see nothing else.
"""

from __future__ import annotations

from kejiyun.accounts.models import User
from kejiyun.recognition.models import Application
from kejiyun.recognition.transitions import APPLICANT, CITY, COUNTY, PROVINCE
from kejiyun.regions.models import Region

MANAGE_PERMISSION = "recognition.manage_recognition"


def is_province_manager(user: User) -> bool:
    """Province staff with the recognition role, or an administrator."""
    if not user.is_authenticated:
        return False
    if user.sees_everything:
        return True
    return (
        user.is_centre_staff
        and user.centre is not None
        and user.centre.region.level == Region.Level.PROVINCE
        and user.has_perm(MANAGE_PERMISSION)
    )


def application_roles(user: User, application: Application) -> frozenset[str]:
    """The parts of the chain `user` holds on `application` (empty: may not act on it)."""
    if not user.is_authenticated:
        return frozenset()
    roles: set[str] = set()
    if application.applicant_id == user.pk:
        roles.add(APPLICANT)
    if user.is_centre_staff and user.centre is not None:
        centre_region = user.centre.region
        county = application.region
        if centre_region.pk == county.pk:
            roles.add(COUNTY)
        elif centre_region.pk == county.parent_id:
            roles.add(CITY)
    if is_province_manager(user):
        roles.add(PROVINCE)
    return frozenset(roles)
