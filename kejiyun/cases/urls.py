from django.urls import path

from kejiyun.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("reassign/", views.bulk_reassign, name="bulk_reassign"),
    path("open/<int:demand_id>/", views.open_from_demand, name="open_from_demand"),
    path("<int:case_id>/", views.detail, name="detail"),
    path("<int:case_id>/transition/", views.transition, name="transition"),
    path("<int:case_id>/pause/", views.pause, name="pause"),
    path("<int:case_id>/resume/", views.resume, name="resume"),
    path("<int:case_id>/outcome/", views.outcome, name="outcome"),
    path("<int:case_id>/assign/", views.assign, name="assign"),
    path("<int:case_id>/notes/", views.note, name="note"),
    path("<int:case_id>/visits/", views.visit, name="visit"),
    path("<int:case_id>/attachments/", views.attachment, name="attachment"),
    path(
        "<int:case_id>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment_download",
    ),
    path("<int:case_id>/evidence/", views.evidence_download, name="evidence"),
    path("<int:case_id>/dockings/", views.docking_send, name="docking_send"),
    path("mine/", views.enterprise_list, name="enterprise_list"),
    path("mine/<int:case_id>/", views.enterprise_detail, name="enterprise_detail"),
    path("mine/<int:case_id>/confirm/", views.enterprise_confirm, name="enterprise_confirm"),
    path("mine/<int:case_id>/dispute/", views.enterprise_dispute, name="enterprise_dispute"),
    path("dockings/", views.dockings, name="dockings"),
    path("dockings/<int:docking_id>/", views.docking_reply, name="docking_reply"),
]
