from django.contrib import admin

from kejiyun.popsci.models import Article


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "topic", "region", "status", "published_at"]
    list_filter = ["status", "topic"]
    search_fields = ["title", "summary", "body"]
    raw_id_fields = ["region"]
    list_select_related = ["region"]
