"""Login lock-out (docs/requirements/security.md item 2): the 6th failed sign-in within 15
minutes is refused even with the right password, and the account unlocks 30 minutes after
the last failure. Failures are counted per login name (mobile or username), whatever the address."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from kejiyun.accounts.models import LoginFailure, User
from kejiyun.accounts.validators import is_valid_mobile, normalise_mobile

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=30)


def login_identity(login_name: str) -> str:
    """A keyed hash naming the account (whichever of its names was typed), or the typed
    name when no account has it, so guessing at unknown names is limited too."""
    mobile = normalise_mobile(login_name)
    users = User.objects.values_list("pk", flat=True)
    if is_valid_mobile(mobile):
        name, user_id = mobile, users.filter(mobile=mobile).first()
    else:
        name = login_name.strip().lower()
        user_id = users.filter(username=login_name.strip()).first()
    key = f"user:{user_id}" if user_id is not None else f"name:{name}"
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
