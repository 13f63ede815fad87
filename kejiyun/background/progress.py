"""How a handler reports how far it got, and how the progress page reads it.

`Progress.advance()` is called from inside a handler's loops. Every report goes to the cache
(one small entry per run, read by the progress page and by the stale check), at most every
`CACHE_EVERY` seconds; the run's row gets done/total/message and its heartbeat at most every
`ROW_EVERY` seconds, and only while the handler is not inside a transaction of its own: a
handler that writes everything in one transaction (an import, a campaign send) would hold the
row locked until it commits, and nobody else could see the figures anyway. The cache makes
those figures visible meanwhile (the embedded default's in-process cache is shared with the
thread that runs the work; production's Redis with every web worker). A cache that is down
costs only the live figures: the row still moves whenever the handler is between transactions.

Each write is conditional on the run still being this attempt's: when another worker has
taken the run over (this one was presumed dead), `RunSuperseded` is raised and the handler
stops, rolling back its own transaction.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from kejiyun.background.models import Run, RunStatus

logger = logging.getLogger("kejiyun.background")

ROW_EVERY = 1.0
CACHE_EVERY = 0.2
CACHE_SECONDS = 3600


class RunSuperseded(Exception):
    """Another attempt owns the run now; this one must stop."""


def cache_key(run_id: int) -> str:
    return f"background:run:{run_id}"


@dataclass(frozen=True)
class Snapshot:
    """The live figures of a running attempt, as the cache holds them."""

    attempt: int
    done: int
    total: int
    message: str
    at: float


def snapshot_read(run_id: int) -> Snapshot | None:
    try:
        value = cache.get(cache_key(run_id))
    except Exception:  # a cache that is down: the row's figures are shown
        logger.warning("background progress cache unavailable", exc_info=True)
        return None
    if not isinstance(value, dict):
        return None
    try:
        return Snapshot(
            attempt=int(value["attempt"]),
            done=int(value["done"]),
            total=int(value["total"]),
            message=str(value["message"]),
            at=float(value["at"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def snapshot_forget(run_id: int) -> None:
    """Drop the live figures of a run that ended (the row has the final ones)."""
    try:
        cache.delete(cache_key(run_id))
    except Exception:
        logger.warning("background progress cache unavailable", exc_info=True)


def run_with_live_figures(run: Run) -> Run:
    """`run` with the cache's newer figures of its current attempt laid over the row's
    (not saved)."""
    if run.status != RunStatus.RUNNING:
        return run
    live = snapshot_read(run.pk)
    if live is None or live.attempt != run.attempts:
        return run
    if run.heartbeat_at is None or live.at >= run.heartbeat_at.timestamp():
        run.done, run.total, run.message = live.done, live.total, live.message
    return run


def heartbeat_seen(run: Run) -> datetime | None:
    """The later of the row's heartbeat and the cache's, for the stale check."""
    seen = run.heartbeat_at
    live = snapshot_read(run.pk)
    if live is not None and live.attempt == run.attempts:
        at = datetime.fromtimestamp(live.at, tz=timezone.get_current_timezone())
        if seen is None or at > seen:
            seen = at
    return seen


class Progress:
    """The progress of one attempt at one run."""

    def __init__(self, run: Run) -> None:
        self.run_id = run.pk
        self.attempt = run.attempts
        self.done = 0
        self.total = 0
        self.message = ""
        # The transaction depth the handler starts at: deeper means inside its own.
        self._depth = len(connection.savepoint_ids) if connection.in_atomic_block else -1
        self._row_at = 0.0
        self._cache_at = 0.0

    def start(self, total: int, message: str = "") -> None:
        """A new phase of `total` steps (replaces the previous figures)."""
        self.total = max(0, int(total))
        self.done = 0
        self.message = message or self.message
        self._report(force=True)

    def advance(self, steps: int = 1, message: str | None = None) -> None:
        self.done = min(self.total, self.done + steps) if self.total else self.done + steps
        if message is not None:
            self.message = message
        self._report()

    def note(self, message: str) -> None:
        """A new message, same figures."""
        self.message = message
        self._report(force=True)

    def _outside_handler_transaction(self) -> bool:
        depth = len(connection.savepoint_ids) if connection.in_atomic_block else -1
        return depth == self._depth

    def _report(self, *, force: bool = False) -> None:
        now = time.time()
        total = max(self.total, self.done)
        if force or now - self._cache_at >= CACHE_EVERY:
            self._cache_at = now
            try:
                cache.set(
                    cache_key(self.run_id),
                    {
                        "attempt": self.attempt,
                        "done": self.done,
                        "total": total,
                        "message": self.message[:300],
                        "at": now,
                    },
                    CACHE_SECONDS,
                )
            except Exception:
                logger.warning("background progress cache unavailable", exc_info=True)
        if (force or now - self._row_at >= ROW_EVERY) and self._outside_handler_transaction():
            self._row_at = now
            self.row_write(total=total)

    def row_write(self, *, total: int | None = None) -> None:
        """Write the figures and the heartbeat to the row while this attempt owns it."""
        moved = Run.objects.filter(
            pk=self.run_id, status=RunStatus.RUNNING, attempts=self.attempt
        ).update(
            done=self.done,
            total=max(self.total, self.done) if total is None else total,
            message=self.message[:300],
            heartbeat_at=timezone.now(),
        )
        if moved != 1:
            raise RunSuperseded(f"background run {self.run_id} attempt {self.attempt}")
