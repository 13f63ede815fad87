from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from kejiyun.spreadsheets.models import ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """Read-only: the stored rows hold personal data and are not shown."""

    list_display = ["id", "kind", "user", "row_count", "created_at", "applied_at"]
    list_filter = ["kind"]
    fields = readonly_fields = (
        "kind",
        "user",
        "sha256",
        "filename",
        "row_count",
        "created_at",
        "applied_at",
        "result",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ImportBatch | None = None) -> bool:
        return False
