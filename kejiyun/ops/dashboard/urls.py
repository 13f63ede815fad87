from __future__ import annotations

from django.urls import path, re_path

from kejiyun.ops.dashboard import views

urlpatterns = [
    path("", views.dashboard_home, name="dashboard_home"),
    re_path(r"^(?P<code>\d{6})/$", views.dashboard, name="dashboard"),
    re_path(r"^(?P<code>\d{6})/map\.json$", views.dashboard_map, name="dashboard_map"),
]
