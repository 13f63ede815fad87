from django.urls import path

from kejiyun.site import views

app_name = "site"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("privacy/", views.privacy, name="privacy"),
    path("centres/staff/centres/", views.staff_centres, name="staff_centres"),
]
