from django.urls import path

from kejiyun.registration import views

app_name = "registration"

# Mounted at accounts/register/ by kejiyun/urls.py, so the public paths are unchanged.
urlpatterns = [
    path("", views.register_choose, name="choose"),
    path("<slug:kind>/", views.register, name="register"),
]
