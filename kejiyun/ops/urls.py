from django.urls import include, path

app_name = "ops"

# Each feature mounts its own pages; the region pages take the region's code
# (/ops/510100/, /ops/510100/supervision/, ...).
urlpatterns = [
    path("reports/", include("kejiyun.ops.reports.urls")),
    path("bulletins/", include("kejiyun.ops.bulletins.urls")),
    path("", include("kejiyun.ops.rebuild.urls")),
    path("", include("kejiyun.ops.supervision.urls")),
    path("", include("kejiyun.ops.dashboard.urls")),
]
