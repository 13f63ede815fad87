"""Forms of the scheme pages: the scheme's fields with a period picker like the operations
dashboard's, and its items as rows (an empty row is ignored). The rules themselves are the
service's (`check_input`); the form only reads the values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms

from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.ops.indicators import CATALOGUE, GROUP_NAMES
from kejiyun.ops.periods import KIND_NAMES, Period, PeriodError, PeriodKind
from kejiyun.performance.models import Normalisation, Scheme
from kejiyun.performance.schemes.services import ItemInput, SchemeInput
from kejiyun.performance.scoring import unit_of

ITEM_ROWS = 10


def indicator_choices() -> list[Any]:
    """The catalogue's indicators that have a direction, grouped, with Chinese labels."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for ind in CATALOGUE:
        if ind.better == 0:
            continue
        unit = unit_of(ind.key)
        direction = "越高越好" if ind.better == 1 else "越低越好"
        label = f"{ind.name}（{unit + '，' if unit else ''}{direction}）"
        groups.setdefault(GROUP_NAMES[ind.group], []).append((ind.key, label))
    return [("", "—— 不选 ——"), *groups.items()]


class SchemeForm(BootstrapFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label="方案名称", max_length=80)
    level = forms.ChoiceField(label="考核对象", choices=Scheme.Level.choices)
    kind = forms.ChoiceField(
        label="考核期类型",
        choices=[(k.value, KIND_NAMES[k]) for k in PeriodKind],
        initial=PeriodKind.HALF,
    )
    year = forms.IntegerField(label="年份", min_value=2000, max_value=2100, required=False)
    half = forms.ChoiceField(
        label="半年", choices=[("1", "上半年"), ("2", "下半年")], required=False
    )
    quarter = forms.ChoiceField(
        label="季度", choices=[(str(q), f"第{q}季度") for q in range(1, 5)], required=False
    )
    month = forms.ChoiceField(
        label="月份", choices=[(str(m), f"{m}月") for m in range(1, 13)], required=False
    )
    start = forms.DateField(
        label="开始日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="结束日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(
        label="方案说明", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    discount_open_above = forms.DecimalField(
        label="未复核标记扣除阈值",
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal(1),
        decimal_places=2,
        help_text="留空则只扣除已确认的刷量；填 0.90 则置信度不低于 0.90 的待复核标记也扣除",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            data["period"] = self._period(data).token
        except PeriodError as error:
            self.add_error(None, str(error))
        return data

    def _period(self, data: dict[str, Any]) -> Period:
        kind = data.get("kind")
        if kind == PeriodKind.CUSTOM:
            start, end = data.get("start"), data.get("end")
            if not isinstance(start, date) or not isinstance(end, date):
                raise PeriodError("自定义考核期需要开始和结束日期")
            return Period.parse(f"{start.isoformat()}~{end.isoformat()}")
        year = data.get("year")
        if not year:
            raise PeriodError("请填写考核期的年份")
        if kind == PeriodKind.MONTH:
            return Period.month(year, int(data.get("month") or 1))
        if kind == PeriodKind.QUARTER:
            return Period.quarter(year, int(data.get("quarter") or 1))
        if kind == PeriodKind.HALF:
            return Period.half(year, int(data.get("half") or 1))
        return Period.year(year)


def period_initial(token: str) -> dict[str, Any]:
    """The picker's fields for a period token."""
    period = Period.parse(token)
    out: dict[str, Any] = {"kind": period.kind.value, "year": period.start.year}
    if period.kind == PeriodKind.MONTH:
        out["month"] = str(period.start.month)
    elif period.kind == PeriodKind.QUARTER:
        out["quarter"] = str((period.start.month - 1) // 3 + 1)
    elif period.kind == PeriodKind.HALF:
        out["half"] = "1" if period.start.month == 1 else "2"
    elif period.kind == PeriodKind.CUSTOM:
        out["start"], out["end"] = period.start, period.end
    return out


class ItemForm(BootstrapFormMixin, forms.Form):
    indicator = forms.ChoiceField(label="指标", choices=indicator_choices, required=False)
    weight = forms.DecimalField(
        label="权重（分）", required=False, max_digits=6, decimal_places=2, min_value=0
    )
    normalisation = forms.ChoiceField(
        label="计分方法", choices=Normalisation.choices, initial=Normalisation.TARGET
    )
    target = forms.DecimalField(label="目标值", required=False, max_digits=16, decimal_places=4)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("indicator") and data.get("weight") is None:
            self.add_error("weight", "请填写权重")
        return data

    def as_input(self) -> ItemInput | None:
        data = self.cleaned_data
        if not data.get("indicator"):
            return None
        return ItemInput(
            indicator=data["indicator"],
            weight=data["weight"],
            normalisation=data["normalisation"],
            target=data.get("target"),
        )


ItemFormSet = forms.formset_factory(ItemForm, extra=0, min_num=ITEM_ROWS, max_num=ITEM_ROWS)


def scheme_input(form: SchemeForm, items: Any) -> SchemeInput:
    data = form.cleaned_data
    rows = [row.as_input() for row in items.forms]
    return SchemeInput(
        name=data["name"],
        period=data["period"],
        level=data["level"],
        note=data.get("note") or "",
        discount_open_above=data.get("discount_open_above"),
        items=[row for row in rows if row is not None],
    )
