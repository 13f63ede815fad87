from django.urls import path

from kejiyun.privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.my_data, name="my_data"),
    path("export/<str:fmt>/", views.export, name="export"),
    path("correct/", views.correct, name="correct"),
    path("mobile/", views.change_mobile, name="mobile"),
    path("withdraw/", views.withdraw, name="withdraw"),
    path("cancel/", views.cancel, name="cancel"),
]
