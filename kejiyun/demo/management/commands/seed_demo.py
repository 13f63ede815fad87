import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kejiyun.demo.allocations import demo_allocation_seed
from kejiyun.demo.cases import demo_cases_seed
from kejiyun.demo.events import demo_events_seed
from kejiyun.demo.integrity import demo_integrity_seed
from kejiyun.demo.operations import demo_operations_seed
from kejiyun.demo.performance import APPROVER, demo_performance_seed
from kejiyun.demo.recognition import demo_recognition_seed
from kejiyun.demo.seed import (
    CITIZEN_PREFIX,
    DEMO_PASSWORD,
    ENTERPRISE_PREFIX,
    REVIEWER_ACCOUNTS,
    SCALES,
    STAFF_ACCOUNTS,
    WORKER_PREFIX,
    DemoError,
    demo_login_usernames,
    demo_seed,
)
from kejiyun.demo.workflows import demo_workflows_seed

# Demo cases go through the real services one step at a time; a few hundred show every
# state of the workflow without slowing the large seed down.
CASE_LIMIT = {"small": 120, "large": 400}


class Command(BaseCommand):
    help = (
        "Seed deterministic demo data for Sichuan (S&T workers, enterprises, demands, "
        "articles, citizens and centre staff). Running it again with the same arguments "
        "creates nothing."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--scale", choices=sorted(SCALES), default="small")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        scale: str = options["scale"]
        seed: int = options["seed"]
        started = time.monotonic()
        try:
            result = demo_seed(scale=scale, seed=seed, progress=self.stdout.write)
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        cases = demo_cases_seed(seed=seed, limit=CASE_LIMIT[scale])
        flows = demo_workflows_seed(scale=scale, seed=seed)
        integrity = demo_integrity_seed()
        operations = demo_operations_seed()
        performance = demo_performance_seed()
        allocations = demo_allocation_seed()
        demo_recognition_seed()
        events = demo_events_seed()
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"demo data ({scale}, seed {seed}) done in {elapsed:.1f}s; created: "
                f"{result.staff} staff, {result.reviewers} reviewers, "
                f"{result.workers} workers ({result.profiles} profiles), "
                f"{result.enterprises} enterprises ({result.enterprise_users} accounts), "
                f"{result.demands} demands, {result.articles} articles, "
                f"{result.citizens} citizens ({result.citizen_profiles} profiles), "
                f"{cases.opened} cases ({cases.closed} closed), "
                f"{flows.plans} service plans, {flows.submitted_demands} submitted demands, "
                f"{flows.content} centre articles with quizzes, {flows.activities} activities, "
                f"{integrity.flags} gaming flags in 双流区 ({integrity.confirmed} confirmed), "
                f"{operations.rollup_rows} rollup rows, {operations.reports} work reports, "
                f"{operations.bulletins} bulletins, {performance.schemes} scoring schemes, "
                f"{allocations} fund allocations, "
                f"{events.events} docking events ({events.check_ins} check-ins, "
                f"{events.agreements} agreements)"
            )
        )
        logins = demo_login_usernames(scale=scale)
        self.stdout.write(f"demo password for the accounts below: {DEMO_PASSWORD}")
        self.stdout.write("    staff: " + ", ".join(name for name, _ in STAFF_ACCOUNTS))
        self.stdout.write(f"    allocation approver: {APPROVER}")
        self.stdout.write("    reviewer: " + ", ".join(REVIEWER_ACCOUNTS))
        for label, prefix in (
            ("workers", WORKER_PREFIX),
            ("enterprises", ENTERPRISE_PREFIX),
            ("citizens", CITIZEN_PREFIX),
        ):
            names = [name for name in logins if name.startswith(prefix)]
            if names:
                self.stdout.write(f"    {label}: {names[0]} … {names[-1]}")
        self.stdout.write("every other demo account has an unusable password.")
