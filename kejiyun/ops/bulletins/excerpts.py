"""Excerpts of the work reports (工作汇报) of the centres one level down, for a bulletin."""

from __future__ import annotations

from typing import Any

from kejiyun.ops.periods import Period
from kejiyun.regions.models import Region


def report_excerpts(*, region: Region, period: Period) -> list[dict[str, Any]]:
    """[{"code", "name", "difficulties", "plans"}] for each centre one level down that filed
    a work report for `period`. Work reports are not on this branch yet: none."""
    return []
