"""Drill: a Celery worker is killed mid-task (docs/resilience.md, "A Celery worker killed").

The whole worker (its main process and its pool child) gets SIGKILL while it works, as the
out-of-memory killer or a lost machine would do it: no clean-up, no acknowledgement. A new
worker is started, and the work completes exactly once. Two kinds of work:

A periodic job. The outbox dispatch (`notifications.dispatch_outbox`, beat's every-minute
job) sends 1,500 in-app messages; the worker dies after a few hundred. What it had claimed
stays `sending`; its task message stays unacknowledged in Redis (acks late), where the broker
would hand it out again after the visibility timeout (2 hours). The work does not wait for
that: beat's next dispatch reclaims the dead worker's claims once they are
OUTBOX_CLAIM_TIMEOUT_SECONDS old (10 minutes in production, 3 s here) and sends the rest.
In-app messages are written in the same transaction as their "sent" mark, so none is sent
twice.

A background run (kejiyun/background, ADR 0019): province staff rebuild three years of
operations rollups from /ops/rollups/; the worker dies a few months in. The run stays
`running` with a heartbeat that stops; once the heartbeat is BACKGROUND_STALE_SECONDS old
(5 minutes in production, 30 s here, the least the settings allow) beat's
`background.resume_stale` hands the run out again, the new worker claims it (a second
attempt) and runs it from the start, which is safe: each month's rows are replaced in one
transaction. One run, done once, and the rollups equal a recomputation from the records.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from tests.resilience.conftest import Stack, Workers
from tests.resilience.stack import (
    CLAIM_TIMEOUT,
    STALE_SECONDS,
    Service,
    beat_sends,
    django_json,
    step,
    wait_for,
)

pytestmark = pytest.mark.resilience

MESSAGES = 1500
TITLE = "演练消息"


def counts(stack: Stack) -> dict[str, int]:
    """The drill's outbox messages by status, and its inbox items (all, and distinct)."""
    found = dict(
        stack.rows(
            "SELECT status, count(*) FROM notifications_outboxmessage"
            " WHERE source = 'drill' GROUP BY status"
        )
    )
    items, distinct = stack.rows(
        "SELECT count(*), count(DISTINCT title) FROM notifications_inboxitem WHERE title LIKE %s",
        f"{TITLE}%",
    )[0]
    return {**found, "inbox": items, "inbox_distinct": distinct}


def enqueue(stack: Stack, n: int) -> int:
    """`n` in-app messages to the enterprise user, written through the outbox service as the
    platform writes them (the dispatch task is queued after commit)."""
    user_id = stack.seed["enterprise_user_id"]
    return int(
        django_json(
            stack.env,
            f"""
from kejiyun.notifications.models import Channel
from kejiyun.notifications.services import OutboxDraft, outbox_enqueue_many
drafts = [
    OutboxDraft(channel=Channel.IN_APP, recipient_id={user_id}, title=f"{TITLE} {{i:04d}}",
                body="失败演练：工作进程中途被杀死后，每条消息仍只送达一次。",
                idempotency_key=f"drill-kill:{{i}}", source="drill")
    for i in range({n})
]
print(outbox_enqueue_many(drafts=drafts))
""",
        )
    )


def test_a_worker_killed_mid_dispatch_loses_nothing_and_sends_nothing_twice(
    stack: Stack, workers: Workers
) -> None:
    first = workers.current()
    assert enqueue(stack, MESSAGES) == MESSAGES
    step(f"worker {first.name} dispatches; SIGKILL to its process group after a few hundred")
    wait_for(
        "the first worker to be mid-dispatch",
        lambda: counts(stack).get("sent", 0) >= 200,
        seconds=120,
        every=0.05,
    )
    workers.kill()
    killed_at = time.monotonic()
    at_kill = counts(stack)
    step(f"killed mid-task: {at_kill}")
    assert 0 < at_kill.get("sent", 0) < MESSAGES
    assert at_kill.get("sending", 0) > 0, "the dead worker held no claim: not killed mid-batch"
    assert at_kill["inbox"] == at_kill["inbox_distinct"] == at_kill["sent"]
    # Acks late: the dead worker's task message waits in Redis to be handed out again.
    assert int(stack.redis.cli("hlen", "unacked")) == 1

    second = workers.current()
    time.sleep(max(0.0, CLAIM_TIMEOUT + 0.5 - (time.monotonic() - killed_at)))
    beat_sends(stack.env, "notifications.dispatch_outbox")
    wait_for(
        "every message to be sent",
        lambda: counts(stack).get("sent", 0) == MESSAGES,
        seconds=180,
    )
    done = counts(stack)
    step(f"after the second worker: {done}, {time.monotonic() - killed_at:.1f} s after the kill")
    assert done == {"sent": MESSAGES, "inbox": MESSAGES, "inbox_distinct": MESSAGES}
    reclaimed = stack.value(
        "SELECT count(*) FROM notifications_outboxmessage"
        " WHERE source = 'drill' AND last_error = '' AND attempts = 1"
    )
    assert reclaimed == at_kill["sending"], "each claim of the dead worker counted one attempt"
    assert second.alive()


def run_row(stack: Stack, run_id: int) -> dict[str, object]:
    status, done, total, attempts, heartbeat = stack.rows(
        "SELECT status, done, total, attempts, heartbeat_at FROM background_run WHERE id = %s",
        run_id,
    )[0]
    return {
        "status": status,
        "done": done,
        "total": total,
        "attempts": attempts,
        "heartbeat": heartbeat,
    }


def resume_stale_runs(worker: Service) -> int:
    """How many `background.resume_stale` tasks the worker has finished (its log says)."""
    return sum(
        1
        for line in worker.log_text().splitlines()
        if "background.resume_stale[" in line and "succeeded" in line
    )


def test_a_background_run_whose_worker_was_killed_is_taken_up_again_and_done_once(
    stack: Stack, workers: Workers
) -> None:
    end = date.today()
    start = end - timedelta(days=3 * 365)
    province = stack.province_staff()
    first = workers.current()
    asked = province.post("/ops/rollups/", {"start": start.isoformat(), "end": end.isoformat()})
    assert asked.status_code == 302, asked.text[:500]
    run_id = int(asked.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    step(f"background run {run_id}: rollups {start} to {end}; SIGKILL its worker a few months in")
    wait_for(
        "the run to be a few months in",
        lambda: run_row(stack, run_id)["done"] >= 2,
        seconds=120,
        every=0.05,
    )
    assert workers.kill() is first
    killed_at = time.monotonic()
    at_kill = run_row(stack, run_id)
    step(f"killed mid-run: {at_kill}")
    assert at_kill["status"] == "running" and at_kill["attempts"] == 1
    assert 0 < int(at_kill["done"]) < int(at_kill["total"])  # type: ignore[call-overload]

    second = workers.current()
    # Before the heartbeat is stale the run is someone else's: resume_stale leaves it alone.
    beat_sends(stack.env, "background.resume_stale")
    wait_for(
        "the early resume_stale to have run",
        lambda: resume_stale_runs(second) == 1,
        seconds=60,
    )
    assert run_row(stack, run_id)["attempts"] == 1
    wait_for(
        "the run's heartbeat to go stale",
        lambda: time.monotonic() - killed_at > STALE_SECONDS + 1,
        seconds=STALE_SECONDS + 5,
        every=0.5,
    )
    beat_sends(stack.env, "background.resume_stale")
    wait_for(
        "the run to be done",
        lambda: run_row(stack, run_id)["status"] == "done",
        seconds=240,
    )
    done = run_row(stack, run_id)
    step(f"after the second worker: {done}, {time.monotonic() - killed_at:.1f} s after the kill")
    assert done["attempts"] == 2
    assert done["done"] == done["total"] == at_kill["total"]
    assert stack.value("SELECT count(*) FROM background_run WHERE kind = 'ops.rollup_rebuild'") == 1
    page = province.get(f"/background/{run_id}/")
    assert page.status_code == 200 and "已重建" in page.text
    verified = django_json(
        stack.env,
        f"""
import json
from datetime import date
from kejiyun.ops.rollups import rollup_verify
result = rollup_verify(start=date.fromisoformat("{start}"), end=date.fromisoformat("{end}"))
print(json.dumps({{"checked": result.checked, "mismatches": len(result.mismatches)}}))
""",
    )
    assert verified["mismatches"] == 0 and verified["checked"] > 0, verified
    assert second.alive()
