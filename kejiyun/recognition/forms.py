"""Edge validation for the recognition pages: each form checks and normalises the input and
hands a dataclass to the services, which decide (eligibility, who may act, what is locked)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from kejiyun.accounts.models import User
from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.common.levels import Level
from kejiyun.recognition.eligibility import Subject
from kejiyun.recognition.models import Application, Batch, Programme
from kejiyun.recognition.programmes import ANSWER_MAX_LENGTH, LEVELS_ASKED, QUESTIONS
from kejiyun.recognition.services import (
    OBJECTION_MAX_LENGTH,
    REASON_MAX_LENGTH,
    ApplicationInput,
    BatchInput,
    CriterionInput,
    ObjectionInput,
    criteria_problems,
)

STALE = "页面已过期，请刷新后再试。"
# The quotas are stored as small integers.
QUOTA_MAX = 10000


def _version_field() -> forms.IntegerField:
    return forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={"required": STALE, "invalid": STALE, "min_value": STALE},
    )


class VersionForm(forms.Form):
    version = _version_field()


class MoveForm(BootstrapFormMixin, forms.Form):
    """One move of the chain: the target status, the version the page showed, a reason."""

    version = _version_field()
    to = forms.ChoiceField(choices=Application.Status.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        label="原因",
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": f"原因不能超过{REASON_MAX_LENGTH}个字。"},
    )


class BatchForm(BootstrapFormMixin, forms.Form):
    programme = forms.ChoiceField(label="项目类型", choices=Programme.choices)
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    name = forms.CharField(label="批次名称", max_length=120)
    description = forms.CharField(
        label="申报通知", required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    eligibility = forms.CharField(
        label="申报条件说明", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    opens_on = forms.DateField(label="申报开始", widget=forms.DateInput(attrs={"type": "date"}))
    closes_on = forms.DateField(label="申报截止", widget=forms.DateInput(attrs={"type": "date"}))
    review_closes_on = forms.DateField(
        label="评审截止", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    notice_days = forms.IntegerField(label="公示天数", min_value=1, max_value=60, initial=7)
    reviewers_per_application = forms.IntegerField(
        label="每项评审专家数", min_value=1, max_value=15, initial=3
    )
    reviewer_load = forms.IntegerField(
        label="每位专家最多评审", min_value=1, max_value=200, initial=10
    )
    exclude_same_county = forms.BooleanField(label="回避同区县专家", required=False, initial=True)
    min_studio_cases = forms.IntegerField(
        label="工作室最少办结案例", min_value=0, max_value=100, initial=3
    )
    min_case_rating = forms.IntegerField(
        label="案例最低满意度", min_value=1, max_value=5, initial=4
    )
    quota_premium = forms.IntegerField(
        label="精品名额（0为不限）",
        min_value=0,
        max_value=QUOTA_MAX,
        initial=0,
        error_messages={"max_value": f"名额不能超过{QUOTA_MAX}。"},
    )
    quota_typical = forms.IntegerField(
        label="典型名额（0为不限）",
        min_value=0,
        max_value=QUOTA_MAX,
        initial=0,
        error_messages={"max_value": f"名额不能超过{QUOTA_MAX}。"},
    )
    chair = forms.ModelChoiceField(
        label="评审组长",
        required=False,
        queryset=User.objects.filter(reviewer_profile__active=True).order_by("id"),
    )

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        opens, closes = data.get("opens_on"), data.get("closes_on")
        if opens and closes and closes < opens:
            self.add_error("closes_on", "申报截止日期不能早于开始日期。")
        review = data.get("review_closes_on")
        if review and closes and review < closes:
            self.add_error("review_closes_on", "评审截止日期不能早于申报截止日期。")
        return data

    @staticmethod
    def initial_from(batch: Batch) -> dict[str, Any]:
        return {name: getattr(batch, name) for name in BatchInput.__dataclass_fields__}

    def batch_input(self) -> BatchInput:
        d = self.cleaned_data
        return BatchInput(
            programme=d["programme"],
            year=d["year"],
            name=d["name"],
            description=d["description"],
            eligibility=d["eligibility"],
            opens_on=d["opens_on"],
            closes_on=d["closes_on"],
            review_closes_on=d["review_closes_on"],
            notice_days=d["notice_days"],
            reviewers_per_application=d["reviewers_per_application"],
            reviewer_load=d["reviewer_load"],
            exclude_same_county=d["exclude_same_county"],
            min_studio_cases=d["min_studio_cases"],
            min_case_rating=d["min_case_rating"],
            quota_premium=d["quota_premium"],
            quota_typical=d["quota_typical"],
            chair=d["chair"],
        )


CRITERIA_ROWS = 8


class CriteriaForm(BootstrapFormMixin, forms.Form):
    """Up to `CRITERIA_ROWS` criteria (name, weight, description); empty rows are ignored;
    the weights must sum to 100."""

    version = _version_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(CRITERIA_ROWS):
            self.fields[f"name_{i}"] = forms.CharField(
                label=f"指标{i + 1}", required=False, max_length=60
            )
            self.fields[f"weight_{i}"] = forms.IntegerField(
                label="权重", required=False, min_value=1, max_value=100
            )
            self.fields[f"description_{i}"] = forms.CharField(
                label="评分要点", required=False, max_length=300
            )
        for field in self.fields.values():
            if not isinstance(field.widget, forms.HiddenInput):
                field.widget.attrs.setdefault("class", "form-control")

    @staticmethod
    def initial_from(batch: Batch) -> dict[str, Any]:
        initial: dict[str, Any] = {"version": batch.version}
        for i, c in enumerate(batch.criteria.all()[:CRITERIA_ROWS]):
            initial[f"name_{i}"] = c.name
            initial[f"weight_{i}"] = c.weight
            initial[f"description_{i}"] = c.description
        return initial

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (self[f"name_{i}"], self[f"weight_{i}"], self[f"description_{i}"])
            for i in range(CRITERIA_ROWS)
        ]

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        criteria: list[CriterionInput] = []
        for i in range(CRITERIA_ROWS):
            name = (data.get(f"name_{i}") or "").strip()
            weight = data.get(f"weight_{i}")
            if not name and weight is None:
                continue
            if not name:
                self.add_error(f"name_{i}", "请填写指标名称。")
                continue
            if weight is None:
                self.add_error(f"weight_{i}", "请填写权重。")
                continue
            criteria.append(
                CriterionInput(
                    name=name, weight=weight, description=data.get(f"description_{i}") or ""
                )
            )
        if not self.errors:
            for problem in criteria_problems(criteria):
                self.add_error(None, problem)
        self.criteria = criteria
        return data


class ApplicationForm(BootstrapFormMixin, forms.Form):
    """The programme's application form: the common fields, the level where the programme
    has levels, and the programme's questions (stored in `answers`)."""

    title = forms.CharField(label="申报名称", max_length=120)
    summary = forms.CharField(
        label="申报材料摘要", max_length=3000, widget=forms.Textarea(attrs={"rows": 5})
    )
    domain = forms.CharField(
        label="专业领域", required=False, max_length=200, help_text="多个领域用顿号分隔。"
    )
    level = forms.ChoiceField(label="申报等级", required=False, choices=())
    named_people = forms.CharField(
        label="涉及人员",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="团队成员、合作方等，每行一人；与其有关的专家不会被分配评审。",
    )

    def __init__(self, *args: Any, programme: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programme = programme
        levels = LEVELS_ASKED[programme]
        if levels:
            cast(forms.ChoiceField, self.fields["level"]).choices = [
                ("", "请选择"),
                *[(v, Level(v).label) for v in levels],
            ]
            self.fields["level"].required = True
            self.fields["level"].error_messages["required"] = "请选择申报等级（典型或精品）。"
        else:
            del self.fields["level"]
        for q in QUESTIONS[programme]:
            self.fields[f"q_{q.key}"] = forms.CharField(
                label=q.label,
                help_text=q.help_text,
                required=q.required,
                max_length=ANSWER_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 4}),
                error_messages={"required": f"请填写“{q.label}”。"},
            )
        # The mixin set the classes before the programme's fields existed.
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    @staticmethod
    def initial_from(application: Application) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "title": application.title,
            "summary": application.summary,
            "domain": application.fields,
            "level": application.level,
            "named_people": application.named_people,
        }
        for key, value in application.answers.items():
            initial[f"q_{key}"] = value
        return initial

    def application_input(self) -> ApplicationInput:
        d = self.cleaned_data
        return ApplicationInput(
            title=d["title"],
            summary=d["summary"],
            fields=d["domain"],
            level=d.get("level", "") or "",
            answers={q.key: d.get(f"q_{q.key}", "") for q in QUESTIONS[self.programme]},
            named_people=d["named_people"],
        )


class ApplicationEditForm(ApplicationForm):
    version = _version_field()


class NewApplicationForm(ApplicationForm):
    """The form for a new application: the subject (among those offered) and the form."""

    subject = forms.ChoiceField(label="申报对象", choices=())

    def __init__(self, *args: Any, subjects: list[Subject], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subjects = {s.key: s for s in subjects}
        cast(forms.ChoiceField, self.fields["subject"]).choices = [
            (s.key, s.label) for s in subjects
        ]
        self.fields["subject"].error_messages["invalid_choice"] = "请选择列出的申报对象。"
        self.fields["subject"].widget.attrs.setdefault("class", "form-select")
        self.order_fields(["subject"])

    def chosen_subject(self) -> Subject:
        return self.subjects[self.cleaned_data["subject"]]


class AttachmentForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label="附件名称", required=False, max_length=120)
    file = forms.FileField(
        label="文件",
        help_text="PDF、图片（PNG/JPEG）或 Office 文档，不超过 10 MB。",
        error_messages={"required": "请选择要上传的文件。", "empty": "文件是空的。"},
    )


class ObjectionForm(BootstrapFormMixin, forms.Form):
    application = forms.IntegerField(widget=forms.HiddenInput)
    contact_name = forms.CharField(label="联系人", max_length=40)
    contact = forms.CharField(
        label="联系方式", max_length=60, help_text="手机号或电子邮箱，仅用于答复，不会公开。"
    )
    body = forms.CharField(
        label="异议内容",
        max_length=OBJECTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": f"异议内容不能超过{OBJECTION_MAX_LENGTH}个字。"},
    )

    def objection_input(self) -> ObjectionInput:
        d = self.cleaned_data
        return ObjectionInput(contact_name=d["contact_name"], contact=d["contact"], body=d["body"])


class AnswerForm(BootstrapFormMixin, forms.Form):
    answer = forms.CharField(
        label="答复", max_length=OBJECTION_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )
    upheld = forms.TypedChoiceField(
        label="异议是否成立",
        choices=[("no", "不成立"), ("yes", "成立")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )

    def clean_upheld(self) -> bool:
        value = self.cleaned_data["upheld"]
        if not isinstance(value, bool):
            raise ValidationError("请选择异议是否成立。")
        return value
