from django.urls import path

from kejiyun.popsci.outreach import views

urlpatterns = [
    path("outcomes/", views.outcomes, name="outcomes"),
    path("activities/", views.activities, name="activities"),
    path("activities/<int:activity_id>/", views.activity_detail, name="activity_detail"),
    path(
        "activities/<int:activity_id>/signup/",
        views.activity_signup_view,
        name="activity_signup",
    ),
    path(
        "activities/<int:activity_id>/cancel/",
        views.activity_cancel_view,
        name="activity_cancel",
    ),
    path(
        "activities/<int:activity_id>/feedback/",
        views.activity_feedback_view,
        name="activity_feedback",
    ),
    path("activities/staff/", views.staff_activities, name="staff_activities"),
    path("activities/new/", views.activity_create_view, name="activity_create"),
    path(
        "activities/<int:activity_id>/check-in/",
        views.activity_checkin,
        name="activity_checkin",
    ),
]
