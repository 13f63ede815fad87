from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from kejiyun.accounts.models import User
from kejiyun.accounts.validators import is_valid_mobile, normalise_mobile


class UsernameOrMobileBackend(ModelBackend):
    """Sign in with a mainland mobile number or a username, and a password."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None:
            return None
        mobile = normalise_mobile(username)
        if is_valid_mobile(mobile):
            user = User.objects.filter(mobile=mobile).first()
        else:
            user = User.objects.filter(username=username.strip()).first()
        if user is None:
            # Spend the same time hashing as for a real user, so timing reveals nothing.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
