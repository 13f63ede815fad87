from __future__ import annotations

from django import forms

from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.integrity.services import NOTE_MAX


class DecideForm(BootstrapFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label="复核结论",
        choices=[("confirm", "确认刷量"), ("clear", "排除（不是刷量）")],
        widget=forms.RadioSelect,
        error_messages={"required": "请选择“确认刷量”或“排除”。"},
    )
    note = forms.CharField(
        label="复核说明",
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="排除时必填：说明为什么这不是刷量。",
        error_messages={"max_length": f"复核说明不能超过 {NOTE_MAX} 个字。"},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
