from django.urls import path

from kejiyun.talent import views

app_name = "talent"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("staff/", views.staff_talent, name="staff_list"),
    path("staff/<int:profile_id>/", views.staff_talent_detail, name="staff_detail"),
]
