"""Forms of the event pages: they check and normalise input and hand plain values to the
services, which check the rules again."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.events.models import Event
from kejiyun.events.services import CODE_LENGTH, AgreementInput, EventInput


def _moment(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"required": f"请填写{label}。", "invalid": f"{label}格式不正确。"},
    )


class EventForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label="活动名称", max_length=120)
    kind = forms.ChoiceField(label="类型", choices=Event.Kind.choices)
    venue = forms.CharField(label="地点", max_length=200)
    starts_at = _moment("开始时间")
    ends_at = _moment("结束时间")
    sign_up_closes_at = _moment("报名截止")
    description = forms.CharField(
        label="活动介绍", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends, closes = (
            data.get("starts_at"),
            data.get("ends_at"),
            data.get("sign_up_closes_at"),
        )
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "结束时间须晚于开始时间。")
        if starts and closes and closes > starts:
            self.add_error("sign_up_closes_at", "报名截止不能晚于活动开始。")
        return data

    def to_input(self) -> EventInput:
        d = self.cleaned_data
        return EventInput(
            name=d["name"],
            kind=d["kind"],
            venue=d["venue"],
            starts_at=d["starts_at"],
            ends_at=d["ends_at"],
            sign_up_closes_at=d["sign_up_closes_at"],
            description=d["description"],
        )


class MoveForm(forms.Form):
    to = forms.ChoiceField(choices=Event.Status.choices)
    version = forms.IntegerField(min_value=1)


class DecideForm(BootstrapFormMixin, forms.Form):
    accept = forms.TypedChoiceField(
        choices=[("1", "入选"), ("0", "不入选")], coerce=lambda v: v == "1"
    )
    reason = forms.CharField(label="未入选原因", max_length=300, required=False)


class NominateForm(BootstrapFormMixin, forms.Form):
    """One nomination: a demand or a result, picked from the lists the page shows."""

    demand = forms.IntegerField(required=False, min_value=1)
    result = forms.IntegerField(required=False, min_value=1)
    note = forms.CharField(label="推荐理由", max_length=300, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("demand")) == bool(data.get("result")):
            raise forms.ValidationError("请选择一项需求或一项成果。")
        return data


class SlotForm(BootstrapFormMixin, forms.Form):
    exhibit = forms.TypedChoiceField(label="展项", coerce=int)
    place = forms.CharField(label="桌号/会议室", max_length=60)
    starts_at = _moment("开始")
    ends_at = _moment("结束")
    capacity = forms.IntegerField(
        label="名额",
        min_value=1,
        max_value=500,
        error_messages={"min_value": "名额至少为 1。", "max_value": "名额不能超过 500。"},
    )

    def __init__(self, *args: Any, exhibits: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["exhibit"].choices = exhibits  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "结束时间须晚于开始时间。")
        return data


class CheckInForm(BootstrapFormMixin, forms.Form):
    code = forms.CharField(
        label="签到码",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
        error_messages={"required": "请输入签到码。"},
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split()).upper()
        if len(code) != CODE_LENGTH or not code.isalnum() or not code.isascii():
            raise forms.ValidationError(f"签到码为 {CODE_LENGTH} 位字母和数字。")
        return code


class AgreementForm(BootstrapFormMixin, forms.Form):
    contract_number = forms.CharField(label="合同编号", max_length=64)
    amount = forms.DecimalField(
        label="合同金额（万元）",
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        error_messages={
            "required": "请填写合同金额。",
            "invalid": "合同金额须是数字，单位万元，最多两位小数。",
            "min_value": "合同金额须大于零。",
            "max_decimal_places": "合同金额最多两位小数。",
            "max_digits": "合同金额过大。",
            "max_whole_digits": "合同金额过大。",
        },
    )
    settles = forms.BooleanField(
        label="这份合同解决了该需求（登记办理结果，待企业确认后结案）", required=False
    )
    evidence = forms.FileField(
        label="合同扫描件", required=False, help_text="解决需求时必填：PDF、图片或 Office 文件"
    )

    def to_input(self) -> AgreementInput:
        d = self.cleaned_data
        return AgreementInput(
            contract_number=d["contract_number"],
            amount=d["amount"],
            settles=d["settles"],
            evidence=d.get("evidence"),
        )
