"""Auth signal receivers of the accounts app: a login footprint on every successful login."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from kejiyun.accounts.footprints import footprint_record
from kejiyun.accounts.models import Footprint


@receiver(user_logged_in, dispatch_uid="accounts_login_footprint")
def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    footprint_record(request, user, Footprint.Kind.LOGIN)
