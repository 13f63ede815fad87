from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from kejiyun.cases.models import Case, CaseEvent
from kejiyun.common.admin_masking import MaskedAdminMixin


class CaseEventInline(MaskedAdminMixin, admin.TabularInline):
    masked_fields = ["reason"]
    model = CaseEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "actor", "kind", "from_step", "to_step", "reason")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Case)
class CaseAdmin(MaskedAdminMixin, admin.ModelAdmin):
    masked_fields = ["pause_reason", "outcome_reason", "rating_comment"]
    """Read-only: cases move only through the services (their transition table and events)."""

    list_display = ("id", "demand", "centre", "owner", "step", "due_at", "outcome")
    list_filter = ("step", "outcome")
    search_fields = ("demand__title",)
    inlines = [CaseEventInline]
    # The evidence is a private file with no URL: the admin names it and links to the
    # access-checked download instead of showing the stored field.
    exclude = ("evidence",)
    readonly_fields = ("evidence_download",)

    @admin.display(description="佐证材料")
    def evidence_download(self, obj: Case) -> str:
        if not obj.evidence:
            return "—"
        url = reverse("cases:evidence", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.evidence_name or "下载")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
