"""What experts did with earlier matches, and how it moves their ranking.

An expert who declined a kind of demand ranks lower for that kind next time; one who
accepted or solved it ranks a little higher. The effect saturates, so one event nudges
and a pattern decides:

    feedback = 0.5 * solved/(solved+1) + 0.2 * accepted/(accepted+2) - declined/(declined+1)

`kind` is whatever the platform groups demands by (category, industry or both).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Outcome(StrEnum):
    DECLINED = "declined"
    ACCEPTED = "accepted"
    SOLVED = "solved"


@dataclass
class _Counts:
    declined: int = 0
    accepted: int = 0
    solved: int = 0


@dataclass
class FeedbackStore:
    _counts: dict[tuple[str, str], _Counts] = field(default_factory=dict)

    def record(self, *, expert_id: str, kind: str, outcome: Outcome) -> None:
        counts = self._counts.setdefault((expert_id, kind), _Counts())
        if outcome is Outcome.DECLINED:
            counts.declined += 1
        elif outcome is Outcome.ACCEPTED:
            counts.accepted += 1
        else:
            counts.solved += 1

    def forget(self, expert_id: str) -> None:
        """Drop every record of an expert (their profile was deleted)."""
        for key in [k for k in self._counts if k[0] == expert_id]:
            del self._counts[key]

    def score(self, *, expert_id: str, kind: str) -> float:
        counts = self._counts.get((expert_id, kind))
        if counts is None:
            return 0.0
        return (
            0.5 * counts.solved / (counts.solved + 1)
            + 0.2 * counts.accepted / (counts.accepted + 2)
            - counts.declined / (counts.declined + 1)
        )

    def save(self, path: Path) -> None:
        rows = [
            {
                "expert": e,
                "kind": k,
                "declined": c.declined,
                "accepted": c.accepted,
                "solved": c.solved,
            }
            for (e, k), c in sorted(self._counts.items())
        ]
        path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> FeedbackStore:
        store = cls()
        for row in json.loads(path.read_text(encoding="utf-8")):
            store._counts[(row["expert"], row["kind"])] = _Counts(
                declined=row["declined"], accepted=row["accepted"], solved=row["solved"]
            )
        return store
