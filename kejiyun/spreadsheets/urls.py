from django.urls import URLPattern, path

import kejiyun.spreadsheets.views as views

app_name = "spreadsheets"

urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("templates/<slug:kind>.xlsx", views.template_download, name="template"),
    path("import/<slug:kind>/", views.import_upload, name="import"),
    path("import/batches/<int:batch_id>/", views.import_report, name="batch"),
    path("import/batches/<int:batch_id>/confirm/", views.import_confirm, name="confirm"),
    path("export/<slug:name>.xlsx", views.export_download, name="export"),
    path("export-requests/", views.export_requests, name="export_requests"),
    path("export-requests/<int:request_id>/", views.export_request_detail, name="export_request"),
    path(
        "export-requests/<int:request_id>/decide/",
        views.export_request_decision,
        name="export_request_decide",
    ),
    path(
        "export-requests/<int:request_id>/download.xlsx",
        views.export_request_file,
        name="export_request_download",
    ),
]
