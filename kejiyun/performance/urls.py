from django.urls import include, path

app_name = "performance"

urlpatterns = [
    path("schemes/", include("kejiyun.performance.schemes.urls")),
    path("allocations/", include("kejiyun.performance.allocations.urls")),
]
