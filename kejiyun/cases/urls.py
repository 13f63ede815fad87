"""The one URLconf of the cases app (namespace `cases`): the workflow's pages, the files' and
the dockings'."""

from django.urls import path

from kejiyun.cases.dockings import views as dockings
from kejiyun.cases.files import views as files
from kejiyun.cases.workflow import views as workflow

app_name = "cases"

urlpatterns = [
    path("", workflow.queue, name="queue"),
    path("reassign/", workflow.bulk_reassign, name="bulk_reassign"),
    path("open/<int:demand_id>/", workflow.open_from_demand, name="open_from_demand"),
    path("<int:case_id>/", workflow.detail, name="detail"),
    path("<int:case_id>/transition/", workflow.transition, name="transition"),
    path("<int:case_id>/pause/", workflow.pause, name="pause"),
    path("<int:case_id>/resume/", workflow.resume, name="resume"),
    path("<int:case_id>/outcome/", workflow.outcome, name="outcome"),
    path("<int:case_id>/assign/", workflow.assign, name="assign"),
    path("<int:case_id>/notes/", workflow.note, name="note"),
    path("<int:case_id>/visits/", workflow.visit, name="visit"),
    # A case's private files: sent only to those who may see the case (cases.files).
    path("<int:case_id>/attachments/", files.attachment_upload, name="attachment"),
    path(
        "<int:case_id>/attachments/<int:attachment_id>/",
        files.attachment_download,
        name="attachment_download",
    ),
    path("<int:case_id>/evidence/", files.evidence_download, name="evidence"),
    path("<int:case_id>/dockings/", dockings.docking_send, name="docking_send"),
    path(
        "<int:case_id>/dockings/<int:docking_id>/decide/",
        dockings.docking_decide,
        name="docking_decide",
    ),
    path("apply/<int:demand_id>/", dockings.docking_apply, name="docking_apply"),
    path("mine/<int:case_id>/ask/", dockings.docking_ask, name="docking_ask"),
    path("mine/", workflow.enterprise_list, name="enterprise_list"),
    path("mine/<int:case_id>/", workflow.enterprise_detail, name="enterprise_detail"),
    path("mine/<int:case_id>/confirm/", workflow.enterprise_confirm, name="enterprise_confirm"),
    path("mine/<int:case_id>/dispute/", workflow.enterprise_dispute, name="enterprise_dispute"),
    path(
        "mine/<int:case_id>/library/",
        workflow.enterprise_library_consent,
        name="enterprise_library_consent",
    ),
    path("dockings/", dockings.dockings, name="dockings"),
    path("dockings/<int:docking_id>/", dockings.docking_reply, name="docking_reply"),
]
