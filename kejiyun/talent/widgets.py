"""The classification picker: discipline (学科) and industry (行业) as a searchable tree.

The widget renders the chosen nodes as ticked checkboxes (radios for a single choice) named
after the field, so they post their codes exactly as before and a worker can drop one
without JavaScript. `kejiyun/static/js/pickers.js` adds a search box (by Chinese name, e.g.
果树学 or 酒的制造) and an expandable tree read from the public endpoints in
`kejiyun/talent/views.py`; ticking a node adds it to the chosen ones. Nobody types NSFC or
GB/T 4754 codes.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.urls import reverse

from kejiyun.talent.selectors import classification_path, classifications_by_codes

_CODE_SPLIT = re.compile(r"[\s,，;；、]+")


def split_codes(value: Any) -> list[str]:
    """Codes from what a form posted: one value per chosen node, or (as older pages and
    imports posted) several codes in one value separated by commas or spaces."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    codes: list[str] = []
    for item in items:
        for code in _CODE_SPLIT.split(str(item).strip()):
            if code and code.upper() not in codes:
                codes.append(code.upper())
    return codes


class ClassificationTree(forms.Widget):
    template_name = "talent/widgets/classification_tree.html"

    def __init__(
        self, kind: str, *, multiple: bool = True, attrs: dict[str, Any] | None = None
    ) -> None:
        super().__init__(attrs)
        self.kind = kind
        self.multiple = multiple

    def format_value(self, value: Any) -> list[str]:  # type: ignore[override]
        if value is None:
            return []
        if hasattr(value, "code"):
            return [value.code]
        if not isinstance(value, str) and hasattr(value, "__iter__"):
            return [v.code if hasattr(v, "code") else str(v) for v in value]
        return split_codes(value)

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        getter = getattr(data, "getlist", None)
        values = getter(name) if getter is not None else data.get(name)
        if not self.multiple and isinstance(values, list):
            return values[0] if values else ""
        return values

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        codes = context["widget"]["value"]
        chosen = [
            {"code": node.code, "name": node.name, "path": classification_path(node)}
            for node in classifications_by_codes(self.kind, codes)
        ]
        context["tree"] = {
            "kind": self.kind,
            "noun": "学科" if self.kind == "discipline" else "行业",
            "example": "果树学" if self.kind == "discipline" else "酒的制造",
            "multiple": self.multiple,
            "chosen": chosen,
            "children_url": reverse("talent:classification_children", args=[self.kind]),
            "search_url": reverse("talent:classification_search", args=[self.kind]),
        }
        return context


class ClassificationField(forms.Field):
    """Codes of disciplines or industries chosen in a `ClassificationTree`; the form's own
    clean method looks them up (and names the unknown ones)."""

    def __init__(self, kind: str, *, multiple: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("widget", ClassificationTree(kind, multiple=multiple))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:
        return split_codes(value)
