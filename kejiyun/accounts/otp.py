"""The second factor of privileged accounts (docs/requirements/security.md item 4; ADR 0016).

Staff, reviewers, auditors and administrators sign in with their password and then a
6-digit TOTP code from an authenticator app (django-otp's `TOTPDevice`), or one of ten
single-use recovery codes (django-otp's `StaticDevice`). A TOTP code works once: the device
keeps the last time step it accepted (`last_t`) and refuses that step and every earlier one.
Wrong codes are throttled by django-otp (a growing wait after each failure) and audited.

Writes go through the services here; the views (`kejiyun.accounts.views`), the API's token
grants (`kejiyun.api.routers.auth`) and the middleware (`kejiyun.accounts.middleware`) call
them.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

import segno
from django.conf import settings
from django.db import transaction
from django.http import Http404
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from kejiyun.accounts.models import Role, User
from kejiyun.accounts.services import AccountError
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.audit.services import audit_record

RECOVERY_CODE_COUNT = 10
TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery"

WRONG_CODE = "动态口令不正确或已使用过，请输入验证器当前显示的6位数字，或一个未用过的恢复码。"
WRONG_ENROL_CODE = "动态口令不正确，请核对验证器中的6位数字后重试（注意手机时间须准确）。"


class SecondFactorError(AccountError):
    """A refused second-factor step; nothing was changed (but a failure was counted)."""


def second_factor_required(user: User) -> bool:
    """Must this account pass a second factor before using the platform?"""
    return bool(settings.OTP_REQUIRED) and user.is_authenticated and user.is_privileged


def session_verified(user: User) -> bool:
    """Has this request's user passed the second factor in this session? (django-otp's
    `OTPMiddleware` gives `request.user` its `is_verified`.)"""
    check = getattr(user, "is_verified", None)
    return bool(check()) if callable(check) else False


def totp_device_of(user: User) -> TOTPDevice | None:
    """The account's confirmed authenticator, if it has enrolled."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator shown on the enrolment page: the same one on every
    visit until it is confirmed, so the QR code does not change under the person's feet."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=TOTP_NAME).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def totp_secret_base32(device: TOTPDevice) -> str:
    """The secret for typing into an authenticator by hand, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URI as an SVG QR code in a `data:` URI for an <img> (no script, no
    request, allowed by the CSP's img-src; nothing printed unescaped into the page)."""
    return str(segno.make(device.config_url, error="m").svg_data_uri(scale=4, dark="#000"))


def access_reset_target(actor: User, user_id: int) -> User:
    """The account whose second factor `actor` may reset, or Http404 (an unknown id and one
    `actor` may not reset answer alike)."""
    target = User.objects.filter(pk=user_id).first()
    if target is None or not may_reset_second_factor(actor, target):
        raise Http404("页面不存在")
    return target


@dataclass(frozen=True)
class Enrolled:
    device: TOTPDevice
    recovery_codes: list[str]


def second_factor_enrol(*, user: User, device: TOTPDevice, code: str, ip: str | None) -> Enrolled:
    """Confirm the pending authenticator with one code from it; issue recovery codes.
    A wrong code enrols nothing."""
    if device.user_id != user.pk or device.confirmed:
        raise SecondFactorError(WRONG_ENROL_CODE, code="otp_enrol_stale")
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if not _totp_verify(locked, code):
            raise SecondFactorError(WRONG_ENROL_CODE, code="otp_enrol_wrong")
        TOTPDevice.objects.filter(user=user).exclude(pk=locked.pk).delete()
        locked.confirmed = True
        locked.save(update_fields=["confirmed"])
        audit_record(
            action=AuditAction.OTP_ENROL,
            user=user,
            ip=ip,
            object_type="user",
            object_id=str(user.pk),
        )
        codes = recovery_codes_issue(user=user, ip=ip)
    return Enrolled(device=locked, recovery_codes=codes)


def recovery_codes_issue(*, user: User, ip: str | None) -> list[str]:
    """Ten new single-use recovery codes; the old ones stop working. Shown once."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
        audit_record(
            action=AuditAction.RECOVERY_CODES,
            user=user,
            ip=ip,
            object_type="user",
            object_id=str(user.pk),
        )
    return [f"{c[:4]}-{c[4:]}" for c in codes]


def recovery_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


def _totp_verify(device: TOTPDevice, code: str) -> bool:
    return bool(re.fullmatch(r"\d{6}", code)) and bool(device.verify_token(code))


def _throttled(device: Device) -> bool:
    allowed, _data = device.verify_is_allowed()
    return not allowed


def second_factor_check(*, user: User, code: str, ip: str | None) -> Device:
    """The device `code` belongs to: a 6-digit code of the account's authenticator (each
    works once) or one of its unused recovery codes (deleted as it is used). Refusals are
    throttled and audited (OTP_FAILED)."""
    value = re.sub(r"[\s-]", "", code or "").lower()
    if re.fullmatch(r"\d{6}", value):
        device: Device | None = totp_device_of(user)
        kind = "totp"
    else:
        device = StaticDevice.objects.filter(user=user, confirmed=True).first()
        kind = "recovery"
    if device is None:
        _failed(user, ip, kind, "no_device")
        raise SecondFactorError(WRONG_CODE, code="otp_wrong")
    with transaction.atomic():
        locked = type(device).objects.select_for_update().get(pk=device.pk)
        throttled = _throttled(locked)
        ok = not throttled and bool(locked.verify_token(value))
    if throttled:
        _failed(user, ip, kind, "throttled")
        raise SecondFactorError(
            "动态口令错误次数过多，请稍等一会儿再试（每错一次，等待时间加倍）。",
            code="otp_throttled",
        )
    if not ok:
        _failed(user, ip, kind, "wrong")
        raise SecondFactorError(WRONG_CODE, code="otp_wrong")
    if kind == "recovery":
        audit_record(
            action=AuditAction.RECOVERY_USED,
            user=user,
            ip=ip,
            object_type="user",
            object_id=str(user.pk),
            detail={"left": recovery_codes_left(user)},
        )
    return locked


def _failed(user: User, ip: str | None, kind: str, reason: str) -> None:
    audit_record(
        action=AuditAction.OTP_FAILED,
        user=user,
        ip=ip,
        object_type="user",
        object_id=str(user.pk),
        outcome=AuditEvent.Outcome.REFUSED,
        detail={"kind": kind, "reason": reason},
    )


def may_reset_second_factor(actor: User, target: User) -> bool:
    """An administrator holding `accounts.reset_second_factor` may reset another privileged
    account's second factor; only a superuser may reset an administrator's or superuser's;
    nobody resets their own (they would bypass the factor they are meant to hold)."""
    if actor.pk == target.pk or not target.is_privileged:
        return False
    if not (actor.is_superuser or actor.role == Role.ADMIN):
        return False
    if not actor.has_perm("accounts.reset_second_factor"):
        return False
    if target.is_superuser or target.role == Role.ADMIN:
        return actor.is_superuser
    return True


def second_factor_reset(*, actor: User, target: User, ip: str | None) -> int:
    """Remove every device of `target` (authenticator and recovery codes): the target must
    enrol again at the next sign-in, and any session verified with the old devices is no
    longer verified. Returns how many devices were removed."""
    if not may_reset_second_factor(actor, target):
        audit_record(
            action=AuditAction.OTP_RESET,
            user=actor,
            ip=ip,
            object_type="user",
            object_id=str(target.pk),
            outcome=AuditEvent.Outcome.REFUSED,
        )
        raise SecondFactorError("您无权重置该账号的动态口令。", code="otp_reset_refused")
    with transaction.atomic():
        totp = TOTPDevice.objects.filter(user=target).delete()[1]
        static = StaticDevice.objects.filter(user=target).delete()[1]
        removed = int(totp.get("otp_totp.TOTPDevice", 0) + static.get("otp_static.StaticDevice", 0))
        audit_record(
            action=AuditAction.OTP_RESET,
            user=actor,
            ip=ip,
            object_type="user",
            object_id=str(target.pk),
            detail={"devices": removed},
        )
    return removed
