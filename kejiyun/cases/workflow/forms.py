"""Input forms of the case pages (the queue, the staff case page and its actions, the
enterprise's confirmation). They check and normalise; the services decide."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.cases.models import OPEN_STEPS, Step
from kejiyun.cases.workflow.selectors import CASE_STATE_LABELS
from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.regions.models import Region, ServiceCentre


def _owner_label(user: User) -> str:
    return f"{user.display_name}（{user.centre}）"


class VersionedForm(BootstrapFormMixin, forms.Form):
    """Every edit of a case carries the version the page showed (stale edits answer 409)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class TransitionForm(VersionedForm):
    to_step = forms.ChoiceField(choices=Step.choices, widget=forms.HiddenInput)
    reason = forms.CharField(label="说明", required=False, max_length=1000)


class PauseForm(VersionedForm):
    reason = forms.CharField(label="等待企业的事项", max_length=200)


class OutcomeForm(VersionedForm):
    solved = forms.TypedChoiceField(
        label="办理结果",
        choices=[("1", "已解决"), ("0", "未解决")],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    contract_number = forms.CharField(label="合同编号", max_length=64, required=False)
    contract_amount = forms.DecimalField(
        label="合同金额（万元）", max_digits=12, decimal_places=2, required=False, min_value=0
    )
    evidence = forms.FileField(
        label="佐证材料", required=False, help_text="合同或验收材料，PDF/图片/Office，10 MB 以内"
    )
    reason = forms.CharField(
        label="未解决原因", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class NoteForm(BootstrapFormMixin, forms.Form):
    body = forms.CharField(label="备注", widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class VisitForm(BootstrapFormMixin, forms.Form):
    visited_on = forms.DateField(label="走访日期", widget=forms.DateInput(attrs={"type": "date"}))
    place = forms.CharField(label="地点", max_length=120)
    people = forms.CharField(label="参加人员", max_length=200)
    outcome = forms.CharField(label="走访结果", widget=forms.Textarea(attrs={"rows": 2}))

    def clean_visited_on(self) -> Any:
        value = self.cleaned_data["visited_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("走访日期不能晚于今天。")
        return value


class AttachmentForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label="名称", max_length=120, required=False)
    file = forms.FileField(
        label="文件", help_text="PDF、PNG/JPEG 图片或 Office 文档（.docx/.xlsx/.pptx），10 MB 以内"
    )


class AssignForm(VersionedForm):
    owner = forms.ModelChoiceField(label="转交给", queryset=User.objects.none())

    def __init__(self, *args: Any, owners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = owners
        field.label_from_instance = _owner_label  # type: ignore[method-assign,assignment]


class BulkReassignForm(BootstrapFormMixin, forms.Form):
    """The new owner; the ticked case ids come as a plain list and the service checks them."""

    owner = forms.ModelChoiceField(label="批量转交给", queryset=User.objects.none())

    def __init__(self, *args: Any, owners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = owners
        field.label_from_instance = _owner_label  # type: ignore[method-assign,assignment]

    def case_ids(self) -> list[int]:
        raw = self.data.getlist("cases") if hasattr(self.data, "getlist") else []
        try:
            ids = sorted({int(v) for v in raw})
        except (TypeError, ValueError):
            return []
        # Ids outside the database's integer range are no case at all.
        return [i for i in ids if 0 < i < 2**63]


def county_choices(counties: Iterable[Region]) -> list[tuple[str, str]]:
    """The county filter's choices: each county's code and its city and name."""
    return [(c.code, f"{c.parent.name if c.parent else ''} {c.name}".strip()) for c in counties]


class QueueFilterForm(BootstrapFormMixin, forms.Form):
    step = forms.ChoiceField(
        label="环节",
        required=False,
        choices=[("", "全部环节"), *[(s, Step(s).label) for s in OPEN_STEPS]],
    )
    industry = forms.CharField(label="行业", required=False, max_length=64)
    county = forms.ChoiceField(label="区县", required=False, choices=[("", "全部区县")])
    scope = forms.ChoiceField(
        label="范围",
        required=False,
        choices=[("mine", "我的"), ("all", "辖区全部"), ("unowned", "待指派")],
    )
    # The supervision table's links (运营数据 · 督办): a centre's cases in one state, and
    # for the closed states the dates they closed between.
    state = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[("", "在办"), *CASE_STATE_LABELS.items()],
    )
    centre = forms.ModelChoiceField(
        label="承办中心",
        required=False,
        queryset=ServiceCentre.objects.none(),
        empty_label="全部中心",
        error_messages={"invalid_choice": "该服务中心不在您的辖区内。"},
    )
    area = forms.ModelChoiceField(
        label="区域",
        required=False,
        queryset=Region.objects.none(),
        to_field_name="code",
        empty_label="全部区域",
        error_messages={"invalid_choice": "该区域不在您的辖区内。"},
    )
    closed_from = forms.DateField(
        label="办结起",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "请输入有效的日期，例如 2026-05-01。"},
    )
    closed_to = forms.DateField(
        label="办结止",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "请输入有效的日期，例如 2026-05-31。"},
    )

    def __init__(
        self,
        *args: Any,
        counties: Iterable[tuple[str, str]] = (),
        centres: Any = None,
        areas: Any = None,
        **kwargs: Any,
    ) -> None:
        """`counties` are the county filter's choices (`county_choices`); `centres` and
        `areas` the querysets a chosen centre or area must be in (none may be chosen
        without them)."""
        super().__init__(*args, **kwargs)
        field = self.fields["county"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "全部区县"), *counties]
        centre = self.fields["centre"]
        assert isinstance(centre, forms.ModelChoiceField)
        if centres is not None:
            centre.queryset = centres
        area = self.fields["area"]
        assert isinstance(area, forms.ModelChoiceField)
        if areas is not None:
            area.queryset = areas

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("closed_from"), data.get("closed_to")
        if start and end and start > end:
            raise forms.ValidationError("办结起始日期不能晚于截止日期。")
        return data


class ConfirmForm(VersionedForm):
    # Radios with nothing chosen in advance: the enterprise picks a score itself.
    rating = forms.TypedChoiceField(
        label="满意度评分",
        choices=[(str(i), f"{i} 分") for i in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择 1 到 5 分的评分。"},
    )
    comment = forms.CharField(
        label="评价", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


class DisputeForm(VersionedForm):
    reason = forms.CharField(
        label="异议说明", max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


class LibraryConsentForm(BootstrapFormMixin, forms.Form):
    """The enterprise's decision on showing its case in the public case library."""

    decision = forms.ChoiceField(
        choices=[("grant", "同意入库展示"), ("withdraw", "撤回授权")],
        widget=forms.HiddenInput,
        error_messages={"required": "请选择同意或撤回。", "invalid_choice": "请选择同意或撤回。"},
    )
