"""Input forms of dockings: sending a request, the expert's reply, a worker's application,
an enterprise's request and staff's decision on either. The services decide."""

from __future__ import annotations

import re

from django import forms

from kejiyun.common.forms import BootstrapFormMixin


class DockingSendForm(BootstrapFormMixin, forms.Form):
    expert = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    message = forms.CharField(label="留言", required=False, max_length=1000)


class DockingReplyForm(BootstrapFormMixin, forms.Form):
    accept = forms.TypedChoiceField(
        label="答复",
        choices=[("1", "接受"), ("0", "婉拒")],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        error_messages={"required": "请选择接受或婉拒。"},
    )
    reason = forms.CharField(label="婉拒原因", required=False, max_length=200)


class DockingApplyForm(BootstrapFormMixin, forms.Form):
    message = forms.CharField(
        label="申请留言",
        min_length=10,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="10–500 字：您能提供哪些帮助，做过哪些相近的工作。",
        error_messages={
            "required": "请填写申请留言。",
            "min_length": "申请留言至少 10 个字，请说明您能提供的帮助。",
            "max_length": "申请留言不能超过 500 字。",
        },
    )


# What the enterprise asks for: an expert, a team (its lead) or a result (its owner).
_TARGET = re.compile(r"(expert|team|result):([0-9]{1,18})")


class DockingAskForm(BootstrapFormMixin, forms.Form):
    target = forms.CharField(widget=forms.HiddenInput, max_length=40)
    message = forms.CharField(
        label="补充说明",
        required=False,
        max_length=500,
        error_messages={"max_length": "补充说明不能超过 500 字。"},
    )

    def clean_target(self) -> tuple[str, int]:
        match = _TARGET.fullmatch(self.cleaned_data["target"])
        if match is None or int(match[2]) == 0:
            raise forms.ValidationError("请选择推荐的专家、团队或成果。")
        return match[1], int(match[2])


class DockingDecisionForm(BootstrapFormMixin, forms.Form):
    approve = forms.TypedChoiceField(
        choices=[("1", "安排"), ("0", "不予安排")], coerce=lambda v: v == "1"
    )
    reason = forms.CharField(
        label="不予安排的原因",
        required=False,
        max_length=200,
        error_messages={"max_length": "原因不能超过 200 字。"},
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("approve") is False and not (data.get("reason") or "").strip():
            self.add_error("reason", "请说明不予安排的原因。")
        return data
