from django.urls import URLPattern, path

from kejiyun.background import views

app_name = "background"

urlpatterns: list[URLPattern] = [
    path("<int:run_id>/", views.run_page, name="run"),
    path("<int:run_id>/progress/", views.run_progress, name="progress"),
    path("<int:run_id>/retry/", views.run_retry_view, name="retry"),
    path("<int:run_id>/result/", views.run_result, name="result"),
]
