from django.urls import path

from kejiyun.integrity import views

app_name = "integrity"

urlpatterns = [
    path("", views.flag_list, name="list"),
    path("<int:flag_id>/", views.flag_detail, name="detail"),
    path("<int:flag_id>/decide/", views.flag_decide_view, name="decide"),
]
