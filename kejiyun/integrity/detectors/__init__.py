"""The detectors, one module per kind of gaming. Each is a pure function
`detect(snapshot: Snapshot) -> list[Finding]` (see `kejiyun/integrity/rows.py`)."""

from __future__ import annotations

from collections.abc import Callable

from kejiyun.integrity.detectors import (
    demands,
    hollow,
    quota,
    reading,
    rings,
    selfdealing,
)
from kejiyun.integrity.models import Kind
from kejiyun.integrity.rows import Finding, Snapshot

Detector = Callable[[Snapshot], list[Finding]]

DETECTORS: dict[Kind, Detector] = {
    Kind.DUPLICATE_DEMAND: demands.detect,
    Kind.SCRIPTED_READING: reading.detect,
    Kind.QUOTA_ACCOUNT: quota.detect,
    Kind.SELF_DEALING: selfdealing.detect,
    Kind.HOLLOW_CLOSURE: hollow.detect,
    Kind.RATING_RING: rings.detect,
}


def detect_all(snapshot: Snapshot) -> list[Finding]:
    """Every detector's findings for `snapshot`, in the order of DETECTORS."""
    out: list[Finding] = []
    for detector in DETECTORS.values():
        out.extend(detector(snapshot))
    return out
