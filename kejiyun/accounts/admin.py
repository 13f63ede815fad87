from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from kejiyun.accounts.forms import AdminLoginForm
from kejiyun.accounts.models import LoginFailure, Organisation, SmsCode, User
from kejiyun.common.admin_masking import MaskedAdminMixin

# The admin signs in through the same backend, lock-out and lock-out message as
# /accounts/login/ (kejiyun/accounts/lockout.py).
admin.site.login_form = AdminLoginForm


@admin.register(User)
class UserAdmin(MaskedAdminMixin, BaseUserAdmin):
    # Usernames made by self-registration embed the mobile: both are shown masked.
    masked_fields = ["username", "mobile"]
    list_display = ["username", "display_name", "masked_mobile", "role", "centre", "is_active"]
    list_filter = ["role", "is_active", "is_superuser", "centre__region__level"]
    search_fields = ["display_name"]
    raw_id_fields = ["centre", "region", "organisation"]
    list_select_related = ["centre"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (
            "科技云",
            {"fields": ("display_name", "mobile", "role", "centre", "region", "organisation")},
        ),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (
            "科技云",
            {"fields": ("display_name", "mobile", "role", "centre", "region", "organisation")},
        ),
    )

    @admin.display(description="手机号")
    def masked_mobile(self, obj: User) -> str:
        return obj.masked_mobile


@admin.register(Organisation)
class OrganisationAdmin(MaskedAdminMixin, admin.ModelAdmin):
    masked_fields = ["description"]
    list_display = ["name", "kind", "uscc", "region", "industry", "created_at"]
    list_filter = ["kind", "region__parent"]
    search_fields = ["name", "uscc"]
    raw_id_fields = ["region"]
    list_select_related = ["region"]


@admin.register(SmsCode)
class SmsCodeAdmin(MaskedAdminMixin, admin.ModelAdmin):
    masked_fields = ["mobile"]
    list_display = ["purpose", "created_at", "expires_at", "attempts", "used_at"]
    list_filter = ["purpose"]
    readonly_fields = [
        "mobile",
        "purpose",
        "code_hash",
        "created_at",
        "expires_at",
        "attempts",
        "used_at",
    ]


@admin.register(LoginFailure)
class LoginFailureAdmin(MaskedAdminMixin, admin.ModelAdmin):
    masked_fields = ["identity"]
    list_display = ["created_at", "ip"]
    list_filter = ["created_at"]
    search_fields = ["ip"]
    readonly_fields = ["identity", "ip", "created_at"]
