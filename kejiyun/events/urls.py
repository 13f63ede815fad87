"""Service conference and docking event pages."""

from django.urls import path

from kejiyun.events import views

app_name = "events"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("<int:event_id>/", views.event_detail, name="detail"),
    path("slots/<int:slot_id>/book/", views.slot_book, name="book"),
    path("mine/", views.my_bookings, name="mine"),
    path("bookings/<int:booking_id>/cancel/", views.booking_cancel_view, name="cancel"),
    path("manage/", views.manage_list, name="manage"),
    path("manage/new/", views.event_new, name="new"),
    path("manage/<int:event_id>/", views.manage_detail, name="manage_detail"),
    path("manage/<int:event_id>/move/", views.event_move, name="move"),
    path(
        "manage/<int:event_id>/exhibits/<int:exhibit_id>/decide/",
        views.exhibit_decide_view,
        name="decide",
    ),
    path("manage/<int:event_id>/slots/new/", views.slot_new, name="slot_new"),
    path("manage/<int:event_id>/checkin/", views.check_in, name="checkin"),
    path(
        "manage/<int:event_id>/bookings/<int:booking_id>/agreement/",
        views.agreement_new,
        name="agreement",
    ),
    path("manage/<int:event_id>/report/", views.report, name="report"),
    path("manage/<int:event_id>/nominate/", views.nominate, name="nominate"),
]
