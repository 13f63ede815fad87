"""Schemes (考核方案): the list, drafts, publishing, the ranking and the published formula."""

from __future__ import annotations

from django.urls import path

from kejiyun.performance.schemes import views

app_name = "schemes"

urlpatterns = [
    path("", views.scheme_list, name="list"),
    path("new/", views.scheme_new, name="new"),
    path("<int:scheme_id>/", views.scheme_detail, name="detail"),
    path("<int:scheme_id>/edit/", views.scheme_edit, name="edit"),
    path("<int:scheme_id>/publish/", views.scheme_publish_view, name="publish"),
    path("<int:scheme_id>/ranking/", views.scheme_ranking, name="ranking"),
    path("<int:scheme_id>/formula/", views.scheme_formula, name="formula"),
]
