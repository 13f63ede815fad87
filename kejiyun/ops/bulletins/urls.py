"""Bulletins (通报): figures, ranking, lagging centres and commentary, as PDF and Excel."""

from __future__ import annotations

from django.urls import path

from kejiyun.ops.bulletins import views

app_name = "bulletins"

urlpatterns = [
    path("", views.bulletin_list, name="list"),
    path("new/", views.bulletin_new, name="new"),
    path("<int:bulletin_id>/", views.bulletin_detail, name="detail"),
    path("<int:bulletin_id>/edit/", views.bulletin_edit, name="edit"),
    path("<int:bulletin_id>/submit/", views.bulletin_submit_view, name="submit"),
    path("<int:bulletin_id>/approve/", views.bulletin_approve_view, name="approve"),
    path("<int:bulletin_id>/return/", views.bulletin_return_view, name="return"),
    path("<int:bulletin_id>/pdf/", views.bulletin_pdf_view, name="pdf"),
    path("<int:bulletin_id>/xlsx/", views.bulletin_xlsx_view, name="xlsx"),
]
