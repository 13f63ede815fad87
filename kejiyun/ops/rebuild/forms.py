"""The range of days a staff rebuild of the rollups covers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms

from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.ops.rollups import BACKFILL_DAYS


class RebuildForm(BootstrapFormMixin, forms.Form):
    start = forms.DateField(label="开始日期", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="结束日期", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError("结束日期不能早于开始日期。")
            if end - start > timedelta(days=BACKFILL_DAYS):
                raise forms.ValidationError(f"一次最多重建 {BACKFILL_DAYS} 天。")
        return data
