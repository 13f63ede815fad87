"""Fund allocations (资金分配): list, create, the proposal with its breakdowns, what-if,
approval by a second person, and the .xlsx and PDF exports."""

from __future__ import annotations

from django.urls import path

from kejiyun.performance.allocations import views

app_name = "allocations"

urlpatterns = [
    path("", views.allocation_list, name="list"),
    path("new/", views.allocation_new, name="new"),
    path("<int:allocation_id>/", views.allocation_detail, name="detail"),
    path("<int:allocation_id>/edit/", views.allocation_edit, name="edit"),
    path(
        "<int:allocation_id>/centres/<int:centre_id>/bounds/",
        views.allocation_bounds,
        name="bounds",
    ),
    path("<int:allocation_id>/recompute/", views.allocation_recompute_view, name="recompute"),
    path("<int:allocation_id>/submit/", views.allocation_submit_view, name="submit"),
    path("<int:allocation_id>/approve/", views.allocation_approve_view, name="approve"),
    path("<int:allocation_id>/return/", views.allocation_return_view, name="return"),
    path("<int:allocation_id>/whatif/", views.allocation_whatif_view, name="whatif"),
    path("<int:allocation_id>/export/xlsx/", views.allocation_xlsx_view, name="xlsx"),
    path("<int:allocation_id>/export/pdf/", views.allocation_pdf_view, name="pdf"),
]
