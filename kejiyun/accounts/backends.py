from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from kejiyun.accounts.lockout import (
    login_account,
    login_failure_record,
    login_identity_of,
    login_locked,
)
from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.audit.services import audit_record
from kejiyun.common.prepared import PreparedQuery
from kejiyun.common.ratelimit import client_ip

# What a signed-in request reads of its user beyond the row itself.
SESSION_USER_RELATED = ("centre", "centre__region")
# Asked on every signed-in request: compiled once per process (kejiyun/common/prepared.py).
_SESSION_USER = PreparedQuery(
    lambda pk: User.objects.select_related(*SESSION_USER_RELATED).filter(pk=pk), -7_000_001
)


class UsernameOrMobileBackend(ModelBackend):
    """Sign in with a mainland mobile number or a username, and a password.

    Every login door (`/accounts/login/`, `/admin/login/`, any later one) authenticates
    here, so the lock-out lives here too: a locked login name is refused before its password
    is checked, and every wrong password is recorded (`kejiyun/accounts/lockout.py`)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None:
            return None
        user = login_account(username)
        if request is not None:
            # The audit row of a failed login names the target account by its id, never by
            # the typed name (kejiyun/audit/receivers.py).
            request.login_target_id = user.pk if user is not None else None  # type: ignore[attr-defined]
        identity = login_identity_of(login_name=username, account=user)
        if login_locked(identity=identity):
            # Stops every backend; Django then sends user_login_failed (audited). A refusal
            # while locked is not a new failure, so the lock lifts 30 minutes after the last one.
            # Each refused attempt is audited once, as LOGIN_LOCKED (no login name kept).
            audit_record(
                action=AuditAction.LOGIN_LOCKED,
                user=user,
                ip=client_ip(request),
                object_type="user" if user is not None else "",
                object_id=str(user.pk) if user is not None else "",
                outcome=AuditEvent.Outcome.REFUSED,
            )
            raise PermissionDenied("login locked")
        if user is None:
            # Spend the same time hashing as for a real user, so timing reveals nothing.
            User().set_password(password)
        elif user.check_password(password) and self.user_can_authenticate(user):
            return user
        login_failure_record(identity=identity, ip=client_ip(request))
        return None

    def get_user(self, user_id: Any) -> User | None:
        """The signed-in user of a session, loaded once per request with the centre and its
        region: every staff page scopes its reads by them (`jurisdiction_filter`), which
        would otherwise cost two more queries on each request."""
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        user = _SESSION_USER.first(pk)
        return user if user is not None and self.user_can_authenticate(user) else None
