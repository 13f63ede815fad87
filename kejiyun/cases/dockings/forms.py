"""Input forms of dockings: sending a request, the expert's reply. The services decide."""

from __future__ import annotations

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
    )
    reason = forms.CharField(label="婉拒原因", required=False, max_length=200)
