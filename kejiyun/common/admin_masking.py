"""Personal data in the admin: shown masked, never in full (item 17).

`MaskedAdminMixin` shows each field named in `masked_fields` read-only through
`mask_personal_text` (a mobile, an ID number, or free text with numbers typed into it) and
keeps it out of the form, in the change list, the change form and inline rows. Writes to
these fields go through the services, not the admin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kejiyun.common.masking import mask_personal_text

SUFFIX = "_masked"


def _masked_display(model: Any, name: str) -> Callable[[Any], str]:
    def show(obj: Any) -> str:
        value = getattr(obj, name, "")
        return mask_personal_text(str(value)) if value not in (None, "") else "—"

    try:
        label = model._meta.get_field(name).verbose_name
    except Exception:  # a property, not a field
        label = name
    show.short_description = label  # type: ignore[attr-defined]
    show.__name__ = f"{name}{SUFFIX}"
    return show


class MaskedAdminMixin:
    masked_fields: Sequence[str] = ()
    model: Any

    def __getattr__(self, name: str) -> Any:
        base = name.removesuffix(SUFFIX)
        if name.endswith(SUFFIX) and base in type(self).masked_fields:
            return _masked_display(self.model, base)
        raise AttributeError(name)

    def _swap(self, names: Sequence[Any]) -> list[Any]:
        swapped = [
            f"{n}{SUFFIX}" if isinstance(n, str) and n in self.masked_fields else n for n in names
        ]
        return list(dict.fromkeys(swapped))

    # An add form starts empty: it takes the values in. Every other page shows them masked.

    def get_exclude(self, request: Any, obj: Any = None) -> list[str]:
        base = list(super().get_exclude(request, obj) or ())  # type: ignore[misc]
        return base if obj is None else [*base, *self.masked_fields]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        base = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        return base if obj is None else self._swap([*base, *self.masked_fields])

    def get_fields(self, request: Any, obj: Any = None) -> list[Any]:
        fields = super().get_fields(request, obj)  # type: ignore[misc]
        return list(fields) if obj is None else self._swap(fields)

    def get_fieldsets(self, request: Any, obj: Any = None) -> list[Any]:
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        if obj is None:
            return list(fieldsets)
        return [
            (title, {**options, "fields": self._swap(options.get("fields", ()))})
            for title, options in fieldsets
        ]

    def get_list_display(self, request: Any) -> list[Any]:
        return self._swap(super().get_list_display(request))  # type: ignore[misc]
