from django.urls import path

from kejiyun.regions import views

app_name = "regions"

urlpatterns = [
    path("children/", views.children, name="roots"),
    path("children/<str:code>/", views.children, name="children"),
    path("search/", views.search, name="search"),
]
