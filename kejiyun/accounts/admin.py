from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from kejiyun.accounts.forms import AdminLoginForm
from kejiyun.accounts.models import LoginFailure, Organisation, SmsCode, User
from kejiyun.accounts.services import user_disable
from kejiyun.accounts.validators import is_valid_mobile, normalise_mobile
from kejiyun.common.admin_masking import MaskedAdminMixin
from kejiyun.common.crypto import mobile_lookup

# The admin signs in through the same backend, lock-out and lock-out message as
# /accounts/login/ (kejiyun/accounts/lockout.py).
admin.site.login_form = AdminLoginForm

# django-otp's own admin pages would show any account's TOTP secret as a QR code and delete
# devices without an audit row. A second factor is reset only on the audited page
# (`accounts:otp_reset`, linked from each account's change page).
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(User)
class UserAdmin(MaskedAdminMixin, BaseUserAdmin):
    # Usernames made by self-registration before the opaque ones embedded the mobile: shown
    # masked; the sealed number itself only as `masked_mobile`.
    masked_fields = ["username"]
    list_display = ["username", "display_name", "masked_mobile", "role", "centre", "is_active"]
    list_filter = ["role", "is_active", "is_superuser", "centre__region__level"]
    # A full 11-digit number also finds its holder, by the keyed hash (get_search_results).
    search_fields = ["username", "display_name"]
    search_help_text = "按账号名、姓名或完整的11位手机号查找。"
    actions = ["disable_accounts"]
    raw_id_fields = ["centre", "region", "organisation"]
    list_select_related = ["centre"]
    # The number is sealed and shown masked only: the holder sets it (registration, reset).
    readonly_fields = ["second_factor", "masked_mobile"]
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
        ("动态口令", {"fields": ("second_factor",)}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (
            "科技云",
            {"fields": ("display_name", "role", "centre", "region", "organisation")},
        ),
    )

    @admin.display(description="动态口令")
    def second_factor(self, obj: User) -> str:
        enrolled = TOTPDevice.objects.filter(user=obj, confirmed=True).exists()
        status = "已绑定" if enrolled else "未绑定"
        if obj.pk is None or not obj.is_privileged:
            return status
        url = reverse("accounts:otp_reset", args=[obj.pk])
        return format_html('{} · <a href="{}">重置动态口令</a>', status, url)

    @admin.display(description="手机号")
    def masked_mobile(self, obj: User) -> str:
        return obj.masked_mobile

    @admin.action(description="停用所选账号（结束其登录，留审计）")
    def disable_accounts(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        disabled = sum(
            user_disable(user=user, actor=request.user)  # type: ignore[arg-type]
            for user in queryset.filter(is_active=True)
        )
        self.message_user(request, f"已停用 {disabled} 个账号。")

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # Unticking 有效 on the change form disables the account like the action: audited.
        disabling = change and "is_active" in form.changed_data and not obj.is_active
        if disabling:
            obj.is_active = True
        super().save_model(request, obj, form, change)
        if disabling:
            user_disable(user=obj, actor=request.user)  # type: ignore[arg-type]
            obj.is_active = False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        found, duplicates = super().get_search_results(request, queryset, search_term)
        mobile = normalise_mobile(search_term.strip())
        if is_valid_mobile(mobile):
            found = found | queryset.filter(mobile_hash=mobile_lookup(mobile))
        return found, duplicates


@admin.register(Organisation)
class OrganisationAdmin(MaskedAdminMixin, admin.ModelAdmin):
    masked_fields = ["description"]
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
class LoginFailureAdmin(MaskedAdminMixin, admin.ModelAdmin):
    masked_fields = ["identity"]
    list_display = ["created_at", "ip"]
    list_filter = ["created_at"]
    search_fields = ["ip"]
    readonly_fields = ["identity", "ip", "created_at"]
