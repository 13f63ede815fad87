"""View guards by role, and the request type a guarded view receives.

Deny by default: a guard that does not match answers the login page (anonymous users) or a
404 (signed-in users of another role), never 403, so a refusal does not reveal the page.
Every app's views use these guards, so they live in accounts, beside `Role`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

from kejiyun.accounts.models import Role, User

View = Callable[..., HttpResponseBase]


class AuthenticatedRequest(HttpRequest):
    """The request of a view behind `login_required` or one of the guards below: its `user`
    is a signed-in platform `User`. A type for the checker; at run time it is the request."""

    user: User


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


def enterprise_required(view: View) -> View:
    """Enterprise users bound to an organisation only; anonymous users get the login page,
    everyone else a 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(user, "role", None) != Role.ENTERPRISE or not user.organisation_id:
            raise Http404("页面不存在")
        return view(request, *args, **kwargs)

    return wrapper


def worker_required(view: View) -> View:
    """S&T workers (科技工作者) only; anonymous users get the login page, everyone else a
    404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(user, "role", None) != Role.WORKER:
            raise Http404("页面不存在")
        return view(request, *args, **kwargs)

    return wrapper


def privileged_required(view: View) -> View:
    """Staff, reviewers, auditors, administrators and superusers (the accounts that hold a
    second factor); anonymous users get the login page, everyone else a 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_privileged:
            raise Http404("页面不存在")
        return view(request, *args, **kwargs)

    return wrapper
