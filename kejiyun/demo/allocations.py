"""Demo fund allocation, through the allocation services: on the demo's published county
scheme, `demo_staff_province` (the scheme role) computes a 2,000,000-yuan split with a base of
5,000 yuan per county centre and the rest by score (no cap: most demo counties score 0, and
capping the few that score would leave money no one may take), and submits it. It
waits for `demo_staff_province_approver` (the approver role), so the approval queue and the
what-if have something on them the first time `make run` opens them.

Idempotent: a second run creates nothing.
"""

from __future__ import annotations

from kejiyun.accounts.models import User
from kejiyun.demo.seed import DemoError
from kejiyun.performance.allocations.services import allocation_create, allocation_submit
from kejiyun.performance.models import Allocation, Scheme

DEMO_ALLOCATION = "区县服务中心工作经费（演示）"
YUAN = 100  # fen


def demo_allocation_seed() -> int:
    """The demo's pending allocation; returns how many allocations it created (0 or 1)."""
    scheme = (
        Scheme.objects.filter(status=Scheme.Status.PUBLISHED, level=Scheme.Level.COUNTY)
        .order_by("-period", "-id")
        .first()
    )
    if scheme is None:
        raise DemoError("the demo's published scheme is missing; run the scheme demo first")
    if Allocation.objects.filter(scheme=scheme, name=DEMO_ALLOCATION).exists():
        return 0
    manager = User.objects.filter(username="demo_staff_province").first()
    if manager is None:
        raise DemoError("the demo staff accounts are missing; run demo_seed first")
    allocation = allocation_create(
        actor=manager,
        scheme=scheme,
        name=DEMO_ALLOCATION,
        budget_fen=2_000_000 * YUAN,
        base_fen=5_000 * YUAN,
    )
    allocation_submit(actor=manager, allocation=allocation, expected_version=allocation.version)
    return 1
