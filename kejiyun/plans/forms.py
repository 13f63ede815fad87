"""Forms for the plan page. Each carries the plan version the page was rendered with."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from kejiyun.accounts.models import User
from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.plans.models import PlanNeed


class _Versioned(BootstrapFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class NeedForm(_Versioned):
    kind = forms.ChoiceField(label="需求类型", choices=PlanNeed.Kind.choices)
    description = forms.CharField(
        label="说明", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ActionForm(_Versioned):
    title = forms.CharField(label="事项", max_length=200)
    due_on = forms.DateField(label="完成期限", widget=forms.DateInput(attrs={"type": "date"}))
    need = forms.ModelChoiceField(
        label="对应需求", queryset=PlanNeed.objects.none(), required=False
    )

    def __init__(self, *args: Any, needs: QuerySet[PlanNeed], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["need"].queryset = needs  # type: ignore[attr-defined]


class FollowUpForm(_Versioned):
    happened_on = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(
        label="跟进情况", max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class VersionForm(_Versioned):
    """For buttons (complete an action, mark a need met) that only carry the version."""


class _OwnerChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        centre = obj.centre.name if obj.centre_id else ""
        return f"{obj.display_name or obj.username}（{centre}）"


class ReassignForm(_Versioned):
    owner = _OwnerChoice(label="新负责人", queryset=User.objects.none())

    def __init__(self, *args: Any, candidates: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = candidates  # type: ignore[attr-defined]
