"""The staff page of one organisation. It lists the organisation's demands, so demands
serves it; kejiyun/urls.py mounts it at accounts/staff/organisations/, next to the
organisations list of accounts, so its path is unchanged."""

from django.urls import path

from kejiyun.demands import views

app_name = "organisations"

urlpatterns = [
    path("<int:organisation_id>/", views.staff_organisation_detail, name="staff_detail"),
]
