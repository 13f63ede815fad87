"""Half-year work reports (工作汇报) filed by county and city centres: /ops/reports/."""

from __future__ import annotations

from django.urls import path

from kejiyun.ops.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("new/", views.report_new, name="new"),
    path("<int:report_id>/", views.report_page, name="detail"),
    path("<int:report_id>/edit/", views.report_edit, name="edit"),
    path("<int:report_id>/submit/", views.report_submit_view, name="submit"),
    path("<int:report_id>/accept/", views.report_accept_view, name="accept"),
    path("<int:report_id>/return/", views.report_return_view, name="return"),
    path("<int:report_id>/comment/", views.report_comment_view, name="comment"),
]
