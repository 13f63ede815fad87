from django.contrib import admin

from kejiyun.common.admin_masking import MaskedAdminMixin
from kejiyun.notifications.models import InboxItem, OutboxMessage, SmsMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only view of the outbox; messages are written and sent only by services."""

    list_display = [
        "id",
        "source",
        "channel",
        "title",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "channel", "source"]
    search_fields = ["idempotency_key", "title"]
    exclude = ["address", "body"]
    raw_id_fields = ["recipient"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(InboxItem)
class InboxItemAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "created_at", "read_at"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    search_fields = ["title"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(SmsMessage)
class SmsMessageAdmin(MaskedAdminMixin, admin.ModelAdmin):
    masked_fields = ["mobile"]
    list_display = ["created_at", "body"]
    readonly_fields = ["mobile", "body", "created_at"]
