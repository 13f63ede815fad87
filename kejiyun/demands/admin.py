from django.contrib import admin

from kejiyun.common.admin_masking import MaskedAdminMixin
from kejiyun.demands.models import Demand, DemandEvent


class DemandEventInline(MaskedAdminMixin, admin.TabularInline):
    masked_fields = ["reason"]
    model = DemandEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "from_status", "to_status", "automatic", "actor", "reason"]
    readonly_fields = ["created_at", "from_status", "to_status", "automatic", "actor", "reason"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Demand)
class DemandAdmin(MaskedAdminMixin, admin.ModelAdmin):
    masked_fields = [
        "title",
        "description",
        "problem",
        "current_state",
        "target_indicators",
        "return_reasons",
    ]
    list_display = [
        "title",
        "organisation",
        "category",
        "industry",
        "status",
        "confidentiality",
        "region",
        "created_at",
    ]
    list_filter = ["status", "category", "confidentiality", "source", "industry", "region__parent"]
    search_fields = ["title", "description", "organisation__name"]
    raw_id_fields = ["organisation", "region", "created_by"]
    list_select_related = ["organisation", "region"]
    # Status and review move only through the services (kejiyun/demands/services.py), which
    # keep the transition table and write the history; the admin shows them read-only.
    readonly_fields = [
        "status",
        "return_reasons",
        "review_flags",
        "duplicate_of",
        "reviewed_by",
        "submitted_at",
        "published_at",
    ]
    inlines = [DemandEventInline]
