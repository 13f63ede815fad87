from django.urls import path

from bench.anchor.rows import views

urlpatterns = [path("", views.row_list, name="row_list")]
