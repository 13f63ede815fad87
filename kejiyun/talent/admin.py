from django.contrib import admin

from kejiyun.talent.models import TalentProfile


@admin.register(TalentProfile)
class TalentProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "title", "employer", "region", "verified", "created_at"]
    list_filter = ["verified", "title", "region__parent"]
    search_fields = ["user__display_name", "employer", "fields", "keywords"]
    raw_id_fields = ["user", "region"]
    list_select_related = ["user", "region"]
