"""Edge validation for the work-report pages. Forms check the shape of the input; the
services decide (required sections on submission, who may do what, what is final). The
figures are not a field anywhere: the filer cannot post them."""

from __future__ import annotations

from typing import Any

from django import forms

from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.ops.models import COMMENT_MAX_LENGTH, SECTION_MAX_LENGTH, WorkReport
from kejiyun.ops.periods import Period, PeriodError, PeriodKind
from kejiyun.ops.reports.selectors import half_of
from kejiyun.ops.reports.services import SECTIONS, Sections


def _section(name: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=SECTIONS[name],
        required=False,
        max_length=SECTION_MAX_LENGTH,
        strip=False,  # the text is stored as written; the service judges emptiness
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=help_text,
        error_messages={
            "max_length": f"“{SECTIONS[name]}”不能超过{SECTION_MAX_LENGTH}个字"
            "（现有%(show_value)d个字）。",
        },
    )


class ReportForm(BootstrapFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    achievements = _section(
        "achievements", "本半年主要工作、取得的成效和典型案例。提交前必须填写。"
    )
    difficulties = _section("difficulties", "工作中遇到的困难和问题、需要上级协调的事项。")
    plans = _section("plans", "下一个半年的工作目标、重点任务和措施。")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].error_messages = {
            "required": "页面已过期，请刷新后再试。",
            "invalid": "页面已过期，请刷新后再试。",
            "min_value": "页面已过期，请刷新后再试。",
        }

    @staticmethod
    def initial_from(report: WorkReport) -> dict[str, Any]:
        return {
            "version": report.version,
            "achievements": report.achievements,
            "difficulties": report.difficulties,
            "plans": report.plans,
        }

    def sections(self) -> Sections:
        data = self.cleaned_data
        return Sections(
            achievements=data["achievements"],
            difficulties=data["difficulties"],
            plans=data["plans"],
        )


class NewReportForm(BootstrapFormMixin, forms.Form):
    period = forms.ChoiceField(label="汇报期", error_messages={"required": "请选择汇报期。"})

    def __init__(self, *args: Any, halves: list[Period], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["period"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(p.token, p.label) for p in halves]
        field.error_messages["invalid_choice"] = "只能填报本半年或上一个半年的工作汇报。"

    def half(self) -> tuple[int, int]:
        period = Period.parse(self.cleaned_data["period"])
        return period.start.year, half_of(period)


class VersionForm(forms.Form):
    """The version the page showed, carried by every review action."""

    version = forms.IntegerField(
        min_value=1,
        widget=forms.HiddenInput,
        error_messages={
            "required": "页面已过期，请刷新后再试。",
            "invalid": "页面已过期，请刷新后再试。",
            "min_value": "页面已过期，请刷新后再试。",
        },
    )


class ReturnForm(BootstrapFormMixin, VersionForm):
    reason = forms.CharField(
        label="退回原因",
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "请填写退回原因。",
            "max_length": f"退回原因不能超过{COMMENT_MAX_LENGTH}个字。",
        },
    )


class CommentForm(BootstrapFormMixin, forms.Form):
    body = forms.CharField(
        label="批注",
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "请填写批注内容。",
            "max_length": f"批注不能超过{COMMENT_MAX_LENGTH}个字。",
        },
    )


def half_filter(raw: str) -> Period | None:
    """The half-year a list is filtered by (a token such as 2026H1), or None when the text
    is empty or not a half-year."""
    if not raw:
        return None
    try:
        period = Period.parse(raw)
    except PeriodError:
        return None
    return period if period.kind == PeriodKind.HALF else None
