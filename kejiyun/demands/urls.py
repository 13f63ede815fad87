from django.urls import path

from kejiyun.demands import views

app_name = "demands"

urlpatterns = [
    path("", views.hall, name="hall"),
    path("staff/", views.staff_demands, name="staff_list"),
]
