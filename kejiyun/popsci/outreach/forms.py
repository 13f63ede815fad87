"""Forms for activities: staff create them, staff check people in, citizens give feedback."""

from __future__ import annotations

from typing import Any

from django import forms

from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.popsci.models import Segment
from kejiyun.regions.models import Region
from kejiyun.regions.widgets import RegionPicker


class _RegionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        depth = max(0, len(obj.ancestor_codes) - 2)
        return f"{'　' * depth}{obj.name}（{obj.code}）"


class ActivityForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label="活动名称", max_length=120)
    region = _RegionChoice(label="地点区划", queryset=Region.objects.none(), widget=RegionPicker)
    place = forms.CharField(label="具体地点", max_length=200)
    starts_at = forms.DateTimeField(
        label="开始时间", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label="结束时间", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    capacity = forms.IntegerField(label="名额", min_value=1, max_value=100_000)
    segments = forms.MultipleChoiceField(
        label="面向人群",
        choices=Segment.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="留空表示所有人",
    )
    resource = forms.CharField(
        label="依托资源", max_length=120, required=False, help_text="如科普共享基地、科技小院"
    )
    description = forms.CharField(label="活动介绍", widget=forms.Textarea, required=False)

    def __init__(self, *args: Any, regions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "结束时间必须晚于开始时间。")
        return data


class CheckInCodeForm(BootstrapFormMixin, forms.Form):
    code = forms.CharField(label="签到码", max_length=12)


class FeedbackForm(BootstrapFormMixin, forms.Form):
    rating = forms.TypedChoiceField(
        label="评分",
        coerce=int,
        choices=[(i, f"{i}分") for i in range(5, 0, -1)],
    )
    comment = forms.CharField(
        label="意见建议", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
