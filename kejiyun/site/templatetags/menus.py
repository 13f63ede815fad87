"""The menus of every page (`{% menu "main" %}`, `"places"` and `"account"` in base.html).

The menus are some fifty links and labels, and they depend on nothing but who is looking
(their role, whether they get the service-centre menu, whether they are privileged or see
everything), the language and the URL configuration. Rendering them on every request cost
about as much as a whole bare Django page, so each process renders each variant once and
keeps the HTML. There is nothing to invalidate: none of what a menu depends on changes while
the process runs, and the key holds all of it. What does vary by person or request (the
name, the CSRF token, the current path) stays in base.html.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import SafeString
from django.utils.translation import get_language

register = template.Library()

MENUS = frozenset({"main", "places", "account"})

# (menu, variant, language, script prefix, URLconf) -> HTML: a few dozen entries at most
# (three menus, a handful of roles, two languages).
_RENDERED: dict[tuple[str, tuple[str, bool, bool, bool], str, str, str], SafeString] = {}
_MAX_ENTRIES = 256


def menu_variant(user: Any) -> tuple[str, bool, bool, bool]:
    """What of the user the menus show: their role ("" when signed out), whether they get
    the service-centre menu (centre staff and administrators), whether they are privileged
    (the security settings link) and whether they see everything (the admin link)."""
    if user is None or not user.is_authenticated:
        return "", False, False, False
    sees_everything = bool(getattr(user, "sees_everything", False))
    return (
        str(getattr(user, "role", "") or ""),
        bool(getattr(user, "is_centre_staff", False)) or sees_everything,
        bool(getattr(user, "is_privileged", False)),
        sees_everything,
    )


@register.simple_tag(takes_context=True)
def menu(context: template.Context, name: str) -> SafeString:
    if name not in MENUS:
        raise template.TemplateSyntaxError(f"unknown menu {name!r}")
    variant = menu_variant(context.get("user"))
    key = (
        name,
        variant,
        get_language() or settings.LANGUAGE_CODE,
        get_script_prefix(),
        str(get_urlconf() or settings.ROOT_URLCONF),
    )
    html = _RENDERED.get(key)
    if html is None:
        role, staff_menu, privileged, sees_everything = variant
        # A rendered template is already a SafeString (its variables were escaped when it
        # was rendered).
        html = render_to_string(
            f"_menu_{name}.html",
            {
                "menu_role": role,
                "staff_menu": staff_menu,
                "privileged": privileged,
                "sees_everything": sees_everything,
            },
        )
        if len(_RENDERED) < _MAX_ENTRIES:
            _RENDERED[key] = html
    return html
