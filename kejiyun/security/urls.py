"""The security pages (namespace `security`)."""

from django.urls import path

from kejiyun.security import views

app_name = "security"

urlpatterns = [
    path("audit/", views.audit_list, name="audit"),
    path("audit/export.xlsx", views.audit_export, name="audit_export"),
]
