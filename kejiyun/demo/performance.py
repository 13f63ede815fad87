"""Demo scoring data, through the performance services: the province's scheme role, a second
province staff member with the approver role, and a published county scheme for the current
year (the annual assessment, 年度考核) with eight outcome indicators, so the ranking, the
published formula and the fund allocation pages have something on them the first time
`make run` opens them.

- `demo_staff_province` holds the scheme role (`performance.manage_scheme`);
- `demo_staff_province_approver` (same demo password) works at the province centre and holds
  the approver role (`performance.approve_allocation`), so a second person can approve an
  allocation the first one drafted.

Idempotent: a second run creates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import Permission
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.accounts.services import staff_create
from kejiyun.demo.seed import DEMO_PASSWORD, MOBILE_PREFIX, STAFF_ACCOUNTS, DemoError
from kejiyun.ops.periods import Period, PeriodKind
from kejiyun.performance.models import Normalisation, Scheme
from kejiyun.performance.schemes.services import (
    ItemInput,
    SchemeInput,
    scheme_create,
    scheme_publish,
)
from kejiyun.regions.models import Region

APPROVER = "demo_staff_province_approver"
APPROVER_NAME = "周文静"
# The demo staff accounts take mobiles 1..4 of the staff prefix; the approver takes the next.
APPROVER_MOBILE_INDEX = len(STAFF_ACCOUNTS) + 1

T, M, R = Normalisation.TARGET, Normalisation.MINMAX, Normalisation.RANK
# (indicator, weight, normalisation, target): outcomes only, no counts of activity that a
# script could inflate without a verified result behind it.
ITEMS: tuple[tuple[str, int, str, str | None], ...] = (
    ("cases_closed", 20, T, "10"),
    ("closed_on_time_share", 15, T, "90"),
    ("solved_with_evidence", 15, M, None),
    ("contract_amount", 10, R, None),
    ("satisfaction_mean", 15, T, "4.5"),
    ("rated_share", 10, T, "80"),
    ("first_response_hours", 10, T, "8"),
    ("workers_verified", 5, M, None),
)


@dataclass(frozen=True)
class DemoPerformance:
    approvers: int
    schemes: int


def _grant(user: User, codename: str) -> None:
    user.user_permissions.add(Permission.objects.get(codename=codename))


def demo_performance_seed(*, now: datetime | None = None) -> DemoPerformance:
    """Give the province its scheme and approver roles and publish the demo county scheme
    for the current year."""
    now = now or timezone.now()
    province = User.objects.filter(username="demo_staff_province").first()
    if province is None:
        raise DemoError("the demo staff accounts are missing; run demo_seed first")
    _grant(province, "manage_scheme")
    approvers = 0
    approver = User.objects.filter(username=APPROVER).first()
    if approver is None:
        approver = staff_create(
            username=APPROVER,
            display_name=APPROVER_NAME,
            password=DEMO_PASSWORD,
            centre_region=Region.objects.get(code=dict(STAFF_ACCOUNTS)["demo_staff_province"]),
            mobile=f"{MOBILE_PREFIX['staff']}{APPROVER_MOBILE_INDEX:08d}",
        )
        approvers = 1
    _grant(approver, "approve_allocation")
    province = User.objects.get(pk=province.pk)  # a fresh permission cache
    # The year so far (年度考核): the demo's cases close in its last months, so an earlier
    # period would score every centre on nothing.
    year = Period.containing(PeriodKind.YEAR, timezone.localdate(now))
    schemes = 0
    if not Scheme.objects.filter(period=year.token, level=Scheme.Level.COUNTY).exists():
        scheme = scheme_create(
            actor=province,
            data=SchemeInput(
                name=f"{year.label}区县服务中心绩效考核",
                period=year.token,
                level=Scheme.Level.COUNTY,
                note="只计核实的成果：结案、按时、佐证、合同、企业评价和首次响应；"
                "已确认的刷量在计分前扣除。",
                discount_open_above=None,
                items=[
                    ItemInput(key, Decimal(weight), method, Decimal(t) if t else None)
                    for key, weight, method, t in ITEMS
                ],
            ),
        )
        scheme_publish(actor=province, scheme=scheme, expected_version=scheme.version)
        schemes = 1
    return DemoPerformance(approvers=approvers, schemes=schemes)
