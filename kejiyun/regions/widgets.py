"""The region picker: a form widget for a `ModelChoiceField` (or `ModelMultipleChoiceField`)
over regions.

Without JavaScript it is a plain control that posts a valid region id: a select (or, for
several regions, a box of checkboxes) of the field's regions above the township level,
grouped by city, plus the current value even when it is a township. `kejiyun/static/js/
pickers.js` turns it into a search box (type 双流 or 简阳) and a cascade of selects, city →
county → township, read from the public endpoints in `kejiyun/regions/views.py`; the original
control stays in the form and keeps the region id, so the form and its validation are the
same with and without JavaScript.

The cascade starts below the deepest region that holds every choice (the province for the
counties of Sichuan, the county itself for a county centre's townships) and offers only the
levels the field's queryset has. The field's queryset still decides what is valid.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.models import Max, Min, Q, QuerySet
from django.forms.models import ModelChoiceIterator
from django.urls import reverse

from kejiyun.regions.models import Region
from kejiyun.regions.selectors import region_label

LEVEL_ORDER: list[str] = list(Region.Level.values)
LEVEL_PROMPTS = {
    Region.Level.PROVINCE: "省份",
    Region.Level.CITY: "市（州）",
    Region.Level.COUNTY: "区（县）",
    Region.Level.TOWNSHIP: "乡镇（街道）",
}


def _common_root(queryset: QuerySet[Region]) -> Region | None:
    """The deepest region whose subtree holds every row of `queryset` (None when the rows
    lie in more than one province, or there are none)."""
    bounds = queryset.order_by().aggregate(lo=Min("path"), hi=Max("path"))
    lo, hi = bounds["lo"], bounds["hi"]
    if not lo or not hi:
        return None
    shared: list[str] = []
    for a, b in zip(lo.split("/"), hi.split("/"), strict=False):
        if a != b or not a:
            break
        shared.append(a)
    return Region.objects.filter(pk=shared[-1]).first() if shared else None


class RegionPicker(forms.Select):
    """One region: a select of the field's regions (townships only when chosen) that the
    script turns into a search box and a city → county → township cascade."""

    template_name = "regions/widgets/region_picker.html"
    multiple = False

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        """The posted code with any NUL character replaced by U+FFFD: PostgreSQL refuses a
        NUL in a query (a 500); no region code holds either, so the choice is invalid."""
        value = super().value_from_datadict(data, files, name)
        if isinstance(value, str):
            return value.replace("\x00", "\ufffd")
        if isinstance(value, list):
            return [v.replace("\x00", "\ufffd") if isinstance(v, str) else v for v in value]
        return value

    def _queryset(self) -> QuerySet[Region]:
        choices = self.choices
        if isinstance(choices, ModelChoiceIterator):
            queryset: QuerySet[Region] = choices.queryset
            return queryset
        return Region.objects.none()

    def _empty_label(self) -> str | None:
        choices = self.choices
        if isinstance(choices, ModelChoiceIterator) and not self.multiple:
            label = choices.field.empty_label
            return str(label) if label is not None else None
        return None

    def optgroups(
        self, name: str, value: list[str], attrs: dict[str, Any] | None = None
    ) -> list[tuple[str | None, list[dict[str, Any]], int | None]]:
        """The fallback options: every choice above the township level, grouped by city,
        and the chosen regions whatever their level. Never the thousands of townships."""
        chosen = {str(v) for v in value if v}
        rows = list(
            self._queryset()
            .filter(~Q(level=Region.Level.TOWNSHIP) | Q(pk__in=chosen))
            .select_related("parent", "parent__parent")
            .order_by("path")
        )
        groups: list[tuple[str | None, list[dict[str, Any]], int | None]] = []
        index = 0
        empty = self._empty_label()
        if empty is not None:
            option = self.create_option(name, "", empty, not chosen, index, attrs=attrs)
            groups.append((None, [option], index))
            index += 1
        current: str | None = None
        for region in rows:
            group = self._group_of(region)
            if group is None or group != current or not groups:
                groups.append((group, [], index))
                current = group
            label = region.name if group is not None else region_label(region)
            if region.level == Region.Level.TOWNSHIP and region.parent is not None:
                label = f"{region.parent.name} · {region.name}"
            elif region.level == Region.Level.CITY and group is not None:
                label = f"{region.name}（全市）"
            groups[-1][1].append(
                self.create_option(
                    name, region.code, label, region.code in chosen, index, attrs=attrs
                )
            )
            index += 1
        return groups

    @staticmethod
    def _group_of(region: Region) -> str | None:
        """The city a fallback option is listed under (None for provinces)."""
        if region.level == Region.Level.CITY:
            return region.name
        node = region.parent
        while node is not None and node.level not in (Region.Level.CITY, Region.Level.PROVINCE):
            node = node.parent
        if node is None or node.level == Region.Level.PROVINCE:
            return None
        return node.name

    def picker_data(self, values: Iterable[str]) -> dict[str, Any]:
        queryset = self._queryset()
        levels = [
            level
            for level in LEVEL_ORDER
            if level in set(queryset.order_by().values_list("level", flat=True).distinct())
        ]
        root = _common_root(queryset)
        chosen = list(
            Region.objects.filter(pk__in=[v for v in values if v]).select_related(
                "parent", "parent__parent"
            )
        )
        return {
            "root": root.code if root else "",
            "root_name": root.name if root else "",
            "root_level": root.level if root else "",
            "levels": ",".join(levels),
            "multiple": self.multiple,
            "children_url": reverse("regions:roots"),
            "search_url": reverse("regions:search"),
            "initial": json.dumps(
                [
                    {"code": r.code, "label": region_label(r), "path": r.ancestor_codes}
                    for r in chosen
                ],
                ensure_ascii=False,
            ),
            "prompts": json.dumps(
                {str(k): v for k, v in LEVEL_PROMPTS.items()}, ensure_ascii=False
            ),
        }

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["picker"] = self.picker_data(context["widget"]["value"])
        return context


class RegionMultiPicker(RegionPicker):
    """Several regions: checkboxes of the field's regions by city without JavaScript; with it,
    the same search and cascade, an 添加 button and the chosen regions as removable chips."""

    allow_multiple_selected = True
    multiple = True

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        getter = getattr(data, "getlist", None)
        return getter(name) if getter is not None else data.get(name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        # An unticked checkbox list posts nothing at all.
        return False
