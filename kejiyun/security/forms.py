"""The audit viewer's filters."""

from __future__ import annotations

from django import forms

from kejiyun.audit.models import AuditAction, AuditEvent

_DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"})
_TEXT = {"class": "form-control"}


class AuditFilterForm(forms.Form):
    """Time range, action, outcome, actor (user id or name), IP, object type and id. Anything
    that does not check out is left out (the page shows more, not nothing)."""

    date_from = forms.DateField(label="起始日期", required=False, widget=_DATE)
    date_to = forms.DateField(label="截止日期", required=False, widget=_DATE)
    action = forms.ChoiceField(
        label="操作",
        required=False,
        choices=[("", "全部操作"), *AuditAction.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    outcome = forms.ChoiceField(
        label="结果",
        required=False,
        choices=[("", "全部结果"), *AuditEvent.Outcome.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    actor = forms.CharField(
        label="操作人（编号或姓名）", required=False, max_length=50, widget=forms.TextInput(_TEXT)
    )
    ip = forms.GenericIPAddressField(label="IP 地址", required=False, widget=forms.TextInput(_TEXT))
    object_type = forms.CharField(
        label="对象类型", required=False, max_length=40, widget=forms.TextInput(_TEXT)
    )
    object_id = forms.CharField(
        label="对象编号", required=False, max_length=40, widget=forms.TextInput(_TEXT)
    )

    def filters(self) -> dict[str, object]:
        """The filters that checked out and are not empty."""
        self.is_valid()
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in self.errors and value not in ("", None)
        }
