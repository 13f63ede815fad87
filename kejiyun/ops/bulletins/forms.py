"""Forms of the bulletin pages: the draft's fields, and the reason for a return."""

from __future__ import annotations

from django import forms

from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.ops.bulletins.content import RANKABLE, indicator_label
from kejiyun.ops.models import DEFAULT_LAG_PERCENT
from kejiyun.ops.periods import Period, PeriodError

# More columns than this do not fit the PDF's ranking table.
MAX_RANK_INDICATORS = 6


class BulletinForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(
        label="标题", max_length=120, required=False, help_text="留空则按地区和统计期自动生成"
    )
    period = forms.CharField(
        label="统计期",
        max_length=24,
        help_text="半年如 2026H1，也可以是季度 2026Q2、月份 2026-05、年份 2026",
    )
    indicators = forms.MultipleChoiceField(
        label="排名指标",
        choices=[(i.key, indicator_label(i.key)) for i in RANKABLE],
        widget=forms.CheckboxSelectMultiple,
        help_text=f"最多 {MAX_RANK_INDICATORS} 项；第一项用于图表",
    )
    lag_percent = forms.IntegerField(
        label="落后阈值（占中位数的百分比）",
        min_value=1,
        max_value=99,
        initial=DEFAULT_LAG_PERCENT,
        help_text="低于中位数的该比例（越低越好的指标：高于中位数除以该比例）即列为落后",
    )
    commentary = forms.CharField(
        label="点评", max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 6})
    )

    def clean_period(self) -> str:
        try:
            return Period.parse(self.cleaned_data["period"]).token
        except PeriodError as error:
            raise forms.ValidationError(str(error)) from error

    def clean_indicators(self) -> list[str]:
        keys: list[str] = self.cleaned_data["indicators"]
        if len(keys) > MAX_RANK_INDICATORS:
            raise forms.ValidationError(f"排名指标最多选 {MAX_RANK_INDICATORS} 项")
        return keys


class ReturnForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(
        label="退回原因", max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
