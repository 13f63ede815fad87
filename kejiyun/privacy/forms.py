from __future__ import annotations

from django import forms

from kejiyun.accounts.forms import MobileField, county_field
from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.privacy.services import CONFIRM_PHRASE


class CorrectionForm(BootstrapFormMixin, forms.Form):
    display_name = forms.CharField(
        label="姓名",
        max_length=40,
        error_messages={"required": "请填写姓名。", "max_length": "姓名最多40个字。"},
    )
    email = forms.EmailField(
        label="电子邮箱",
        required=False,
        max_length=254,
        error_messages={"invalid": "电子邮箱格式不正确，请检查后重新填写。"},
    )
    region = county_field("所在区县")


class CancelForm(BootstrapFormMixin, forms.Form):
    password = forms.CharField(
        label="当前登录密码",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "请输入当前登录密码。"},
    )
    confirmation = forms.CharField(
        label=f"请输入“{CONFIRM_PHRASE}”",
        max_length=10,
        error_messages={"required": f"请在确认框中输入“{CONFIRM_PHRASE}”四个字。"},
    )


class MobileChangeForm(BootstrapFormMixin, forms.Form):
    """A new mobile number, proved by a code texted to it (the registration code: it goes only
    to a number no account uses)."""

    mobile = MobileField(label="新手机号")
    sms_code = forms.RegexField(
        label="短信验证码",
        regex=r"^\d{6}$",
        max_length=6,
        error_messages={"required": "请输入短信验证码。", "invalid": "验证码为6位数字。"},
    )
