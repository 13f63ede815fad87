"""Every door checks the second factor and the staff password age (docs/requirements/security.md
items 1 and 4; ADRs 0002 and 0016).

A privileged account (staff, reviewer, auditor, administrator, superuser) signed in with its
password only reaches nothing but the sign-in and sign-out pages, the second-factor pages,
static files, /healthz and the language switch: pages and /admin/ answer a redirect to the
verify page (or to enrolment when it has no authenticator yet), and the API's session door
(/api/v1/) a problem+json 403 with a Chinese detail. Once verified, a privileged account
whose password is older than 90 days is sent to the change-password page in the same way.

Runs after django-otp's `OTPMiddleware` (which sets `request.user.is_verified()`) and after
`SessionLimitsMiddleware` (an expired session is signed out first). API calls with a bearer
token pass: their grants already asked for the second factor (`kejiyun.api.routers.auth`).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from kejiyun.accounts.models import User
from kejiyun.accounts.otp import second_factor_required, session_verified, totp_device_of
from kejiyun.accounts.passwords import password_expired
from kejiyun.common.prepared import PreparedQuery

# Reachable before the second factor. Everything else is refused.
OPEN_PREFIXES = (
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/second-factor/verify/",
    "/accounts/second-factor/enrol/",
    "/admin/login/",
    "/admin/logout/",
    "/static/",
    "/healthz",
    "/i18n/",
)
# Reachable with an expired password, once the second factor is passed.
PASSWORD_PREFIXES = (
    "/accounts/password/change/",
    "/accounts/second-factor/recovery-codes/",
)
API_PREFIX = "/api/v1/"


def _problem(status: int, detail: str, code: str) -> HttpResponse:
    # The shape of `kejiyun.api.errors.problem_body` (accounts sits below the api layer).
    body = {
        "type": f"https://kejiyun.cn/problems/{code}",
        "title": "没有权限",
        "status": status,
        "detail": detail,
        "code": code,
    }
    return HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/problem+json",
    )


def _next_query(request: HttpRequest) -> str:
    target = request.get_full_path()
    if request.method != "GET" or not url_has_allowed_host_and_scheme(target, None):
        return ""
    return "?" + urlencode({"next": target})


_TOTP_DEVICE = PreparedQuery(lambda pk: TOTPDevice.objects.filter(pk=pk), -7_000_002)
_TOTP_LABEL = TOTPDevice.model_label()


class PreparedOTPMiddleware(OTPMiddleware):  # type: ignore[misc]  # untyped package
    """django-otp's middleware (`request.user.otp_device`, `is_verified()`), with the
    session's authenticator read by a query compiled once per process
    (kejiyun/common/prepared.py): a verified staff request asks it every time. Other device
    kinds (recovery codes) are read as django-otp reads them."""

    def _device_from_persistent_id(self, persistent_id: str) -> Device | None:
        label, _, device_id = self._normalize_persistent_id(persistent_id).rpartition("/")
        if label != _TOTP_LABEL:
            return super()._device_from_persistent_id(persistent_id)
        try:
            pk = int(device_id)
        except ValueError:
            return None
        return _TOTP_DEVICE.first(pk)


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self.refusal(request)
        return refusal if refusal is not None else self.get_response(request)

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        user = request.user
        if not isinstance(user, User) or not user.is_privileged:
            return None
        path = request.path_info
        if path.startswith(OPEN_PREFIXES):
            return None
        is_api = path.startswith(API_PREFIX)
        if is_api and request.headers.get("Authorization", "").lower().startswith("bearer "):
            return None
        if second_factor_required(user) and not session_verified(user):
            enrolled = totp_device_of(user) is not None
            if is_api:
                return _problem(
                    403,
                    "请先在网页上完成动态口令验证（工作人员账号须使用密码加动态口令登录）。",
                    "second_factor_required",
                )
            name = "accounts:otp_verify" if enrolled else "accounts:otp_enrol"
            return HttpResponseRedirect(reverse(name) + _next_query(request))
        if path.startswith(PASSWORD_PREFIXES):
            return None
        if password_expired(user):
            if is_api:
                return _problem(
                    403, "密码已超过90天未更换，请先在网页上修改密码。", "password_expired"
                )
            return HttpResponseRedirect(reverse("accounts:password_change"))
        return None
