"""Login lock-out (docs/requirements/security.md item 2): the 6th failed sign-in within 15
minutes is refused even with the right password, and the account unlocks 30 minutes after
the last failure. Failures are counted per login name (mobile or username), whatever the address.

The lock-out is enforced where every login door meets: the authentication backend
(`kejiyun.accounts.backends.UsernameOrMobileBackend`) refuses a locked name and records each
failure, so `/accounts/login/`, `/admin/login/` and any later door that calls
`django.contrib.auth.authenticate` share one count. The forms only word the refusal
(`LOCKED_MESSAGE`, through `kejiyun.accounts.forms.LockoutMessageMixin`)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from kejiyun.accounts.models import LoginFailure, User
from kejiyun.accounts.selectors import user_by_mobile
from kejiyun.accounts.validators import is_valid_mobile, normalise_mobile

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=30)
LOCKED_MESSAGE = "登录失败次数过多，账号已临时锁定，请30分钟后再试或通过短信找回密码。"


def login_account(login_name: str) -> User | None:
    """The account a typed login name names: a mainland mobile in any notation, or a username."""
    mobile = normalise_mobile(login_name)
    if is_valid_mobile(mobile):
        return user_by_mobile(mobile)
    return User.objects.filter(username=login_name.strip()).first()


def login_identity(login_name: str) -> str:
    """A keyed hash naming the account (whichever of its names was typed), or the typed
    name when no account has it, so guessing at unknown names is limited too."""
    return login_identity_of(login_name=login_name, account=login_account(login_name))


def login_identity_of(*, login_name: str, account: User | None) -> str:
    """`login_identity` for a caller that has already looked up the account."""
    if account is not None:
        key = f"user:{account.pk}"
    else:
        mobile = normalise_mobile(login_name)
        key = f"name:{mobile if is_valid_mobile(mobile) else login_name.strip().lower()}"
    return hmac.new(settings.SECRET_KEY.encode(), key.encode(), hashlib.sha256).hexdigest()


def login_locked(*, identity: str, now: datetime | None = None) -> bool:
    """`identity` comes from `login_identity`."""
    moment = now or timezone.now()
    recent = list(
        LoginFailure.objects.filter(identity=identity, created_at__gt=moment - LOCK_FOR - WINDOW)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    # Locked when some run of MAX_FAILURES failures fits in WINDOW and the last failure
    # of the run is less than LOCK_FOR ago.
    for i in range(len(recent) - MAX_FAILURES + 1):
        last = recent[i + MAX_FAILURES - 1]
        if last - recent[i] <= WINDOW and moment - last < LOCK_FOR:
            return True
    return False


def login_failure_record(*, identity: str, ip: str | None) -> None:
    LoginFailure.objects.create(identity=identity, ip=ip or None)
