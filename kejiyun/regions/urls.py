from django.urls import path

from kejiyun.regions import views

app_name = "regions"

urlpatterns = [path("staff/centres/", views.staff_centres, name="staff_centres")]
