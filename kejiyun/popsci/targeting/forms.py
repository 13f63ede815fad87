"""Edge validation for the preference page and the campaign form. Services do the writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet

from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.notifications.models import Channel
from kejiyun.popsci.content.selectors import articles_published
from kejiyun.popsci.models import AgeBand, Article, Segment, Topic
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import province_regions
from kejiyun.regions.widgets import RegionPicker

_LEVEL_INDENT = {"province": "", "city": "", "county": "　", "township": "　　"}


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        region: Region = obj
        if region.level == Region.Level.TOWNSHIP and region.parent is not None:
            return f"{region.parent.name} · {region.name}"
        parent = region.parent.name if region.parent and region.level == "county" else ""
        return (
            f"{_LEVEL_INDENT.get(region.level, '')}{parent + ' · ' if parent else ''}{region.name}"
        )


def _checkboxes(label: str, choices: Any) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


def citizen_regions() -> QuerySet[Region]:
    return (
        province_regions(settings.DEPLOYMENT_PROVINCE)
        .filter(level__in=[Region.Level.COUNTY, Region.Level.TOWNSHIP])
        .select_related("parent")
        .order_by("path")
    )


class PreferenceForm(BootstrapFormMixin, forms.Form):
    region = RegionChoiceField(
        label="所在区县或乡镇（街道）",
        queryset=Region.objects.none(),
        empty_label="请选择",
        widget=RegionPicker,
        error_messages={"invalid_choice": "所选地区不存在，请重新选择。"},
    )
    occupation = forms.ChoiceField(label="职业", choices=Segment.choices)
    age_band = forms.ChoiceField(label="年龄段", choices=AgeBand.choices)
    interests = _checkboxes("感兴趣的主题", Topic.choices)
    crops = forms.CharField(
        label="种养作物或从事行业", max_length=100, required=False, help_text="如：水稻、茶叶、生猪"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = citizen_regions()  # type: ignore[attr-defined]


class CampaignForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label="推送名称", max_length=120)
    article = forms.ModelChoiceField(
        label="推送内容（仅已审核发布）",
        queryset=Article.objects.none(),
        empty_label="请选择内容",
    )
    channel = forms.ChoiceField(label="渠道", choices=Channel.choices, initial=Channel.IN_APP)
    region = RegionChoiceField(
        label="目标地区",
        queryset=Region.objects.none(),
        empty_label=None,
        widget=RegionPicker,
        error_messages={"invalid_choice": "所选地区不在您的辖区内。"},
    )
    segments = _checkboxes("目标人群（不选为全部）", Segment.choices)
    age_bands = _checkboxes("年龄段（不选为全部）", AgeBand.choices)
    interests = _checkboxes("兴趣主题（不选为全部）", Topic.choices)
    scheduled_at = forms.DateTimeField(
        label="计划发送时间",
        required=False,
        help_text="留空则创建后手动发送",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args: Any, regions: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]
        self.fields["article"].queryset = articles_published().order_by(  # type: ignore[attr-defined]
            "-published_at", "-id"
        )


class AudienceForm(forms.Form):
    """The criteria of the audience-size preview (GET); bad values count as none."""

    region = forms.ModelChoiceField(queryset=Region.objects.none(), required=False)
    segments = forms.MultipleChoiceField(choices=Segment.choices, required=False)
    age_bands = forms.MultipleChoiceField(choices=AgeBand.choices, required=False)
    interests = forms.MultipleChoiceField(choices=Topic.choices, required=False)

    def __init__(self, *args: Any, regions: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]
