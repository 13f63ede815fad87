"""Helpers shared by the benchmarks: data location, JSONL, timing, memory."""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The matching tasks live in the repository (bench/data/SOURCE.md); KEJIYUN_BENCH_DATA points
# the benchmarks at another copy laid out the same way.
DATA = Path(os.environ.get("KEJIYUN_BENCH_DATA", ROOT / "bench" / "data"))
CACHE = Path(os.environ.get("KEJIYUN_BENCH_CACHE", ROOT / "var" / "bench-cache"))
TASKS = ("need2cap", "reworded2cap", "problem2profile")


def read_jsonl(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def rss_mib() -> float:
    """Resident memory of this process now, in MiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")  # pragma: no cover - Linux only


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)
