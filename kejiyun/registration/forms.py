"""Edge validation for the sign-up pages. Forms check input; `user_register` does the writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from kejiyun.accounts.forms import MobileField, PasswordPairMixin, county_field
from kejiyun.accounts.models import Role
from kejiyun.accounts.validators import normalise_uscc, validate_uscc
from kejiyun.popsci.models import AgeBand, Segment
from kejiyun.regions.selectors import counties_of_province


class _RegistrationBase(PasswordPairMixin):
    role: str = ""
    display_name = forms.CharField(
        label="姓名", max_length=40, error_messages={"required": "请输入姓名。"}
    )
    mobile = MobileField()
    sms_code = forms.RegexField(
        label="短信验证码",
        regex=r"^\d{6}$",
        max_length=6,
        error_messages={"required": "请输入短信验证码。", "invalid": "验证码为6位数字。"},
    )
    region = county_field()
    agree = forms.BooleanField(
        label="我已阅读并同意《个人信息保护政策》",
        error_messages={"required": "注册前请阅读并同意个人信息保护政策。"},
    )

    field_order = [
        "display_name",
        "mobile",
        "sms_code",
        "organisation_name",
        "uscc",
        "industry",
        "employer",
        "title",
        "region",
        "password1",
        "password2",
        "agree",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sms_code"].widget.attrs.update(
            {"inputmode": "numeric", "autocomplete": "one-time-code"}
        )
        region_field = self.fields["region"]
        assert isinstance(region_field, forms.ModelChoiceField)
        region_field.queryset = counties_of_province(settings.DEPLOYMENT_PROVINCE)


class WorkerRegistrationForm(_RegistrationBase):
    role = Role.WORKER
    employer = forms.CharField(
        label="工作单位", max_length=120, error_messages={"required": "请输入工作单位。"}
    )
    title = forms.CharField(label="职称", max_length=40, required=False)


class EnterpriseRegistrationForm(_RegistrationBase):
    role = Role.ENTERPRISE
    organisation_name = forms.CharField(
        label="企业名称", max_length=120, error_messages={"required": "请输入企业名称。"}
    )
    uscc = forms.CharField(
        label="统一社会信用代码",
        max_length=30,
        error_messages={"required": "请输入统一社会信用代码。"},
        help_text="18位，见营业执照。",
    )
    industry = forms.CharField(label="所属行业", max_length=64, required=False)
    region = county_field("企业所在区县")

    def clean_uscc(self) -> str:
        value = normalise_uscc(self.cleaned_data["uscc"])
        validate_uscc(value)
        return value


class CitizenRegistrationForm(_RegistrationBase):
    role = Role.CITIZEN
    occupation = forms.ChoiceField(
        label="职业", choices=Segment.choices, error_messages={"required": "请选择职业。"}
    )
    age_band = forms.ChoiceField(
        label="年龄段", choices=AgeBand.choices, error_messages={"required": "请选择年龄段。"}
    )
