"""The in-app inbox (站内信): every signed-in user sees only their own messages."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from kejiyun.notifications.selectors import inbox_for_user, inbox_unread_count
from kejiyun.notifications.services import inbox_mark_all_read, inbox_mark_read


def _signed_in(request: HttpRequest) -> AbstractBaseUser:
    """The signed-in user of a view behind `login_required` (notifications sit below
    accounts, so they see Django's base user, not the platform's User)."""
    if not isinstance(request.user, AbstractBaseUser):
        raise PermissionDenied
    return request.user


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user = _signed_in(request)
    page = Paginator(inbox_for_user(user=user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "unread": inbox_unread_count(user=user)},
    )


@login_required
@require_POST
def mark_read(request: HttpRequest, item_id: int) -> HttpResponse:
    """Mark one of my messages read, then follow its link if asked to (same host only)."""
    user = _signed_in(request)
    inbox_mark_read(user=user, item_id=item_id)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    user = _signed_in(request)
    inbox_mark_all_read(user=user)
    return redirect("notifications:inbox")
