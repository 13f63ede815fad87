"""Read-only admin for docking events: every change goes through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kejiyun.common.admin_masking import MaskedAdminMixin
from kejiyun.events.models import Agreement, Booking, Event, Exhibit, Slot


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(MaskedAdminMixin, ReadOnly):
    masked_fields = ["description"]
    list_display = ("name", "kind", "organiser", "starts_at", "status")
    list_filter = ("kind", "status")


@admin.register(Exhibit)
class ExhibitAdmin(ReadOnly):
    list_display = ("event", "kind", "status", "centre")


@admin.register(Slot)
class SlotAdmin(ReadOnly):
    list_display = ("event", "place", "starts_at", "capacity", "booked")


@admin.register(Booking)
class BookingAdmin(ReadOnly):
    # The check-in code is shown to its holder only.
    list_display = ("event", "slot", "status", "checked_in_at")


@admin.register(Agreement)
class AgreementAdmin(ReadOnly):
    list_display = ("event", "contract_number", "amount", "settles", "signed_at")
