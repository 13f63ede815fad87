"""Rebuilding operations data from a staff page: /ops/rollups/."""

from __future__ import annotations

from django.urls import path

from kejiyun.ops.rebuild import views

app_name = "rebuild"

urlpatterns = [
    path("rollups/", views.rollups_rebuild, name="rollups"),
]
