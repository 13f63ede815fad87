from django.contrib import admin

from kejiyun.common.admin_masking import MaskedAdminMixin
from kejiyun.plans.models import PlanAction, PlanFollowUp, PlanNeed, ServicePlan


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


class PlanNeedInline(MaskedAdminMixin, _ReadOnlyInline):
    masked_fields = ["description"]
    model = PlanNeed
    fields = ["kind", "description", "status", "created_at"]


class PlanActionInline(MaskedAdminMixin, _ReadOnlyInline):
    masked_fields = ["title"]
    model = PlanAction
    fields = ["title", "due_on", "done_at", "done_by"]


class PlanFollowUpInline(MaskedAdminMixin, _ReadOnlyInline):
    masked_fields = ["note"]
    model = PlanFollowUp
    fields = ["happened_on", "author", "note"]


@admin.register(ServicePlan)
class ServicePlanAdmin(admin.ModelAdmin):
    """Read-only: plans change through the plan page, whose services check the version."""

    list_display = ["profile", "centre", "owner", "version", "created_at"]
    list_filter = ["centre__region__parent"]
    search_fields = ["profile__user__display_name"]
    list_select_related = ["profile__user", "centre", "owner"]
    readonly_fields = ["profile", "centre", "owner", "version", "created_at", "updated_at"]
    inlines = [PlanNeedInline, PlanActionInline, PlanFollowUpInline]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
