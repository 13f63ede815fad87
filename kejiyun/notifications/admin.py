import re

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from kejiyun.common.masking import mask_mobile
from kejiyun.notifications.models import InboxItem, OutboxMessage, SmsMessage


def normalise_mobile(raw: str) -> str:
    """Spaces, dashes and a +86/0086 prefix off (accounts' normaliser; this layer is below)."""
    value = re.sub(r"[\s-]", "", raw)
    return value.removeprefix("+86").removeprefix("0086")


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
    # Nothing readable about who it goes to: the address is sealed and never shown.
    exclude = ["address_sealed", "body"]
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
class SmsMessageAdmin(admin.ModelAdmin):
    """When messages went out and to a masked number: never the text (it may carry a code)
    nor the full number. A search finds a number's messages by its exact value (keyed hash)."""

    list_display = ["created_at", "masked_mobile"]
    fields = ["created_at", "masked_mobile"]
    readonly_fields = ["created_at", "masked_mobile"]
    search_fields = ["created_at"]  # the search box; the hash lookup is in get_search_results
    search_help_text = "输入完整的11位手机号查找发给该号码的短信。"

    @admin.display(description="手机号")
    def masked_mobile(self, obj: SmsMessage) -> str:
        return mask_mobile(obj.mobile)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[SmsMessage], search_term: str
    ) -> tuple[QuerySet[SmsMessage], bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.for_mobile(normalise_mobile(search_term)), False  # type: ignore[attr-defined]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
