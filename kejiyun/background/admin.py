from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from kejiyun.background.models import Run


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    """Read-only: runs move only through their services (and their parameters are ids)."""

    list_display = ["id", "title", "kind", "owner", "status", "done", "total", "created_at"]
    list_filter = ["status", "kind"]
    fields = readonly_fields = (
        "kind",
        "title",
        "owner",
        "status",
        "done",
        "total",
        "message",
        "params",
        "result_url",
        "result_name",
        "error",
        "attempts",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Run | None = None) -> bool:
        return False
