"""Unmasking: personal data is shown masked everywhere; a user with the
`accounts.unmask_personal` permission may ask, on one page and for one object, to see it in
full. The grant is kept in the session for `UNMASK_SECONDS`, keyed by the page's URL name and
the object's id, and each grant writes one UNMASK audit row (who, from where, which object,
why; never the values shown).

Pages declare themselves with `unmaskable(...)`, naming the `access_<entity>` helper that
decides whether the user may see the object at all, so an unmask for an object outside the
user's jurisdiction is a 404 like the page itself. Views read the state with `unmask_state`
and templates draw the button with `{% unmask_button unmask %}` and the values with the
filters of `kejiyun/accounts/templatetags/personal.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.common.ratelimit import client_ip

UNMASK_PERMISSION = "accounts.unmask_personal"
UNMASK_SECONDS = 10 * 60
SESSION_KEY = "unmask_grants"

# Why someone needs to see a full number; "other" asks for the reason in words.
UNMASK_REASONS = {
    "contact": "办理服务事项需要联系本人",
    "verify": "核验身份信息",
    "complaint": "处理投诉、异议或核查",
    "other": "其他",
}
REASON_MAX_LENGTH = 200


@dataclass(frozen=True)
class Unmaskable:
    """A page that shows one object's personal data masked: its URL name, the URL keyword
    that carries the object's id, the object's type (for the audit row) and the access
    helper that returns the object or raises Http404."""

    view: str
    url_kwarg: str
    object_type: str
    access: Callable[[User, int], object]


_PAGES: dict[str, Unmaskable] = {}


def unmaskable(
    *, view: str, url_kwarg: str, object_type: str, access: Callable[[User, int], object]
) -> None:
    """Declare `view` as a page whose object may be unmasked (called by the app's views)."""
    _PAGES[view] = Unmaskable(
        view=view, url_kwarg=url_kwarg, object_type=object_type, access=access
    )


def unmaskable_page(view: str) -> Unmaskable | None:
    return _PAGES.get(view)


def may_unmask(user: object) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_perm(  # type: ignore[attr-defined]
        UNMASK_PERMISSION
    )


def _key(view: str, object_id: int) -> str:
    return f"{view}#{object_id}"


@dataclass(frozen=True)
class UnmaskState:
    """What a page needs to know: whether the user may ask, whether the values are shown in
    full now, and until when."""

    view: str
    object_id: int
    allowed: bool
    until: datetime | None

    @property
    def active(self) -> bool:
        return self.until is not None


def unmask_state(request: HttpRequest, *, view: str, object_id: int) -> UnmaskState:
    """The unmask state of `view` for object `object_id` for the signed-in user. A grant
    counts only while it lasts and while the user still holds the permission."""
    allowed = may_unmask(request.user)
    until = None
    if allowed:
        expires = request.session.get(SESSION_KEY, {}).get(_key(view, object_id))
        if expires is not None and expires > timezone.now().timestamp():
            until = datetime.fromtimestamp(expires, tz=timezone.get_current_timezone())
    return UnmaskState(view=view, object_id=object_id, allowed=allowed, until=until)


def unmask_grant(
    request: HttpRequest, *, page: Unmaskable, object_id: int, reason: str
) -> UnmaskState:
    """Show `page`'s object `object_id` in full to the signed-in user for UNMASK_SECONDS,
    and audit it. The caller has checked the permission and the user's access to the object."""
    now = timezone.now().timestamp()
    grants = {
        key: expires
        for key, expires in request.session.get(SESSION_KEY, {}).items()
        if expires > now
    }
    grants[_key(page.view, object_id)] = now + UNMASK_SECONDS
    request.session[SESSION_KEY] = grants
    audit_record(
        action=AuditAction.UNMASK,
        user=request.user,  # type: ignore[arg-type]
        ip=client_ip(request),
        object_type=page.object_type,
        object_id=str(object_id),
        detail={"view": page.view, "reason": reason, "seconds": UNMASK_SECONDS},
    )
    return unmask_state(request, view=page.view, object_id=object_id)
