from django.urls import path

from kejiyun.popsci import views

app_name = "popsci"

urlpatterns = [
    path("", views.article_list, name="list"),
    path("<int:article_id>/", views.article_detail, name="detail"),
]
