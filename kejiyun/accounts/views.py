from __future__ import annotations

from typing import Any

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from kejiyun.accounts.forms import (
    EnrolForm,
    KejiyunPasswordChangeForm,
    PasswordResetForm,
    SecondFactorForm,
    SmsCodeRequestForm,
    UnmaskForm,
)
from kejiyun.accounts.guards import AuthenticatedRequest, privileged_required, staff_required
from kejiyun.accounts.models import Organisation
from kejiyun.accounts.otp import (
    SecondFactorError,
    access_reset_target,
    recovery_codes_issue,
    recovery_codes_left,
    second_factor_check,
    second_factor_enrol,
    second_factor_reset,
    session_verified,
    totp_device_of,
    totp_device_pending,
    totp_qr_svg,
    totp_secret_base32,
)
from kejiyun.accounts.passwords import MAX_AGE, password_expired
from kejiyun.accounts.selectors import organisations_for_staff
from kejiyun.accounts.services import (
    PasswordRefused,
    SmsThrottled,
    sms_code_send,
    user_reset_password,
)
from kejiyun.accounts.unmask import may_unmask, unmask_grant, unmaskable_page
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.common.ratelimit import client_ip, rate_limit_exceeded

SMS_CODES_PER_IP_PER_HOUR = 20


@require_POST
def sms_code_request(request: HttpRequest) -> HttpResponse:
    """Send a registration or reset code; answers with a small status fragment (htmx)."""
    ip = client_ip(request) or "unknown"
    if rate_limit_exceeded(key=f"sms:{ip}", limit=SMS_CODES_PER_IP_PER_HOUR, window_seconds=3600):
        return render(
            request,
            "accounts/_sms_status.html",
            {"error": "当前网络请求验证码过于频繁，请一小时后再试。"},
            status=429,
        )
    form = SmsCodeRequestForm(request.POST)
    if not form.is_valid():
        error = next(iter(form.errors.values()))[0]
        return render(request, "accounts/_sms_status.html", {"error": error}, status=400)
    try:
        sms_code_send(mobile=form.cleaned_data["mobile"], purpose=form.cleaned_data["purpose"])
    except SmsThrottled:
        return render(
            request,
            "accounts/_sms_status.html",
            {"error": "验证码发送过于频繁，请60秒后再试。"},
            status=429,
        )
    return render(request, "accounts/_sms_status.html", {"sent": True})


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_reset_password(
                mobile=form.cleaned_data["mobile"],
                sms_code=form.cleaned_data["sms_code"],
                password=form.cleaned_data["password1"],
            )
        except PasswordRefused as exc:
            form.add_error("password1", exc)
        except ValidationError as exc:
            form.add_error("sms_code", exc)
        else:
            audit_record(
                action=AuditAction.PASSWORD_RESET,
                user=user,
                ip=client_ip(request),
                object_type="user",
                object_id=str(user.pk),
            )
            messages.success(request, "密码已重置，请使用新密码登录。")
            return redirect("accounts:login")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/password_reset.html", {"form": form}, status=status)


@login_required
def profile(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "accounts/profile.html")


@staff_required
def staff_organisations(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    kind = request.GET.get("kind", "")
    if kind not in Organisation.Kind.values:
        kind = ""
    qs = organisations_for_staff(user=user, kind=kind or None).order_by("region_id", "name")
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/staff_organisations.html",
        {"page": page, "kind": kind, "kinds": Organisation.Kind.choices},
    )


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's page (which keeps this session and ends the others, SECURITY item 5), audited;
    it also tells a privileged account sent here by the 90-day rule why."""

    template_name = "accounts/password_change.html"
    form_class = KejiyunPasswordChangeForm
    success_url = "/accounts/password/change/done/"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["expired"] = password_expired(self.request.user)  # type: ignore[arg-type]
        context["max_age_days"] = MAX_AGE.days
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user = form.user
        audit_record(
            action=AuditAction.PASSWORD_CHANGE,
            user=user,
            ip=client_ip(self.request),
            object_type="user",
            object_id=str(user.pk),
        )
        return response


# --- Second factor (ADR 0016) -----------------------------------------------------------------

RECOVERY_SESSION_KEY = "kjy_new_recovery_codes"


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@privileged_required
@require_http_methods(["GET", "POST"])
def otp_enrol(request: AuthenticatedRequest) -> HttpResponse:
    """Scan the QR code (or type the secret) into an authenticator, confirm with one code."""
    user = request.user
    if totp_device_of(user) is not None:
        return redirect("accounts:security" if session_verified(user) else "accounts:otp_verify")
    device = totp_device_pending(user=user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enrolled = second_factor_enrol(
                user=user,
                device=device,
                code=form.cleaned_data["code"].strip(),
                ip=client_ip(request),
            )
        except SecondFactorError as exc:
            form.add_error("code", exc)
        else:
            request.session.cycle_key()
            django_otp.login(request, enrolled.device)
            request.session[RECOVERY_SESSION_KEY] = enrolled.recovery_codes
            messages.success(request, "动态口令已启用。请立即保存下面的恢复码。")
            return redirect("accounts:otp_recovery_codes")
    status = 400 if request.method == "POST" else 200
    context = {
        "form": form,
        "qr_svg": totp_qr_svg(device),
        "secret": totp_secret_base32(device),
        "issuer": settings.OTP_TOTP_ISSUER,
    }
    return render(request, "accounts/otp_enrol.html", context, status=status)


@privileged_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: AuthenticatedRequest) -> HttpResponse:
    """The second step of signing in: a code from the authenticator or a recovery code."""
    user = request.user
    if session_verified(user):
        return redirect(_next_url(request))
    if totp_device_of(user) is None:
        return redirect("accounts:otp_enrol")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = second_factor_check(
                user=user, code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except SecondFactorError as exc:
            form.add_error("code", exc)
        else:
            request.session.cycle_key()
            django_otp.login(request, device)
            if device.persistent_id.startswith("otp_static"):
                left = recovery_codes_left(user)
                messages.warning(
                    request,
                    f"已使用一个恢复码，还剩 {left} 个。恢复码不多时请在“安全设置”中重新生成。",
                )
            return redirect(_next_url(request))
    status = 400 if request.method == "POST" else 200
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    return render(
        request, "accounts/otp_verify.html", {"form": form, "next": next_url}, status=status
    )


@privileged_required
@require_http_methods(["GET", "POST"])
def otp_recovery_codes(request: AuthenticatedRequest) -> HttpResponse:
    """GET shows newly issued codes once (then only how many are left); POST issues ten
    new ones, and the old ones stop working."""
    user = request.user
    if request.method == "POST":
        if totp_device_of(user) is None:
            return redirect("accounts:otp_enrol")
        request.session[RECOVERY_SESSION_KEY] = recovery_codes_issue(
            user=user, ip=client_ip(request)
        )
        messages.success(request, "已生成新的恢复码，原来的恢复码已作废。")
        return redirect("accounts:otp_recovery_codes")
    codes = request.session.pop(RECOVERY_SESSION_KEY, None)
    return render(
        request,
        "accounts/otp_recovery_codes.html",
        {"codes": codes, "left": recovery_codes_left(user)},
    )


@privileged_required
def security(request: AuthenticatedRequest) -> HttpResponse:
    """安全设置: second-factor status, recovery codes left, password age."""
    user = request.user
    device = totp_device_of(user)
    return render(
        request,
        "accounts/security.html",
        {
            "device": device,
            "left": recovery_codes_left(user),
            "max_age_days": MAX_AGE.days,
        },
    )


@privileged_required
@require_http_methods(["GET", "POST"])
def otp_reset(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    """An administrator removes another privileged account's second factor (lost phone).
    Who may reset whom is `may_reset_second_factor`; anyone else gets a 404."""
    target = access_reset_target(request.user, user_id)
    if request.method == "POST":
        second_factor_reset(actor=request.user, target=target, ip=client_ip(request))
        messages.success(
            request,
            f"已重置 {target.display_name or target.username} 的动态口令，"
            "对方下次登录时须重新绑定。",
        )
        return redirect("admin:accounts_user_change", target.pk)
    return render(
        request,
        "accounts/otp_reset.html",
        {"target": target, "enrolled": totp_device_of(target) is not None},
    )


@login_required
@require_POST
def unmask(request: AuthenticatedRequest) -> HttpResponse:
    """Show one page's object in full for ten minutes (`kejiyun/accounts/unmask.py`). Without
    the permission, for an unknown page or an object outside the user's reach: 404."""
    page = unmaskable_page(request.POST.get("view", ""))
    form = UnmaskForm(request.POST)
    valid = form.is_valid()
    if page is None or not may_unmask(request.user) or "object_id" in form.errors:
        raise Http404("页面不存在")
    object_id = form.cleaned_data["object_id"]
    page.access(request.user, object_id)  # Http404 outside the user's jurisdiction
    url = reverse(page.view, kwargs={page.url_kwarg: object_id})
    if not valid:
        messages.error(request, str(next(iter(form.errors.values()))[0]))
        return redirect(url)
    unmask_grant(request, page=page, object_id=object_id, reason=form.audit_reason())
    messages.info(request, "已显示完整信息，10分钟后恢复遮盖。此次查看已记录。")
    return redirect(url)
