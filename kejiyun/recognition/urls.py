"""Recognition pages (典型选树): batches, applications, review, public notice and results."""

from django.urls import include, path

from kejiyun.recognition import views

app_name = "recognition"

urlpatterns = [
    path("", views.batch_list, name="batches"),
    path("batches/<int:batch_id>/", views.batch_detail, name="batch"),
    path("batches/<int:batch_id>/notice/", views.batch_notice, name="notice"),
    path("batches/<int:batch_id>/results/", views.batch_results, name="results"),
    path("batches/<int:batch_id>/apply/", views.apply, name="apply"),
    path("mine/", views.mine, name="mine"),
    path("applications/<int:application_id>/", views.application_detail, name="application"),
    path(
        "applications/<int:application_id>/edit/",
        views.application_edit,
        name="application_edit",
    ),
    path(
        "applications/<int:application_id>/move/",
        views.application_move_view,
        name="application_move",
    ),
    path(
        "applications/<int:application_id>/attachments/",
        views.attachment_upload,
        name="attachment_upload",
    ),
    path(
        "applications/<int:application_id>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
    path(
        "applications/<int:application_id>/attachments/<int:attachment_id>/delete/",
        views.attachment_delete,
        name="attachment_delete",
    ),
    path("queue/", views.queue, name="queue"),
    path("manage/", views.manage, name="manage"),
    path("manage/new/", views.batch_new, name="batch_new"),
    path("manage/<int:batch_id>/", views.batch_manage, name="batch_manage"),
    path("manage/<int:batch_id>/edit/", views.batch_edit, name="batch_edit"),
    path("manage/<int:batch_id>/criteria/", views.batch_criteria, name="batch_criteria"),
    path("manage/<int:batch_id>/move/", views.batch_move, name="batch_move"),
    path("manage/<int:batch_id>/notice/", views.batch_notice_start_view, name="batch_notice_start"),
    path("manage/<int:batch_id>/finalise/", views.batch_finalise_view, name="batch_finalise"),
    path("manage/objections/<int:objection_id>/", views.objection_page, name="objection"),
    path("review/", include("kejiyun.recognition.review.urls")),
    path("library/", include("kejiyun.recognition.library.urls")),
]
