"""Detector skeleton: to be written (issue 12)."""

from __future__ import annotations

from kejiyun.integrity.rows import Finding, Snapshot


def detect(snapshot: Snapshot) -> list[Finding]:
    raise NotImplementedError
