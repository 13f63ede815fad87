"""Form helpers shared by every app."""

from __future__ import annotations

from typing import Any

from django import forms


class BootstrapFormMixin:
    """Give every widget the Bootstrap class it needs, and mark fields with errors.

    Checkboxes and radios get `form-check-input` (never `form-control`, which draws them as
    empty boxes); `_form.html` lays them out as Bootstrap form-check lines. A plain
    multiple select (Ctrl-click to choose several) becomes a list of checkboxes."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if type(widget) is forms.SelectMultiple:
                attrs = {k: v for k, v in widget.attrs.items() if k != "size"}
                field.widget = widget = forms.CheckboxSelectMultiple(
                    attrs=attrs, choices=widget.choices
                )
            if isinstance(widget, (forms.CheckboxInput, forms.RadioSelect)):
                # RadioSelect covers CheckboxSelectMultiple, its subclass.
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            classes = widget.attrs.get("class", "").split()
            if css not in classes:
                classes.append(css)
            widget.attrs["class"] = " ".join(classes)

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        for name in getattr(self, "_errors", {}) or {}:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
                widget.attrs["aria-invalid"] = "true"
