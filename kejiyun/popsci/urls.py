from django.urls import include, path

from kejiyun.popsci import views

app_name = "popsci"

urlpatterns = [
    path("", views.article_list, name="list"),
    path("<int:article_id>/", views.article_detail, name="detail"),
    # Each feature keeps its own URL module (same app namespace "popsci").
    path("", include("kejiyun.popsci.urls_content")),
    path("", include("kejiyun.popsci.urls_campaigns")),
    path("", include("kejiyun.popsci.urls_outreach")),
]
