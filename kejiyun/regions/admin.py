from django.contrib import admin

from kejiyun.regions.models import Region, ServiceCentre


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "kind", "parent"]
    list_filter = ["level", "kind"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    list_select_related = ["parent"]


@admin.register(ServiceCentre)
class ServiceCentreAdmin(admin.ModelAdmin):
    list_display = ["name", "region", "phone"]
    list_filter = ["region__level"]
    search_fields = ["name", "region__name", "region__code"]
    raw_id_fields = ["region"]
    list_select_related = ["region"]
