"""`/api/v1/auth/…`: signing in from the mobile app and mini program, partner clients'
OAuth2 client credentials, and revoking a token (ADR 0015).

The same rules as the web pages: a password sign-in goes through
`django.contrib.auth.authenticate`, so the lock-out (`kejiyun/accounts/lockout.py`) counts
the API's failures and the pages' together; an SMS code request answers a registered and an
unregistered number alike; every sign-in and refusal is audited through the same signals."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal
from urllib.parse import unquote

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Body, Form, Router, Schema, Status
from pydantic import Field, field_validator

from kejiyun.accounts.lockout import LOCKED_MESSAGE, login_identity, login_locked
from kejiyun.accounts.models import SmsCode, User
from kejiyun.accounts.otp import (
    SecondFactorError,
    second_factor_check,
    second_factor_required,
    totp_device_of,
)
from kejiyun.accounts.selectors import user_by_mobile
from kejiyun.accounts.services import SmsThrottled, sms_code_check, sms_code_claim, sms_code_send
from kejiyun.accounts.validators import is_valid_mobile, normalise_mobile
from kejiyun.accounts.views import SMS_CODES_PER_IP_PER_HOUR
from kejiyun.api.auth import ANYONE
from kejiyun.api.clients import ClientError, client_credentials_grant
from kejiyun.api.errors import ApiProblem
from kejiyun.api.models import ApiToken
from kejiyun.api.tokens import IssuedPair, TokenError, token_hash, token_pair_issue, token_refresh
from kejiyun.api.tokens import token_revoke as token_revoke_service
from kejiyun.common.ratelimit import client_ip, rate_limit_exceeded

router = Router(tags=["登录与令牌"])

BAD_LOGIN = "手机号/用户名或密码不正确。"
BAD_SMS = "短信验证码不正确或已过期，请重新获取。"


def _mobile(value: str) -> str:
    mobile = normalise_mobile(value)
    if not is_valid_mobile(mobile):
        raise ValueError("请输入正确的11位手机号。")
    return mobile


# --- SMS code --------------------------------------------------------------------------------


class SmsCodeIn(Schema):
    mobile: str = Field(..., max_length=20, description="中国大陆手机号", examples=["13800138000"])

    @field_validator("mobile")
    @classmethod
    def _valid(cls, value: str) -> str:
        return _mobile(value)


class SmsCodeOut(Schema):
    detail: str


@router.post(
    "/sms-code",
    auth=None,
    response={202: SmsCodeOut},
    operation_id="auth_sms_code_send",
    summary="获取登录短信验证码",
    description="无论手机号是否已注册，回答都相同；只有已注册的手机号会收到验证码。"
    "同一号码 60 秒内只能获取一次，同一网络每小时有次数上限（429，带 Retry-After）。",
)
def sms_code_send_op(request: HttpRequest, payload: SmsCodeIn) -> Status[SmsCodeOut]:
    # The same per-address count as the pages' `sms_code_request`: one budget per network.
    ip = client_ip(request) or "unknown"
    if rate_limit_exceeded(key=f"sms:{ip}", limit=SMS_CODES_PER_IP_PER_HOUR, window_seconds=3600):
        raise ApiProblem(
            429,
            "当前网络请求验证码过于频繁，请一小时后再试。",
            code="rate_limited",
            headers={"Retry-After": "3600"},
        )
    try:
        sms_code_send(mobile=payload.mobile, purpose=SmsCode.Purpose.LOGIN)
    except SmsThrottled:
        raise ApiProblem(
            429,
            "验证码发送过于频繁，请60秒后再试。",
            code="sms_throttled",
            headers={"Retry-After": str(settings.SMS_CODE_RESEND_SECONDS)},
        ) from None
    return Status(202, SmsCodeOut(detail="如该手机号已注册，验证码已发送，请查收短信。"))


# --- Token (sign-in and refresh) --------------------------------------------------------------


class PasswordGrant(Schema):
    grant_type: Literal["password"]
    login: str = Field(..., min_length=1, max_length=150, description="手机号或用户名")
    password: str = Field(..., min_length=1, max_length=128)
    otp_code: str | None = Field(
        None,
        max_length=20,
        description="动态口令（6位数字）或恢复码；工作人员、评审专家和管理员账号必填",
    )


class SmsCodeGrant(Schema):
    grant_type: Literal["sms_code"]
    mobile: str = Field(..., max_length=20, description="中国大陆手机号")
    code: str = Field(..., min_length=1, max_length=12, description="短信验证码")
    otp_code: str | None = Field(
        None,
        max_length=20,
        description="动态口令（6位数字）或恢复码；工作人员、评审专家和管理员账号必填",
    )

    @field_validator("mobile")
    @classmethod
    def _valid(cls, value: str) -> str:
        return _mobile(value)


class RefreshGrant(Schema):
    grant_type: Literal["refresh_token"]
    refresh_token: str = Field(..., min_length=1, max_length=200)


# The input of `auth_token`: one of three grants, told apart by `grant_type`.
TokenIn = Annotated[PasswordGrant | SmsCodeGrant | RefreshGrant, Field(discriminator="grant_type")]


class TokenOut(Schema):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105
    expires_in: int = Field(..., description="访问令牌有效秒数")
    scope: str = Field(..., description="以空格分隔的权限范围")


def _pair_out(pair: IssuedPair) -> TokenOut:
    return TokenOut(
        access_token=pair.access,
        refresh_token=pair.refresh,
        expires_in=pair.expires_in,
        scope=" ".join(pair.scopes),
    )


def _signed_in(request: HttpRequest, user: User) -> TokenOut:
    pair = token_pair_issue(user=user)
    # Audited, footprinted and last_login updated as a web login is.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return _pair_out(pair)


def _refused(request: HttpRequest, detail: str, code: str) -> ApiProblem:
    return ApiProblem(
        401, detail, code=code, headers={"WWW-Authenticate": 'Bearer realm="kejiyun"'}
    )


def _second_factor(request: HttpRequest, user: User, otp_code: str | None) -> None:
    """Privileged accounts sign in with a second factor here too (ADR 0016): without a
    valid code the grant is refused with RFC 6749's `invalid_grant` (400)."""
    if not second_factor_required(user):
        return
    if totp_device_of(user) is None:
        detail = "该账号须使用动态口令登录，请先在网页上登录并绑定验证器。"
        raise ApiProblem(
            400, detail, code="otp_enrol_required", error="invalid_grant", error_description=detail
        )
    if not otp_code:
        detail = "该账号须同时提交动态口令（otp_code：验证器显示的6位数字或恢复码）。"
        raise ApiProblem(
            400, detail, code="otp_required", error="invalid_grant", error_description=detail
        )
    try:
        second_factor_check(user=user, code=otp_code, ip=client_ip(request))
    except SecondFactorError as exc:
        detail = exc.messages[0]
        raise ApiProblem(
            400, detail, code=str(exc.code), error="invalid_grant", error_description=detail
        ) from None


def _password_sign_in(request: HttpRequest, grant: PasswordGrant) -> TokenOut:
    # `authenticate` sends user_login_failed (audited) on a wrong password and on a locked
    # name; the backend records the failure and refuses a locked name.
    user = authenticate(request, username=grant.login, password=grant.password)
    if user is None:
        if login_locked(identity=login_identity(grant.login)):
            raise _refused(request, LOCKED_MESSAGE, "locked")
        raise _refused(request, BAD_LOGIN, "invalid_login")
    assert isinstance(user, User)
    _second_factor(request, user, grant.otp_code)
    return _signed_in(request, user)


def _sms_sign_in(request: HttpRequest, grant: SmsCodeGrant) -> TokenOut:
    try:
        checked = sms_code_check(
            mobile=grant.mobile, purpose=SmsCode.Purpose.LOGIN, code=grant.code
        )
        user = user_by_mobile(grant.mobile)
        if (
            user is None or not user.is_active
        ):  # a code matched, but the account was since deleted or disabled
            raise ValidationError(BAD_SMS, code="bad_sms_code")
        # Before the SMS code is spent: a wrong second factor leaves it usable.
        _second_factor(request, user, grant.otp_code)
        sms_code_claim(sms_code=checked)
    except ValidationError as exc:
        user_login_failed.send(
            sender=__name__, credentials={"username": grant.mobile}, request=request
        )
        raise _refused(request, exc.messages[0], str(exc.code or "bad_sms_code")) from None
    return _signed_in(request, user)


@router.post(
    "/token",
    auth=None,
    response={200: TokenOut},
    operation_id="auth_token",
    summary="登录或刷新令牌",
    description="`grant_type` 为 `password`（手机号或用户名 + 密码）、`sms_code`"
    "（手机号 + 短信验证码）或 `refresh_token`（用刷新令牌换一对新令牌，旧刷新令牌作废；"
    "已用过的刷新令牌再次出现时，整组令牌吊销）。登录失败 5 次后账号临时锁定，与网页登录共用计数。"
    "工作人员、评审专家、审计员和管理员账号用 `password` 或 `sms_code` 登录时须同时提交 "
    "`otp_code`（验证器的6位动态口令或一个恢复码），缺少或错误时返回 400，"
    "`error` 为 `invalid_grant`（RFC 6749 §5.2）。",
)
def token_op(request: HttpRequest, grant: TokenIn = Body(...)) -> TokenOut:  # noqa: B008
    if isinstance(grant, PasswordGrant):
        return _password_sign_in(request, grant)
    if isinstance(grant, SmsCodeGrant):
        return _sms_sign_in(request, grant)
    try:
        return _pair_out(token_refresh(grant.refresh_token))
    except TokenError as exc:
        raise _refused(request, exc.messages[0], "invalid_grant") from None


# --- OAuth2 client credentials (RFC 6749 §4.4) -----------------------------------------------


class OAuthTokenOut(Schema):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105
    expires_in: int
    scope: str


class OAuthErrorOut(Schema):
    """RFC 6749 §5.2 error answer."""

    error: Literal["invalid_request", "invalid_client", "unsupported_grant_type", "invalid_scope"]
    error_description: str


def _oauth_error(status: int, error: str, description: str) -> Status[OAuthErrorOut]:
    return Status(status, OAuthErrorOut(error=error, error_description=description))  # type: ignore[arg-type]


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    client_id, _, secret = decoded.partition(":")
    return unquote(client_id), unquote(secret)


@router.post(
    "/oauth/token",
    auth=None,
    response={200: OAuthTokenOut, 400: OAuthErrorOut, 401: OAuthErrorOut},
    operation_id="auth_oauth_token",
    summary="接入系统获取令牌（OAuth2 客户端凭证）",
    description="表单提交（application/x-www-form-urlencoded）：`grant_type=client_credentials`，"
    "客户端标识与密钥放在表单（`client_id`、`client_secret`）或 HTTP Basic 认证头中；"
    "可选 `scope`（空格分隔，须为该接入系统权限的子集，缺省为全部）。"
    "错误按 RFC 6749 §5.2 返回 `error` 与中文 `error_description`：请求不完整 400 "
    "`invalid_request`，授权类型不支持 400 `unsupported_grant_type`，权限范围超出 400 "
    "`invalid_scope`，客户端认证失败 401 `invalid_client`。",
)
def oauth_token_op(
    request: HttpRequest,
    response: HttpResponse,
    grant_type: str | None = Form(None, max_length=40),
    client_id: str | None = Form(None, max_length=100),
    client_secret: str | None = Form(None, max_length=200),
    scope: str | None = Form(None, max_length=500),
) -> Status[OAuthTokenOut] | Status[OAuthErrorOut]:
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    if not grant_type:
        return _oauth_error(400, "invalid_request", "缺少 grant_type 参数。")
    if grant_type != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "仅支持 client_credentials 授权类型。")
    basic = _basic_credentials(request)
    if basic is not None and (client_id or client_secret):
        return _oauth_error(400, "invalid_request", "客户端凭证只能用一种方式提交。")
    cid, secret = basic if basic is not None else (client_id or "", client_secret or "")
    if not cid or not secret:
        return _oauth_error(401, "invalid_client", "缺少客户端标识或密钥。")
    try:
        raw, row = client_credentials_grant(client_id=cid, client_secret=secret, scope=scope)
    except ClientError as exc:
        code = str(exc.code)
        if code == "invalid_client":
            if basic is not None:
                response["WWW-Authenticate"] = 'Basic realm="kejiyun"'
            return _oauth_error(401, code, exc.messages[0])
        return _oauth_error(400, "invalid_scope", exc.messages[0])
    return Status(
        200,
        OAuthTokenOut(
            access_token=raw,
            expires_in=settings.API_CLIENT_TOKEN_SECONDS,
            scope=" ".join(row.scopes),
        ),
    )


# --- Revoke (RFC 7009-like) -----------------------------------------------------------------


class RevokeIn(Schema):
    token: str = Field(..., min_length=1, max_length=200, description="要吊销的令牌原文")


class RevokeOut(Schema):
    detail: str


@router.post(
    "/revoke",
    auth=ANYONE,
    response={200: RevokeOut},
    operation_id="auth_token_revoke",
    summary="吊销令牌",
    description="持有令牌原文即可吊销它（访问令牌或刷新令牌吊销整组登录令牌）。"
    "令牌不存在或已失效时同样返回 200。",
)
def token_revoke_op(request: HttpRequest, payload: RevokeIn) -> RevokeOut:
    row = ApiToken.objects.filter(token_hash=token_hash(payload.token)).first()
    if row is not None:
        token_revoke_service(token=row)
    return RevokeOut(detail="令牌已吊销。")
