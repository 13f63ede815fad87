from django.urls import path

from kejiyun.demands import views

app_name = "demands"

urlpatterns = [
    path("", views.hall, name="hall"),
    path("mine/", views.mine, name="mine"),
    path("new/", views.mine_new, name="mine_new"),
    # One address per demand: its owner's page for the enterprise, the public page for
    # everyone else (`views.detail` decides). Both names reverse to it.
    path("<int:demand_id>/", views.detail, name="detail"),
    path("<int:demand_id>/", views.detail, name="mine_detail"),
    path("<int:demand_id>/edit/", views.mine_edit, name="mine_edit"),
    path("<int:demand_id>/submit/", views.mine_submit, name="mine_submit"),
    path("<int:demand_id>/withdraw/", views.mine_withdraw, name="mine_withdraw"),
    path("staff/", views.staff_demands, name="staff_list"),
    path("staff/review/", views.staff_review_queue, name="staff_review_queue"),
    path("staff/<int:demand_id>/", views.staff_demand_detail, name="staff_detail"),
    path("staff/<int:demand_id>/return/", views.staff_return, name="staff_return"),
]
