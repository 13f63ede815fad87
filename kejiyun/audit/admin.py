from django.contrib import admin

from kejiyun.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: audit rows are written only by `audit_record`."""

    list_display = ["created_at", "action", "outcome", "user", "ip", "object_type", "object_id"]
    list_filter = ["action", "outcome"]
    search_fields = ["object_id"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
