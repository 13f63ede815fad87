"""Edge validation for account pages. Forms check input; services do the writes.

The field pieces here (`MobileField`, `county_field`, `PasswordPairMixin`) are shared: the
sign-up forms in `kejiyun.registration.forms` are built from them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError

from kejiyun.accounts.lockout import LOCKED_MESSAGE, login_identity, login_locked
from kejiyun.accounts.models import SmsCode
from kejiyun.accounts.unmask import REASON_MAX_LENGTH, UNMASK_REASONS
from kejiyun.accounts.validators import normalise_mobile, validate_mobile
from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.common.masking import mask_personal_text
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import counties_of_province
from kejiyun.regions.widgets import RegionPicker


class CountyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        region: Region = obj
        return f"{region.parent.name if region.parent else ''} · {region.name}"


def county_field(label: str = "所在区县") -> CountyChoiceField:
    return CountyChoiceField(
        label=label,
        queryset=counties_of_province(settings.DEPLOYMENT_PROVINCE),
        empty_label="请选择区县",
        widget=RegionPicker,
        error_messages={
            "required": "请选择所在区县。",
            "invalid_choice": "所选区县不存在，请重新选择。",
        },
    )


class MobileField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "手机号")
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("error_messages", {"required": "请输入手机号。"})
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "tel"})

    def clean(self, value: Any) -> str:
        mobile = normalise_mobile(super().clean(value))
        validate_mobile(mobile)
        return mobile


class LockoutMessageMixin:
    """Words a locked login name's refusal on any login form built on Django's
    `AuthenticationForm` (ours and the admin's). The backend decides: it refuses a locked
    name and records failures (`kejiyun/accounts/lockout.py`); the form only tells the
    person that the account is locked rather than that the password is wrong."""

    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = super().clean()  # type: ignore[misc]
        except ValidationError as exc:
            login_name = self.cleaned_data.get("username") or ""
            if exc.code == "invalid_login" and login_locked(identity=login_identity(login_name)):
                raise ValidationError(LOCKED_MESSAGE, code="locked") from exc
            raise
        return data


class LoginForm(LockoutMessageMixin, BootstrapFormMixin, AuthenticationForm):
    error_messages = {
        "invalid_login": "手机号/用户名或密码不正确。",
        "inactive": "该账号已停用，请联系管理员。",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "手机号或用户名"
        self.fields["username"].error_messages["required"] = "请输入手机号或用户名。"
        self.fields["password"].label = "密码"
        self.fields["password"].error_messages["required"] = "请输入密码。"


class AdminLoginForm(LockoutMessageMixin, AdminAuthenticationForm):
    """The admin's login form (`admin.site.login_form`, set in `kejiyun/accounts/admin.py`),
    with the same lock-out message as `/accounts/login/`."""


class SmsCodeRequestForm(BootstrapFormMixin, forms.Form):
    mobile = MobileField()
    # The pages ask for registration and reset codes; sign-in codes are the API's.
    purpose = forms.ChoiceField(
        choices=[(p.value, p.label) for p in (SmsCode.Purpose.REGISTER, SmsCode.Purpose.RESET)]
    )


class PasswordPairMixin(BootstrapFormMixin, forms.Form):
    password1 = forms.CharField(
        label="设置密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="至少12位，不能是常见密码或纯数字。",
        error_messages={"required": "请设置密码。"},
    )
    password2 = forms.CharField(
        label="确认密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "请再次输入密码。"},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "两次输入的密码不一致。")
        elif p1:
            try:
                password_validation.validate_password(p1)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class PasswordResetForm(PasswordPairMixin):
    mobile = MobileField()
    sms_code = forms.RegexField(
        label="短信验证码",
        regex=r"^\d{6}$",
        max_length=6,
        error_messages={"required": "请输入短信验证码。", "invalid": "验证码为6位数字。"},
    )
    field_order = ["mobile", "sms_code", "password1", "password2"]


class KejiyunPasswordChangeForm(BootstrapFormMixin, PasswordChangeForm):
    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": "原密码不正确，请重新输入。",
        "password_mismatch": "两次输入的新密码不一致。",
    }


class SecondFactorForm(BootstrapFormMixin, forms.Form):
    """A 6-digit code from the authenticator, or a recovery code (`abcd-efgh`)."""

    code = forms.CharField(
        label="动态口令",
        max_length=20,
        help_text="输入验证器（如“腾讯身份验证器”小程序、Google Authenticator）"
        "当前显示的6位数字；手机不在身边时，可输入一个恢复码。",
        error_messages={"required": "请输入动态口令或恢复码。"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(
            {"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        )


class EnrolForm(BootstrapFormMixin, forms.Form):
    code = forms.RegexField(
        label="验证器显示的6位数字",
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        error_messages={
            "required": "请输入验证器显示的6位数字。",
            "invalid": "动态口令为6位数字。",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(
            {"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        )


class UnmaskForm(forms.Form):
    """Why a user asks to see one object's personal data in full (`accounts/unmask.py`)."""

    object_id = forms.IntegerField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    reason = forms.ChoiceField(
        label="查看原因", choices=list(UNMASK_REASONS.items()), widget=forms.RadioSelect
    )
    reason_text = forms.CharField(label="其他原因", max_length=REASON_MAX_LENGTH, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("reason") == "other" and not data.get("reason_text", "").strip():
            self.add_error("reason_text", "请填写查看完整信息的原因。")
        return data

    def audit_reason(self) -> str:
        """The reason as written in the audit row (numbers typed into it masked)."""
        choice = self.cleaned_data["reason"]
        if choice == "other":
            return mask_personal_text(self.cleaned_data["reason_text"].strip())
        return UNMASK_REASONS[choice]
