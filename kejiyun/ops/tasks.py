"""The ops app's periodic tasks (Celery and the embedded runner find them here)."""

from kejiyun.ops.supervision.tasks import refresh_gap_coverage

__all__ = ["refresh_gap_coverage"]
