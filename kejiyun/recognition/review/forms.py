"""Forms of the review pages: a pool member's details, and a reviewer's scores."""

from __future__ import annotations

from typing import Any

from django import forms

from kejiyun.accounts.models import Organisation, Role, User
from kejiyun.recognition.models import Criterion
from kejiyun.recognition.review.services import (
    COMMENT_ABOVE,
    COMMENT_BELOW,
    COMMENT_MAX_LENGTH,
    MAX_LOAD,
    SCORE_MAX,
    SCORE_MIN,
    CriterionInput,
    ReviewerDetails,
)
from kejiyun.regions.models import Region
from kejiyun.regions.widgets import RegionPicker


class ReviewerForm(forms.Form):
    username = forms.CharField(label="专家账号（用户名）", max_length=150)
    employer = forms.CharField(label="工作单位", max_length=120, required=False)
    organisation = forms.CharField(
        label="所在单位统一社会信用代码（平台已登记的单位，可不填）",
        max_length=18,
        required=False,
    )
    region = forms.ModelChoiceField(
        label="所在区县",
        queryset=Region.objects.exclude(level=Region.Level.TOWNSHIP),
        required=False,
        widget=RegionPicker,
    )
    title = forms.CharField(label="职称", max_length=40, required=False)
    subject_fields = forms.CharField(label="专业领域", max_length=200, required=False)
    keywords = forms.CharField(label="关键词", max_length=300, required=False)
    expertise = forms.CharField(
        label="专长介绍", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    load = forms.IntegerField(label="每批最多评审", min_value=1, max_value=MAX_LOAD, initial=10)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["username"]

    def clean_username(self) -> User:
        username = self.cleaned_data["username"].strip()
        user = User.objects.filter(username=username, role=Role.REVIEWER, is_active=True).first()
        if user is None:
            raise forms.ValidationError("没有这个评审专家账号。")
        return user

    def clean_organisation(self) -> Organisation | None:
        code = self.cleaned_data["organisation"].strip().upper()
        if not code:
            return None
        organisation = Organisation.objects.filter(uscc=code).first()
        if organisation is None:
            raise forms.ValidationError("平台上没有这个统一社会信用代码的单位。")
        return organisation

    def details(self) -> ReviewerDetails:
        data = self.cleaned_data
        return ReviewerDetails(
            employer=data["employer"],
            organisation=data["organisation"],
            region=data["region"],
            title=data["title"],
            fields=data["subject_fields"],
            keywords=data["keywords"],
            expertise=data["expertise"],
            load=data["load"],
        )


class ScoreForm(forms.Form):
    """One score (0–100) and one comment per criterion; "submit" needs every criterion."""

    def __init__(self, *args: Any, criteria: list[Criterion], submit: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        self.submit = submit
        for criterion in criteria:
            self.fields[f"score_{criterion.pk}"] = forms.IntegerField(
                label=f"{criterion.name}（权重{criterion.weight}）",
                min_value=SCORE_MIN,
                max_value=SCORE_MAX,
                required=False,
                error_messages={
                    "min_value": "分数应在0到100之间。",
                    "max_value": "分数应在0到100之间。",
                    "invalid": "请输入0到100之间的整数。",
                },
            )
            self.fields[f"comment_{criterion.pk}"] = forms.CharField(
                label=f"{criterion.name}评语",
                max_length=COMMENT_MAX_LENGTH,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for criterion in self.criteria:
            score = data.get(f"score_{criterion.pk}")
            comment = (data.get(f"comment_{criterion.pk}") or "").strip()
            if score is None:
                if self.submit and f"score_{criterion.pk}" not in self.errors:
                    self.add_error(f"score_{criterion.pk}", f"请为“{criterion.name}”打分后再提交。")
                continue
            if (score < COMMENT_BELOW or score > COMMENT_ABOVE) and not comment:
                self.add_error(
                    f"comment_{criterion.pk}",
                    f"低于{COMMENT_BELOW}分或高于{COMMENT_ABOVE}分须填写评语说明理由。",
                )
        return data

    def inputs(self) -> dict[int, CriterionInput]:
        data = self.cleaned_data
        return {
            c.pk: CriterionInput(
                score=data.get(f"score_{c.pk}"), comment=data.get(f"comment_{c.pk}") or ""
            )
            for c in self.criteria
        }

    def pairs(self) -> list[tuple[Criterion, forms.BoundField, forms.BoundField]]:
        return [(c, self[f"score_{c.pk}"], self[f"comment_{c.pk}"]) for c in self.criteria]
