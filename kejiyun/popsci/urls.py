from django.urls import include, path

app_name = "popsci"

# Each feature keeps its own URL module, all under the one app namespace "popsci".
urlpatterns = [
    path("", include("kejiyun.popsci.content.urls")),
    path("", include("kejiyun.popsci.targeting.urls")),
    path("", include("kejiyun.popsci.outreach.urls")),
]
