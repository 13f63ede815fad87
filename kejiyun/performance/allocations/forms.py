"""Forms of the allocation pages. Money is typed in yuan with at most two decimals and handed
to the services in whole fen; the services check it again."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.ops.indicators import BY_KEY
from kejiyun.performance.models import Allocation, Normalisation, Scheme, SchemeItem

STALE_PAGE = "页面已过期，请刷新后再试。"
MAX_YUAN = Decimal("1000000000000")  # one trillion yuan: anything above is a typing error


def yuan_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal(0),
        max_value=MAX_YUAN,
        max_digits=15,
        decimal_places=2,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        error_messages={
            "required": f"请填写{label}。",
            "invalid": f"{label}须是金额，单位元，最多两位小数。",
            "max_decimal_places": f"{label}最多两位小数（精确到分）。",
            "max_digits": f"{label}过大。",
            "max_whole_digits": f"{label}过大。",
            "min_value": f"{label}不能为负数。",
            "max_value": f"{label}不能超过 1 万亿元。",
        },
    )


def to_fen(value: Decimal | None) -> int | None:
    """Yuan (at most two decimals) as whole fen; None stays None."""
    return None if value is None else int(value * 100)


def to_yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(fen) / 100


def _label(key: str) -> str:
    indicator = BY_KEY.get(key)
    return indicator.name if indicator is not None else key


class VersionForm(forms.Form):
    """The version the page showed, carried by every write."""

    version = forms.IntegerField(
        min_value=1,
        widget=forms.HiddenInput,
        error_messages={"required": STALE_PAGE, "invalid": STALE_PAGE, "min_value": STALE_PAGE},
    )


class AmountsForm(BootstrapFormMixin, forms.Form):
    budget = yuan_field("预算（元）")
    base = yuan_field("每个中心的基础额（元）", required=False, help_text="留空为 0")
    floor = yuan_field("每个中心的下限（元）", required=False, help_text="留空为 0")
    cap = yuan_field("每个中心的上限（元）", required=False, help_text="留空为不设上限")

    def clean_budget(self) -> Decimal:
        budget: Decimal = self.cleaned_data["budget"]
        if budget <= 0:
            raise forms.ValidationError("预算须大于 0 元。")
        return budget

    def amounts(self) -> dict[str, int | None]:
        data = self.cleaned_data
        return {
            "budget_fen": to_fen(data["budget"]),
            "base_fen": to_fen(data["base"]) or 0,
            "floor_fen": to_fen(data["floor"]) or 0,
            "cap_fen": to_fen(data["cap"]),
        }


class SchemeChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.period}，{obj.get_level_display()}）"


class AllocationForm(AmountsForm):
    field_order = ["scheme", "name", "budget", "base", "floor", "cap"]
    scheme = SchemeChoice(
        label="考核方案",
        queryset=Scheme.objects.none(),
        error_messages={
            "required": "请选择已发布的考核方案。",
            "invalid_choice": "请选择已发布的考核方案。",
        },
    )
    name = forms.CharField(label="名称", max_length=80, error_messages={"required": "请填写名称。"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["scheme"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Scheme.objects.filter(status=Scheme.Status.PUBLISHED).order_by(
            "-period", "level", "-id"
        )


class EditForm(VersionForm, AmountsForm):
    field_order = ["name", "budget", "base", "floor", "cap"]
    name = forms.CharField(label="名称", max_length=80, error_messages={"required": "请填写名称。"})

    @staticmethod
    def initial_from(allocation: Allocation) -> dict[str, Any]:
        return {
            "version": allocation.version,
            "name": allocation.name,
            "budget": to_yuan(allocation.budget_fen),
            "base": to_yuan(allocation.base_fen),
            "floor": to_yuan(allocation.floor_fen),
            "cap": to_yuan(allocation.cap_fen),
        }


class BoundsForm(BootstrapFormMixin, VersionForm):
    """One centre's own floor and cap; both empty: back to the defaults."""

    floor = yuan_field("下限（元）", required=False)
    cap = yuan_field("上限（元）", required=False, help_text="留空为不设上限")
    reset = forms.BooleanField(label="恢复默认上下限", required=False)


class ReturnForm(BootstrapFormMixin, VersionForm):
    reason = forms.CharField(
        label="退回原因",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "请填写退回原因。",
            "max_length": "退回原因不能超过 500 个字。",
        },
    )


class WhatIfForm(AmountsForm):
    """The allocation's amounts and its scheme's items, each of which may be changed; read
    from the query string, so the what-if works without JavaScript and saves nothing."""

    def __init__(self, *args: Any, items: list[SchemeItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            key = item.indicator
            self.fields[f"w_{key}"] = forms.DecimalField(
                label="权重",
                min_value=Decimal(0),
                max_value=Decimal(1000),
                max_digits=6,
                decimal_places=2,
                error_messages={
                    "required": "请填写权重（0 表示不计该指标）。",
                    "invalid": "权重须是数字。",
                    "min_value": "权重不能为负数。",
                    "max_value": "权重不能超过 1000。",
                    "max_decimal_places": "权重最多两位小数。",
                    "max_digits": "权重过大。",
                    "max_whole_digits": "权重过大。",
                },
            )
            self.fields[f"t_{key}"] = forms.DecimalField(
                label="目标值",
                required=False,
                max_digits=16,
                decimal_places=4,
                error_messages={"invalid": "目标值须是数字。"},
            )
            self.fields[f"n_{key}"] = forms.ChoiceField(
                label="计分方法", choices=Normalisation.choices
            )
        for name, field in self.fields.items():
            if name[:2] in ("w_", "t_", "n_"):
                css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
                field.widget.attrs["class"] = f"{css} form-control-sm"

    @staticmethod
    def initial_from(allocation: Allocation, items: list[SchemeItem]) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "budget": to_yuan(allocation.budget_fen),
            "base": to_yuan(allocation.base_fen),
            "floor": to_yuan(allocation.floor_fen),
            "cap": to_yuan(allocation.cap_fen),
        }
        for item in items:
            initial[f"w_{item.indicator}"] = item.weight
            initial[f"t_{item.indicator}"] = item.target
            initial[f"n_{item.indicator}"] = item.normalisation
        return initial

    def overrides(self) -> dict[str, dict[str, Any]]:
        data = self.cleaned_data
        return {
            item.indicator: {
                "weight": data[f"w_{item.indicator}"],
                "target": data[f"t_{item.indicator}"],
                "normalisation": data[f"n_{item.indicator}"],
            }
            for item in self.items
        }

    def rows(self) -> list[dict[str, Any]]:
        """The item fields grouped per indicator, for the template."""
        return [
            {
                "item": item,
                "label": BY_KEY[item.indicator].name
                if item.indicator in BY_KEY
                else item.indicator,
                "weight": self[f"w_{item.indicator}"],
                "target": self[f"t_{item.indicator}"],
                "normalisation": self[f"n_{item.indicator}"],
            }
            for item in self.items
        ]
