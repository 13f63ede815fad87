"""Auth signal receivers: thin wrappers that write one audit row each
(docs/requirements/security.md item 11)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.common.ratelimit import client_ip


@receiver(user_logged_in, dispatch_uid="audit_login")
def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(action=AuditAction.LOGIN, user=user, ip=client_ip(request))


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Never the typed login name: it may be a phone number. The target account, when the name
    # matched one, is named by its id (the authentication backend notes it on the request).
    target = getattr(request, "login_target_id", None) if request is not None else None
    audit_record(
        action=AuditAction.LOGIN_FAILED,
        ip=client_ip(request),
        object_type="user" if target is not None else "",
        object_id=str(target) if target is not None else "",
        outcome="refused",
        detail={"reason": "bad_credentials"},
    )


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(action=AuditAction.LOGOUT, user=user, ip=client_ip(request))
