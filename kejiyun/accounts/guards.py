"""View guards by role. Deny by default: a guard that does not match answers 404 or login."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

from kejiyun.accounts.models import Role

View = Callable[..., HttpResponseBase]


def staff_required(view: View) -> View:
    """Centre staff and administrators only; everyone else gets the login page or a 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_centre_staff or user.sees_everything):
            raise Http404("页面不存在")
        return view(request, *args, **kwargs)

    return wrapper


def reviewer_required(view: View) -> View:
    """Reviewers (评审专家) only; anonymous users get the login page, everyone else a 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(user, "role", None) != Role.REVIEWER:
            raise Http404("页面不存在")
        return view(request, *args, **kwargs)

    return wrapper
