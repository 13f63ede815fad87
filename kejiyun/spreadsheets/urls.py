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
]
