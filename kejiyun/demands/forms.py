"""Edge validation for the enterprise's demand form. The form checks and normalises input and
hands a `DemandInput` to the service; it never saves a model itself."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from kejiyun.accounts.forms import CountyChoiceField
from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.demands.models import Demand
from kejiyun.demands.review import GUIDANCE
from kejiyun.demands.selectors import BUDGET_UNKNOWN, HallFilters
from kejiyun.demands.services import DemandInput
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import counties_of_province, province_regions
from kejiyun.regions.widgets import RegionPicker
from kejiyun.talent.models import Discipline, Industry
from kejiyun.talent.widgets import ClassificationTree


class ClassChoiceField(forms.ModelChoiceField):
    """A class of a classification (industry or discipline), posted as its code; its exact
    Chinese name is accepted too (paper forms, old links)."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        assert self.queryset is not None
        model = self.queryset.model
        found = model.objects.filter(pk=text).first() or (
            model.objects.filter(name=text).order_by("-level", "pk").first()
        )
        if found is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return found

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.code}）"


def _guided(field: str, rows: int) -> forms.Textarea:
    guide = GUIDANCE[field]
    return forms.Textarea(attrs={"rows": rows, "placeholder": f"例如：{guide.example}"})


def _help(field: str) -> str:
    guide = GUIDANCE[field]
    return f"{guide.question} 写得具体，专家才能判断能否解决。"


class DemandForm(BootstrapFormMixin, forms.Form):
    """The fields an enterprise may set. Status, organisation and review fields are not here,
    so posting them has no effect."""

    title = forms.CharField(
        label="需求名称",
        max_length=120,
        help_text=GUIDANCE["title"].question,
        widget=forms.TextInput(attrs={"placeholder": f"例如：{GUIDANCE['title'].example}"}),
        error_messages={"required": "请填写需求名称。"},
    )
    category = forms.ChoiceField(
        label="需求类别",
        choices=[("", "请选择类别"), *Demand.Category.choices],
        error_messages={"required": "请选择需求类别。", "invalid_choice": "所选类别不存在。"},
    )
    industry = ClassChoiceField(
        label="所属行业",
        queryset=Industry.objects.order_by("code"),
        required=False,
        widget=ClassificationTree("industry", multiple=False),
        empty_label="请选择行业（国民经济行业分类）",
        help_text="选择最接近的行业，如“蔬菜加工”“白酒制造”；系统据此推荐熟悉该行业的专家。",
        error_messages={"invalid_choice": "所选行业不存在，请从行业分类中选择。"},
    )
    discipline = ClassChoiceField(
        label="所属学科（可不填）",
        queryset=Discipline.objects.order_by("code"),
        required=False,
        widget=ClassificationTree("discipline", multiple=False),
        empty_label="不清楚，由系统根据描述判断",
        help_text="不填时，系统根据需求描述判断所属学科。",
        error_messages={"invalid_choice": "所选学科不存在，请从学科分类中选择。"},
    )
    region = CountyChoiceField(
        label="所在区县",
        queryset=Region.objects.none(),
        empty_label="请选择区县",
        widget=RegionPicker,
        help_text="默认为企业所在区县；需求将由该区县的科技服务中心受理。",
        error_messages={
            "required": "请选择所在区县。",
            "invalid_choice": "所选区县不存在，请重新选择。",
        },
    )
    description = forms.CharField(
        label="需求描述",
        help_text=_help("description"),
        widget=_guided("description", 5),
        error_messages={"required": "请填写需求描述。"},
    )
    problem = forms.CharField(
        label="要解决的问题",
        required=False,
        help_text=_help("problem"),
        widget=_guided("problem", 3),
    )
    current_state = forms.CharField(
        label="目前现状",
        required=False,
        help_text=_help("current_state"),
        widget=_guided("current_state", 3),
    )
    target_indicators = forms.CharField(
        label="目标指标",
        required=False,
        help_text=_help("target_indicators"),
        widget=_guided("target_indicators", 3),
    )
    budget = forms.ChoiceField(
        label="预算范围",
        choices=Demand.Budget.choices,
        required=False,
        help_text="大致范围即可，便于匹配合适的专家和方案。",
        error_messages={"invalid_choice": "所选预算范围不存在。"},
    )
    deadline = forms.DateField(
        label="期望完成时间",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "请输入有效日期，如 2027-06-30。"},
    )
    confidentiality = forms.ChoiceField(
        label="公开方式",
        choices=Demand.Confidentiality.choices,
        initial=Demand.Confidentiality.PUBLIC,
        help_text="公开：在需求大厅展示全文；仅公开摘要：只展示名称、类别、行业和地区；"
        "不公开：不在需求大厅展示，由服务中心工作人员为您对接专家。",
        error_messages={
            "required": "请选择公开方式。",
            "invalid_choice": "所选公开方式不存在。",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read settings here, not at import time, so override_settings reaches it.
        region_field: forms.ModelChoiceField[Region] = self.fields["region"]  # type: ignore[assignment]
        region_field.queryset = counties_of_province(settings.DEPLOYMENT_PROVINCE)
        # An industry given in words (the organisation's, an imported demand's) preselects
        # the class of that exact name.
        named = self.initial.get("industry")
        if named and not Industry.objects.filter(pk=named).exists():
            found = Industry.objects.filter(name=str(named).strip()).order_by("-level").first()
            self.initial["industry"] = found.pk if found else None

    def clean_deadline(self) -> Any:
        deadline = self.cleaned_data.get("deadline")
        if deadline is not None and deadline <= timezone.localdate():
            raise ValidationError("期望完成时间应晚于今天。")
        return deadline

    def demand_input(self) -> DemandInput:
        data = self.cleaned_data
        return DemandInput(
            title=data["title"].strip(),
            description=data["description"].strip(),
            category=data["category"],
            industry=data["industry"].name if data["industry"] else "",
            industry_class=data["industry"],
            discipline=data["discipline"],
            region=data["region"],
            problem=data["problem"].strip(),
            current_state=data["current_state"].strip(),
            target_indicators=data["target_indicators"].strip(),
            budget=data["budget"] or Demand.Budget.UNKNOWN,
            deadline=data["deadline"],
            confidentiality=data["confidentiality"],
        )


def demand_form_initial(demand: Demand) -> dict[str, Any]:
    return {
        "title": demand.title,
        "category": demand.category,
        "industry": demand.industry_class_id or demand.industry,
        "discipline": demand.discipline_id,
        "region": demand.region_id,
        "description": demand.description,
        "problem": demand.problem,
        "current_state": demand.current_state,
        "target_indicators": demand.target_indicators,
        "budget": demand.budget,
        "deadline": demand.deadline,
        "confidentiality": demand.confidentiality,
    }


class ReturnForm(BootstrapFormMixin, forms.Form):
    reasons = forms.CharField(
        label="退回原因",
        max_length=2000,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "placeholder": "例如：目标指标缺少可衡量的数值，请补充良品率或产能目标",
            }
        ),
        error_messages={"required": "请填写退回原因，告诉企业需要补充或修改什么。"},
    )


# --- The hall's search and filters -------------------------------------------------------


class HallForm(forms.Form):
    """The hall's query string: a search, category, industry, city and county, budget.
    Anything unknown is dropped, never an error: the hall then shows more, not nothing."""

    q = forms.CharField(label="搜索", required=False, max_length=50, strip=True)
    category = forms.ChoiceField(
        label="类别", required=False, choices=[("", "全部类别"), *Demand.Category.choices]
    )
    section = forms.ChoiceField(label="领域", required=False)
    industry = forms.ChoiceField(label="行业", required=False)
    city = forms.ChoiceField(label="市（州）", required=False)
    county = forms.ChoiceField(label="区县", required=False)
    budget = forms.ChoiceField(
        label="预算",
        required=False,
        choices=[
            ("", "不限预算"),
            *[(v, label) for v, label in Demand.Budget.choices if v],
            (BUDGET_UNKNOWN, Demand.Budget.UNKNOWN.label),
        ],
    )

    def __init__(self, data: Any, *, industries: list[str]) -> None:
        super().__init__(data)
        province = settings.DEPLOYMENT_PROVINCE
        self.cities = list(
            province_regions(province).filter(level=Region.Level.CITY).order_by("code")
        )
        city_code = data.get("city", "") if data is not None else ""
        city = next((c for c in self.cities if c.code == city_code), None)
        self.counties = (
            list(Region.objects.filter(parent=city, level=Region.Level.COUNTY).order_by("code"))
            if city is not None
            else []
        )
        sections = Industry.objects.filter(level=1).order_by("code").values_list("code", "name")
        choices = {
            "section": [("", "全部领域"), *sections],
            "industry": [("", "全部行业"), *[(i, i) for i in industries]],
            "city": [("", "全省"), *[(c.code, c.name) for c in self.cities]],
            "county": [("", "全部区县"), *[(c.code, c.name) for c in self.counties]],
        }
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options
        for name, field in self.fields.items():
            field.widget.attrs["class"] = "form-control" if name == "q" else "form-select"

    def filters(self) -> HallFilters:
        """The checked filters; a field that did not check out is left out."""
        self.is_valid()
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        region: Region | None = None
        if data.get("county"):
            region = next((c for c in self.counties if c.code == data["county"]), None)
        if region is None and data.get("city"):
            region = next((c for c in self.cities if c.code == data["city"]), None)
        return HallFilters(
            query=data.get("q", ""),
            category=data.get("category", ""),
            section=data.get("section", ""),
            industry=data.get("industry", ""),
            region=region,
            budget=data.get("budget", ""),
        )

    def query_string(self) -> str:
        """The checked filters as a query string, for the pagination links."""
        self.is_valid()
        kept = {
            k: v for k, v in self.cleaned_data.items() if v and k not in self.errors and k != "page"
        }
        return urlencode(kept)
