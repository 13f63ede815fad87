"""Public case library pages."""

from django.urls import path

from kejiyun.recognition.library import views

app_name = "library"

urlpatterns = [
    path("", views.library, name="list"),
    path("<int:case_id>/", views.detail, name="detail"),
]
