from django.contrib import admin

from kejiyun.common.admin_masking import MaskedAdminMixin
from kejiyun.popsci.models import (
    Activity,
    Article,
    Campaign,
    CitizenProfile,
    ConsentRecord,
    ContentEvent,
    ContentVersion,
    QuizQuestion,
    ReadEvent,
)


class ContentEventInline(MaskedAdminMixin, admin.TabularInline):
    masked_fields = ["reason"]
    model = ContentEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "from_status", "to_status", "actor", "reason"]
    readonly_fields = ["created_at", "from_status", "to_status", "actor", "reason"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Article)
class ArticleAdmin(MaskedAdminMixin, admin.ModelAdmin):
    masked_fields = ["body"]
    list_display = ["title", "topic", "region", "status", "published_at"]
    list_filter = ["status", "topic"]
    search_fields = ["title", "summary", "body"]
    raw_id_fields = ["region"]
    list_select_related = ["region"]
    # Publication goes through science review (科学性审核) only, never the admin.
    readonly_fields = ["status", "published_at", "version", "reviewer", "review_note"]
    inlines = [ContentEventInline]


@admin.register(ContentVersion)
class ContentVersionAdmin(MaskedAdminMixin, admin.ModelAdmin):
    masked_fields = ["body"]
    list_display = ["article", "number", "published_at", "reviewer"]
    search_fields = ["title"]
    readonly_fields = ["article", "number", "title", "body", "snapshot", "reviewer", "published_at"]


@admin.register(QuizQuestion)
class QuizQuestionAdmin(admin.ModelAdmin):
    list_display = ["text", "article", "order"]
    search_fields = ["text", "article__title"]
    raw_id_fields = ["article"]


@admin.register(CitizenProfile)
class CitizenProfileAdmin(admin.ModelAdmin):
    list_display = ["region_code", "occupation", "age_band", "targeting_consent", "updated_at"]
    list_filter = ["occupation", "age_band", "targeting_consent"]
    search_fields = ["region_code"]
    raw_id_fields = ["user", "region"]
    # Consent changes only through the citizen's own one-click grant or withdrawal.
    readonly_fields = ["targeting_consent", "consent_version"]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    list_display = ["citizen", "version", "granted", "created_at"]
    list_filter = ["granted", "version"]
    readonly_fields = ["citizen", "version", "granted", "created_at"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["title", "channel", "region", "status", "audience_size", "sent_at"]
    list_filter = ["status", "channel"]
    search_fields = ["title"]
    raw_id_fields = ["article", "region", "centre", "created_by"]
    readonly_fields = ["status", "sent_at", "audience_size"]


@admin.register(ReadEvent)
class ReadEventAdmin(admin.ModelAdmin):
    list_display = ["article", "opened_at", "finished_at", "flagged", "flag_reason"]
    list_filter = ["flagged"]
    raw_id_fields = ["article", "user", "campaign"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["title", "region", "starts_at", "capacity", "centre"]
    list_filter = ["starts_at"]
    search_fields = ["title", "place"]
    raw_id_fields = ["region", "centre"]
