from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from kejiyun.accounts.forms import AdminLoginForm
from kejiyun.accounts.models import LoginFailure, Organisation, SmsCode, User
from kejiyun.accounts.validators import is_valid_mobile, normalise_mobile
from kejiyun.common.crypto import mobile_lookup

# The admin signs in through the same backend, lock-out and lock-out message as
# /accounts/login/ (kejiyun/accounts/lockout.py).
admin.site.login_form = AdminLoginForm


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "masked_mobile", "role", "centre", "is_active"]
    list_filter = ["role", "is_active", "is_superuser", "centre__region__level"]
    # A full 11-digit number also finds its holder, by the keyed hash (get_search_results).
    search_fields = ["username", "display_name"]
    search_help_text = "按账号名、姓名或完整的11位手机号查找。"
    raw_id_fields = ["centre", "region", "organisation"]
    list_select_related = ["centre"]
    # The number is sealed and shown masked only: the holder sets it (registration, reset).
    readonly_fields = ["masked_mobile"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (
            "科技云",
            {
                "fields": (
                    "display_name",
                    "masked_mobile",
                    "role",
                    "centre",
                    "region",
                    "organisation",
                )
            },
        ),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (
            "科技云",
            {"fields": ("display_name", "role", "centre", "region", "organisation")},
        ),
    )

    @admin.display(description="手机号")
    def masked_mobile(self, obj: User) -> str:
        return obj.masked_mobile

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        found, duplicates = super().get_search_results(request, queryset, search_term)
        mobile = normalise_mobile(search_term.strip())
        if is_valid_mobile(mobile):
            found = found | queryset.filter(mobile_hash=mobile_lookup(mobile))
        return found, duplicates


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "uscc", "region", "industry", "created_at"]
    list_filter = ["kind", "region__parent"]
    search_fields = ["name", "uscc"]
    raw_id_fields = ["region"]
    list_select_related = ["region"]


@admin.register(SmsCode)
class SmsCodeAdmin(admin.ModelAdmin):
    list_display = ["purpose", "created_at", "expires_at", "attempts", "used_at"]
    list_filter = ["purpose"]
    # Nothing readable: no number (only its keyed hash is stored), no code (only its hash).
    exclude = ["mobile_hash", "code_hash"]
    readonly_fields = [
        "purpose",
        "created_at",
        "expires_at",
        "attempts",
        "used_at",
    ]


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    list_display = ["created_at", "ip"]
    list_filter = ["created_at"]
    search_fields = ["ip"]
    readonly_fields = ["identity", "ip", "created_at"]
