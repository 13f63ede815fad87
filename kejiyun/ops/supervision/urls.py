"""Supervision of every centre, the escalation inbox and the supply-demand gap."""

from django.urls import path

from kejiyun.ops.supervision import views

urlpatterns = [
    path("escalations/", views.escalations, name="escalations"),
    path("<str:code>/supervision/", views.supervision, name="supervision"),
    path("<str:code>/gap/", views.gap, name="gap"),
    path("<str:code>/gap.json", views.gap_json, name="gap_json"),
]
