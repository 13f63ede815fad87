"""Read-only admin for recognition: batches, applications and objections are changed only
through the services (pages), so the admin lists them for support and audit."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from kejiyun.recognition.models import Application, Batch, Objection


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Batch)
class BatchAdmin(ReadOnly):
    list_display = ("name", "programme", "year", "status", "opens_on", "closes_on")
    list_filter = ("programme", "status", "year")
    search_fields = ("name",)


@admin.register(Application)
class ApplicationAdmin(ReadOnly):
    list_display = ("title", "batch", "region", "status", "final_level")
    list_filter = ("status", "batch__programme")
    search_fields = ("title",)
    raw_id_fields = ("batch", "applicant", "organisation", "studio", "case", "resource")


@admin.register(Objection)
class ObjectionAdmin(ReadOnly):
    list_display = ("application", "filed_at", "answered_at", "upheld")
    exclude = ("contact",)  # personal data: answered on the objection page
