from django.contrib import admin

from kejiyun.demands.models import Demand


@admin.register(Demand)
class DemandAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "organisation",
        "category",
        "industry",
        "status",
        "region",
        "created_at",
    ]
    list_filter = ["status", "category", "industry", "region__parent"]
    search_fields = ["title", "description", "organisation__name"]
    raw_id_fields = ["organisation", "region"]
    list_select_related = ["organisation", "region"]
