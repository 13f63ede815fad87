"""The ops app's periodic tasks, found here by Celery's autodiscovery (and the in-process
runner); each feature keeps its own in its subpackage."""

from __future__ import annotations

from kejiyun.ops.reports.tasks import remind_work_reports

__all__ = ["remind_work_reports"]
