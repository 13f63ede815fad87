from django.contrib import admin

from kejiyun.common.admin_masking import MaskedAdminMixin
from kejiyun.talent.models import Discipline, Industry, Resource, TalentProfile, Team, TechResult


@admin.register(TalentProfile)
class TalentProfileAdmin(MaskedAdminMixin, admin.ModelAdmin):
    masked_fields = ["employer", "fields", "keywords", "capability"]
    list_display = ["user", "title", "employer", "region", "verified", "created_at"]
    list_filter = ["verified", "title", "region__parent"]
    search_fields = ["user__display_name", "employer", "fields", "keywords"]
    raw_id_fields = ["user", "region", "verified_by"]
    autocomplete_fields = ["disciplines", "industries"]
    filter_horizontal = ["regions_served"]
    readonly_fields = ["verified", "verified_by", "verified_at", "version", "id_number_shown"]
    exclude = ["id_number_sealed", "id_number_hash"]
    list_select_related = ["user", "region"]

    @admin.display(description="身份证号")
    def id_number_shown(self, obj: TalentProfile) -> str:
        return obj.id_number_masked() or "—"


@admin.register(Discipline)
class DisciplineAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "department", "is_leaf"]
    list_filter = ["level", "department"]
    search_fields = ["code", "name", "name_en"]


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level_name", "section"]
    list_filter = ["level", "section"]
    search_fields = ["code", "name"]


@admin.register(Team)
class TeamAdmin(MaskedAdminMixin, admin.ModelAdmin):
    masked_fields = ["description"]
    list_display = ["name", "kind", "lead", "region", "created_at"]
    list_filter = ["kind", "region__parent"]
    search_fields = ["name", "fields", "keywords"]
    raw_id_fields = ["lead", "members", "host_organisation", "region"]
    list_select_related = ["lead__user", "region"]


@admin.register(TechResult)
class TechResultAdmin(MaskedAdminMixin, admin.ModelAdmin):
    masked_fields = ["title", "description"]
    list_display = ["title", "kind", "identifier", "year", "for_transfer"]
    list_filter = ["kind", "for_transfer"]
    search_fields = ["title", "identifier", "fields"]
    raw_id_fields = ["owner_profile", "owner_team"]


@admin.register(Resource)
class ResourceAdmin(MaskedAdminMixin, admin.ModelAdmin):
    masked_fields = ["address"]
    list_display = ["name", "kind", "region", "created_at"]
    list_filter = ["kind", "region__parent"]
    search_fields = ["name", "host_name", "fields"]
    raw_id_fields = ["host_organisation", "region", "experts"]
    list_select_related = ["region"]
