"""Writes for accounts and organisations: SMS codes, the user side of a self-registration,
password reset, staff accounts. The sign-up itself is `kejiyun.registration.services`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kejiyun.accounts.lockout import login_identity_of
from kejiyun.accounts.models import LoginFailure, Organisation, Role, SmsCode, User
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.common.crypto import mobile_lookup
from kejiyun.common.errors import ServiceError, record_check
from kejiyun.notifications.sms import get_sms_backend
from kejiyun.regions.models import Region


class AccountError(ServiceError):
    """A refused account write (registration, SMS code, password); nothing was changed."""


class SmsThrottled(Exception):
    """A code was sent to this number too recently."""


def _code_hash(*, mobile: str, purpose: str, code: str) -> str:
    message = f"{purpose}:{mobile}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


REGISTERED_NOTICE = (
    "【科技云】有人正在用本手机号注册科技云账号。本号码已经注册，如是您本人，请直接登录；"
    "忘记密码可在登录页通过“找回密码”重设。如非本人操作，请忽略。"
)


def sms_code_send(*, mobile: str, purpose: str, now: datetime | None = None) -> None:
    """Create a 6-digit code and send it, or raise `SmsThrottled`.

    The answer must not tell whether the number is registered (docs/requirements/security.md
    item 2), so every request is recorded and throttled alike, and the caller answers the
    same. Only what the phone receives differs: a reset code goes only to a registered
    number (an unknown one gets nothing), and so does a sign-in code (the API's
    `POST /api/v1/auth/sms-code`); a registration code goes only to an unregistered
    number, and a registered one gets a notice that someone tried to register with it. A
    request that sent no code is kept as an `SmsCode` with no hash, which throttles and counts
    guesses like any code and which no guess ever matches."""
    moment = now or timezone.now()
    recent = (
        SmsCode.objects.for_mobile(mobile)
        .filter(
            purpose=purpose,
            created_at__gt=moment - timedelta(seconds=settings.SMS_CODE_RESEND_SECONDS),
        )
        .exists()
    )
    if recent:
        raise SmsThrottled
    registered = User.objects.for_mobile(mobile).exists()
    # A reset or sign-in code goes only to a registered number; a registration code only to
    # an unregistered one.
    signs_in = purpose in (SmsCode.Purpose.RESET, SmsCode.Purpose.LOGIN)
    sends_code = registered if signs_in else not registered
    code = f"{secrets.randbelow(1_000_000):06d}"
    SmsCode.objects.create(
        mobile_hash=mobile_lookup(mobile),
        purpose=purpose,
        code_hash=_code_hash(mobile=mobile, purpose=purpose, code=code) if sends_code else "",
        created_at=moment,
        expires_at=moment + timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
    )
    if sends_code:
        label = SmsCode.Purpose(purpose).label
        body = (
            f"【科技云】您的{label}验证码是 {code}，{settings.SMS_CODE_TTL_SECONDS // 60}分钟内"
            "有效。如非本人操作，请忽略。"
        )
    elif purpose == SmsCode.Purpose.REGISTER:
        body = REGISTERED_NOTICE
    else:
        return
    get_sms_backend().send(mobile=mobile, body=body)


def sms_code_check(*, mobile: str, purpose: str, code: str) -> SmsCode:
    """Return the latest unused code for this number if `code` matches it.

    A wrong guess is counted (outside any caller's transaction, so a rolled-back
    registration still counts it); after SMS_CODE_MAX_ATTEMPTS the code is dead.
    """
    now = timezone.now()
    latest = (
        SmsCode.objects.for_mobile(mobile)
        .filter(purpose=purpose, used_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )
    error = AccountError("短信验证码不正确或已过期，请重新获取。", code="bad_sms_code")
    if latest is None or not latest.is_usable(now):
        raise error
    if latest.attempts >= settings.SMS_CODE_MAX_ATTEMPTS:
        raise AccountError("验证码尝试次数过多，请重新获取。", code="sms_code_locked")
    wanted = _code_hash(mobile=mobile, purpose=purpose, code=code.strip())
    if not hmac.compare_digest(wanted, latest.code_hash):
        SmsCode.objects.filter(pk=latest.pk).update(attempts=F("attempts") + 1)
        raise error
    return latest


def sms_code_claim(*, sms_code: SmsCode) -> None:
    """Mark a checked code used; a conditional update so two requests cannot both use it."""
    claimed = SmsCode.objects.filter(pk=sms_code.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if claimed != 1:
        raise AccountError("短信验证码已被使用，请重新获取。", code="sms_code_used")


def username_new() -> str:
    """An opaque username for an account made from a mobile number (self-registration, a
    worker sheet): "u" and 16 random base32 letters. It tells nothing about the holder; they
    sign in with their mobile number."""
    return "u" + base64.b32encode(secrets.token_bytes(10)).decode().lower()


def user_registration_check(
    *, role: str, region: Region, mobile: str, uscc: str, sms_code: str
) -> SmsCode:
    """Everything accounts checks before a self-registration; returns the matching SMS code.

    Call it outside any transaction (a wrong code must stay counted), then claim the code
    with `user_create_self_registered` inside the transaction that writes the registration.
    """
    if role not in (Role.WORKER, Role.ENTERPRISE, Role.CITIZEN):
        raise AccountError("该角色不能自行注册。", code="role_not_allowed")
    if region.level not in (Region.Level.COUNTY, Region.Level.TOWNSHIP):
        raise AccountError("请选择到区县一级。", code="region_level")
    # The code first: only someone who holds the phone learns that the number (or the
    # credit code) is already registered. A registered number is sent no registration code
    # (`sms_code_send`), so a stranger gets the same "wrong code" answer for it as for any.
    checked = sms_code_check(mobile=mobile, purpose=SmsCode.Purpose.REGISTER, code=sms_code)
    if User.objects.for_mobile(mobile).exists():
        raise AccountError("该手机号已注册，请直接登录或找回密码。", code="mobile_taken")
    if role == Role.ENTERPRISE and Organisation.objects.filter(uscc=uscc).exists():
        raise AccountError(
            "该统一社会信用代码已注册，请联系本企业已注册的账号或当地服务中心。",
            code="uscc_taken",
        )
    return checked


def user_create_self_registered(
    *,
    role: str,
    display_name: str,
    mobile: str,
    password: str,
    region: Region,
    sms_code: SmsCode,
    organisation_name: str = "",
    uscc: str = "",
    industry: str = "",
) -> User:
    """Write the accounts side of a self-registration checked by `user_registration_check`.

    Creates the enterprise's `Organisation` (role enterprise), claims the SMS code and saves
    the `User`. Runs inside the caller's transaction, which also writes the role's profile.
    """
    organisation = None
    if role == Role.ENTERPRISE:
        organisation = Organisation.objects.create(
            kind=Organisation.Kind.ENTERPRISE,
            name=organisation_name,
            uscc=uscc,
            region=region,
            industry=industry,
        )
    sms_code_claim(sms_code=sms_code)
    user = User(
        username=username_new(),
        display_name=display_name,
        role=role,
        region=region,
        organisation=organisation,
    )
    user.mobile = mobile  # sealed, with its lookup hash
    user.set_password(password)
    record_check(user, error=AccountError, exclude=["password"])
    user.save()
    return user


def user_reset_password(*, mobile: str, sms_code: str, password: str) -> User:
    """Set a new password for the holder of `mobile`. The code is checked first, for every
    number alike, so the answers and attempt counts never tell a registered number apart."""
    checked = sms_code_check(mobile=mobile, purpose=SmsCode.Purpose.RESET, code=sms_code)
    user = User.objects.for_mobile(mobile).first()
    if user is None:  # a code was matched, so it was sent to a user since deleted
        raise AccountError("短信验证码不正确或已过期，请重新获取。", code="bad_sms_code")
    # The account's own rules (staff: three character classes, ADR 0002) need the account.
    password_validate(password=password, user=user)
    with transaction.atomic():
        sms_code_claim(sms_code=checked)
        user.set_password(password)
        user.save(update_fields=["password", "password_changed_at"])
        # Whoever proved they hold the mobile may sign in at once: the lock-out ends.
        LoginFailure.objects.filter(
            identity=login_identity_of(login_name="", account=user)
        ).delete()
    return user


class PasswordRefused(AccountError):
    """The password breaks a rule (docs/requirements/security.md item 1); `messages` says
    which, in Chinese."""


def password_validate(*, password: str, user: User) -> None:
    """Run AUTH_PASSWORD_VALIDATORS for `user` (who need not be saved yet)."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise PasswordRefused(exc.messages, code="password_refused") from None


@transaction.atomic
def staff_create(
    *,
    username: str,
    display_name: str,
    password: str,
    centre_region: Region,
    mobile: str | None = None,
) -> User:
    """Create a centre staff member bound to the centre of `centre_region`."""
    user = User(
        username=username,
        display_name=display_name,
        role=Role.STAFF,
        centre=centre_region.centre,
        region=centre_region,
    )
    user.mobile = mobile  # sealed, with its lookup hash
    password_validate(password=password, user=user)
    user.set_password(password)
    record_check(user, error=AccountError, exclude=["password"])
    user.save()
    return user


def user_disable(*, user: User, actor: User) -> bool:
    """Disable an account (docs/security.md item 5): it can no longer sign in, and its open
    sessions end at their next request (Django refuses an inactive user). Audited as
    ACCOUNT_DISABLE with the administrator as actor. False when it was already disabled."""
    with transaction.atomic():
        changed = User.objects.filter(pk=user.pk, is_active=True).update(is_active=False)
        if changed:
            audit_record(
                action=AuditAction.ACCOUNT_DISABLE,
                user=actor,
                object_type="user",
                object_id=str(user.pk),
            )
    return bool(changed)
