"""Headline security figures (docs/security.md): a test that measures one records it here,
and `make test` prints them all at the end (tools/security_figures.py).

Each figure is one JSON file in var/security-figures/, named after the figure, so tests on
either xdist worker can write theirs; `make test` empties the folder before the suites run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIGURES_DIR = Path(__file__).resolve().parent.parent / "var" / "security-figures"


def record_figure(name: str, value: Any, *, target: str, detail: str = "", **extra: Any) -> None:
    """Record figure `name` (a short snake_case key) with its measured `value`, the `target`
    it is held to (in words, e.g. "0" or "all of ≥ 10,000") and a one-line `detail`."""
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    payload = {"name": name, "value": value, "target": target, "detail": detail, **extra}
    (FIGURES_DIR / f"{name}.json").write_text(
        json.dumps(payload, ensure_ascii=False, sort_keys=True), encoding="utf-8"
    )
