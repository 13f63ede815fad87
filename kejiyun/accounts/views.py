from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from kejiyun.accounts.forms import PasswordResetForm, SmsCodeRequestForm, UnmaskForm
from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.accounts.models import Organisation
from kejiyun.accounts.selectors import organisations_for_staff
from kejiyun.accounts.services import SmsThrottled, sms_code_send, user_reset_password
from kejiyun.accounts.unmask import may_unmask, unmask_grant, unmaskable_page
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
            user_reset_password(
                mobile=form.cleaned_data["mobile"],
                sms_code=form.cleaned_data["sms_code"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as exc:
            form.add_error("sms_code", exc)
        else:
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
