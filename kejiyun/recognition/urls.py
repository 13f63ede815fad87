"""Recognition pages (典型选树): batches, applications, review, public notice and results."""

from django.urls import include, path

app_name = "recognition"

urlpatterns = [
    path("review/", include("kejiyun.recognition.review.urls")),
    path("library/", include("kejiyun.recognition.library.urls")),
]
