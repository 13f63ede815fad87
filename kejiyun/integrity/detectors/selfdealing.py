"""Placeholder on branch integ: the `detect` branch writes this detector, and its version of
this file replaces this one at merge. Until then it finds nothing."""

from __future__ import annotations

from kejiyun.integrity.rows import Finding, Snapshot


def detect(snapshot: Snapshot) -> list[Finding]:
    return []
