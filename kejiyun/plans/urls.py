from django.urls import path

from kejiyun.plans import views

app_name = "plans"

urlpatterns = [
    path("", views.plan_list, name="list"),
    path("mine/", views.plan_mine, name="mine"),
    path("<int:plan_id>/", views.plan_detail, name="detail"),
    path("<int:plan_id>/needs/", views.plan_need_add_view, name="need_add"),
    path("<int:plan_id>/needs/<int:need_id>/met/", views.plan_need_meet_view, name="need_meet"),
    path("<int:plan_id>/actions/", views.plan_action_add_view, name="action_add"),
    path(
        "<int:plan_id>/actions/<int:action_id>/done/",
        views.plan_action_complete_view,
        name="action_complete",
    ),
    path("<int:plan_id>/followups/", views.plan_followup_add_view, name="followup_add"),
    path("<int:plan_id>/reassign/", views.plan_reassign_view, name="reassign"),
    path("verify/<int:profile_id>/", views.worker_verify_view, name="verify_worker"),
]
