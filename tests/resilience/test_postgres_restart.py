"""Drill: PostgreSQL restarts while gunicorn serves (docs/resilience.md, "PostgreSQL restarted").

Two outages of the scratch cluster, gunicorn left running throughout:

1. a crash-restart (`pg_ctl -m immediate`, then start) between two requests: every web process
   still holds a connection to the dead server. Without the health check before reuse
   (CONN_HEALTH_CHECKS) the first request of each process fails; with it every request after
   the restart answers 200;
2. a stop of several seconds with people on the site: every page answers at once with the
   Chinese 503 page (and `Retry-After`), a form sent meanwhile writes nothing, /healthz says
   503; once PostgreSQL is back the same gunicorn workers answer 200 again, signed-in people
   are still signed in, and everything committed before the outage is there.
"""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.resilience.conftest import Stack
from tests.resilience.stack import GUNICORN_TIMEOUT, Browser, program, step, timed_get

pytestmark = pytest.mark.resilience

PUBLIC = ["/", "/demands/", "/talent/", "/popsci/"]


def gunicorn_workers(stack: Stack) -> list[int]:
    assert stack.site.process is not None
    out = subprocess.run(  # noqa: S603
        [program("ps"), "-o", "pid=", "--ppid", str(stack.site.process.pid)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return sorted(int(pid) for pid in out.split())


def both_workers_busy(stack: Stack, paths: list[str], rounds: int = 6) -> list[int]:
    """Ask `paths` two at a time, `rounds` times: with 2 sync workers and two requests in
    flight at once, both workers serve (and each holds a database connection). Returns the
    statuses."""
    statuses: list[int] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(rounds):
            pair = [pool.submit(lambda p=p: Browser(stack.base).get(p).status_code) for p in paths]
            statuses += [f.result() for f in pair]
    return statuses


def test_after_a_crash_restart_every_request_answers_without_restarting_gunicorn(
    stack: Stack,
) -> None:
    workers_before = gunicorn_workers(stack)
    assert len(workers_before) == 2
    assert both_workers_busy(stack, ["/", "/demands/"]) == [200] * 12

    step("PostgreSQL: immediate stop (a crash) and start, no request in between")
    stack.cluster.stop(mode="immediate")
    stack.cluster.start()

    after = both_workers_busy(stack, ["/", "/demands/"])
    assert after == [200] * 12, f"statuses right after the restart: {after}"
    assert gunicorn_workers(stack) == workers_before


def test_an_outage_answers_a_clear_503_at_once_and_the_site_comes_back_by_itself(
    stack: Stack,
) -> None:
    case_id = stack.seed["case_id"]
    staff = stack.staff()
    enterprise = stack.enterprise()
    anonymous = stack.browser()
    workers_before = gunicorn_workers(stack)

    noted = staff.post(f"/cases/{case_id}/notes/", {"body": "停机前记下的办理情况"})
    assert noted.status_code == 302, noted.text[:500]
    count_notes = "SELECT count(*) FROM cases_casenote WHERE case_id = %s"
    notes_before = stack.value(count_notes, case_id)
    assert notes_before >= 1

    step("PostgreSQL: stopped while people use the site")
    stack.cluster.stop(mode="fast")
    try:
        during = [timed_get(anonymous, path) for path in PUBLIC]
        during.append(timed_get(enterprise, "/dashboard/"))
        during.append(timed_get(staff, f"/cases/{case_id}/"))
        for answer in during:
            assert answer.status == 503, answer.text[:300]
            assert "服务暂时不可用" in answer.text and "数据库暂时无法连接" in answer.text
            assert "Traceback" not in answer.text and "psycopg" not in answer.text
            assert answer.seconds < GUNICORN_TIMEOUT / 3, f"{answer.seconds:.1f} s"
        assert anonymous.get("/").headers["Retry-After"] == "30"
        health = anonymous.get("/healthz")
        assert (health.status_code, health.json()) == (503, {"status": "error"})
        refused = staff.post(f"/cases/{case_id}/notes/", {"body": "停机期间提交的记录"})
        assert refused.status_code == 503
        assert "服务暂时不可用" in refused.text
        step(
            f"during the outage: {len(during) + 3} answers, all 503, slowest "
            f"{max(a.seconds for a in during):.2f} s"
        )
    finally:
        stack.cluster.start()

    # Back at once, in the same gunicorn workers, with the same sessions.
    time.sleep(0.2)
    for path in PUBLIC:
        assert anonymous.get(path).status_code == 200, path
    assert enterprise.get("/dashboard/").status_code == 200
    detail = staff.get(f"/cases/{case_id}/")
    assert detail.status_code == 200
    assert "停机前记下的办理情况" in detail.text
    assert "停机期间提交的记录" not in detail.text
    assert stack.value(count_notes, case_id) == notes_before
    assert gunicorn_workers(stack) == workers_before
