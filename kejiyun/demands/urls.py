from django.urls import path

from kejiyun.demands import views

app_name = "demands"

urlpatterns = [
    path("", views.hall, name="hall"),
    path("staff/", views.staff_demands, name="staff_list"),
    path("staff/<int:demand_id>/", views.staff_demand_detail, name="staff_detail"),
]
