"""The open API's credentials in the Django admin: partner clients and tokens, with their
hashes read-only and a revoke action (ADR 0015). Secrets are never shown: only hashes are
stored."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from kejiyun.api.clients import api_client_revoke
from kejiyun.api.models import ApiClient, ApiToken, WebhookSubscription
from kejiyun.api.tokens import token_revoke


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("name", "client_id", "owner", "created_at", "revoked_at")
    search_fields = ("name", "client_id")
    readonly_fields = ("client_id", "secret_hash", "created_at", "revoked_at")
    raw_id_fields = ("owner",)
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A client is made with `manage.py api_client_create`, which shows its secret once.
        return False

    @admin.action(description="吊销所选接入系统及其令牌")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        count = 0
        for client in queryset.filter(revoked_at__isnull=True):
            api_client_revoke(client=client)
            count += 1
        self.message_user(request, f"已吊销 {count} 个接入系统。", messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "kind", "name", "user", "created_at", "expires_at", "revoked_at")
    list_filter = ("kind",)
    search_fields = ("prefix", "name", "user__username")
    readonly_fields = (
        "kind",
        "token_hash",
        "prefix",
        "user",
        "client",
        "scopes",
        "family",
        "created_at",
        "expires_at",
        "last_used_at",
        "used_at",
        "revoked_at",
    )
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="吊销所选令牌")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        now = timezone.now()
        rows = list(queryset.filter(revoked_at__isnull=True))
        for row in rows:
            token_revoke(token=row, now=now)
        self.message_user(request, f"已吊销 {len(rows)} 个令牌。", messages.SUCCESS)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("url", "owner", "events", "active", "created_at")
    list_filter = ("active",)
    readonly_fields = ("owner", "client", "secret_sealed", "created_at")
    exclude = ()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
