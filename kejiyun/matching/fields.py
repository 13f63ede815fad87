"""Fields for structured fit: disciplines (NSFC) and industries (GB/T 4754) as paths the
engine compares, given or inferred from text; and the place names the engine must treat as
places, not as terms.

A profile or demand that names its disciplines or industries is taken at its word. One that
names none gets them inferred: the classes whose names (and, for industries, the standard's
description of what they cover) share real terms with its text, best first, kept only when
they share at least one term that could be shown as a reason (not boilerplate, not a place).

The classification tables are static after loading, so each process builds the inference
index once and keeps it (`classes()`); it looks at the tables' sizes again after
`RECHECK_SECONDS` and rebuilds when they changed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kejiyun.regions.models import Region
from kejiyun.talent.models import Discipline, Industry
from kejiyun_match import Engine, MatchQuery, Profile

# An inferred class must reach this BM25 score over the class texts: one rare shared term
# (a crop, a product, a process) reaches it; a shared common word alone does not.
_MIN_SCORE = 4.0
_INFER = 1  # classes inferred per text at most: the second guess was mostly wrong


def _path(code: str, parents: Mapping[str, str | None], *, skip_top: bool = False) -> str:
    chain = [code]
    parent = parents.get(code)
    while parent:
        chain.append(parent)
        parent = parents.get(parent)
    chain.reverse()
    if skip_top and len(chain) > 1:  # GB/T 门类 (a letter): too broad to count as a fit
        chain = chain[1:]
    return "/".join(chain)


@dataclass
class Classes:
    """Paths of every discipline and industry, lookup by name, and inference from text."""

    discipline_paths: dict[str, str] = field(default_factory=dict)
    industry_paths: dict[str, str] = field(default_factory=dict)
    industry_by_name: dict[str, str] = field(default_factory=dict)
    discipline_by_name: dict[str, str] = field(default_factory=dict)
    _disciplines: Engine | None = None
    _industries: Engine | None = None
    size: tuple[int, int] = (0, 0)

    def discipline_path(self, code: str) -> str:
        return self.discipline_paths.get(code, code)

    def industry_path(self, code: str) -> str:
        return self.industry_paths.get(code, code)

    def industry_of_name(self, name: str) -> str | None:
        """The industry path of an exact Chinese name ("蔬菜加工"), or None."""
        code = self.industry_by_name.get(name.strip())
        return self.industry_paths[code] if code else None

    def _infer(self, engine: Engine | None, paths: dict[str, str], text: str) -> tuple[str, ...]:
        if engine is None or not text.strip():
            return ()
        found = []
        for result in engine.search(MatchQuery(text=text), top_k=_INFER):
            ex = result.explanation
            if ex.lexical >= _MIN_SCORE and ex.matched_terms:
                found.append(paths[result.id])
        return tuple(found)

    def infer_disciplines(self, text: str) -> tuple[str, ...]:
        return self._infer(self._disciplines, self.discipline_paths, text)

    def infer_industries(self, text: str) -> tuple[str, ...]:
        return self._infer(self._industries, self.industry_paths, text)


def _build() -> Classes:
    classes = Classes()
    d_rows = list(Discipline.objects.values_list("code", "name", "parent_id", "level"))
    i_rows = list(Industry.objects.values_list("code", "name", "parent_id", "level", "description"))
    classes.size = (len(d_rows), len(i_rows))
    d_parents = {code: parent for code, _, parent, _ in d_rows}
    i_parents = {code: parent for code, _, parent, _, _ in i_rows}
    classes.discipline_paths = {code: _path(code, d_parents) for code in d_parents}
    classes.industry_paths = {code: _path(code, i_parents, skip_top=True) for code in i_parents}
    for code, name, _, _level in sorted(d_rows, key=lambda r: -r[3]):
        classes.discipline_by_name.setdefault(name, code)
    for code, name, _, _level, _ in sorted(i_rows, key=lambda r: -r[3]):
        classes.industry_by_name.setdefault(name.strip(), code)
    places = place_names()
    if d_rows:
        engine = Engine(place_names=places)
        # Disciplines below the top level: "食品发酵与酿造", "茶学", "果树学"…
        engine.add(Profile(id=code, text=name) for code, name, _, level in d_rows if level >= 2)
        engine.commit()
        classes._disciplines = engine
    if i_rows:
        engine = Engine(place_names=places)
        # Industry groups and classes (中类, 小类) with what the standard says they cover.
        engine.add(
            Profile(id=code, text=f"{name}\n{name}\n{description}")
            for code, name, _, level, description in i_rows
            if level >= 3
        )
        engine.commit()
        classes._industries = engine
    return classes


RECHECK_SECONDS = 600.0
_lock = threading.Lock()
_cached: Classes | None = None
_checked_at = 0.0


def classes() -> Classes:
    """The process's classification index (no query while it is fresh), rebuilt when the
    tables' sizes changed."""
    global _cached, _checked_at
    with _lock:
        now = time.monotonic()
        if _cached is not None and now - _checked_at < RECHECK_SECONDS:
            return _cached
        size = (Discipline.objects.count(), Industry.objects.count())
        if _cached is None or _cached.size != size:
            _cached = _build()
        _checked_at = now
        return _cached


def classes_reset() -> None:
    """Forget the process's classification index (tests that change the tables)."""
    global _cached
    with _lock:
        _cached = None


_SUFFIXES = ("自治州", "自治县", "地区", "街道", "省", "市", "区", "县", "州", "镇", "乡")


def place_names() -> set[str]:
    """Names of the province, cities and counties, with and without their suffix ("双流区"
    and "双流"). Township names are left out: many are ordinary words (茶园, 白马)."""
    names: set[str] = set()
    rows: Iterable[str] = Region.objects.exclude(level=Region.Level.TOWNSHIP).values_list(
        "name", flat=True
    )
    for name in rows:
        names.add(name)
        for suffix in _SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                names.add(name[: -len(suffix)])
                break
    return {n for n in names if len(n) >= 2}
