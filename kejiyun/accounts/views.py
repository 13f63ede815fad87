from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from kejiyun.accounts.forms import (
    CitizenRegistrationForm,
    EnterpriseRegistrationForm,
    PasswordResetForm,
    SmsCodeRequestForm,
    WorkerRegistrationForm,
)
from kejiyun.accounts.guards import staff_required
from kejiyun.accounts.models import Organisation, User
from kejiyun.accounts.selectors import access_organisation, organisations_for_staff
from kejiyun.accounts.services import (
    Registration,
    SmsThrottled,
    sms_code_send,
    user_register,
    user_reset_password,
)
from kejiyun.common.ratelimit import client_ip, rate_limit_exceeded
from kejiyun.demands.selectors import demands_of_organisation

SMS_CODES_PER_IP_PER_HOUR = 20

REGISTRATION_FORMS = {
    "worker": (WorkerRegistrationForm, "科技工作者注册"),
    "enterprise": (EnterpriseRegistrationForm, "企业注册"),
    "citizen": (CitizenRegistrationForm, "公众注册"),
}


def register_choose(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/register_choose.html")


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in REGISTRATION_FORMS:
        raise Http404("没有这种注册类型")
    form_class, heading = REGISTRATION_FORMS[kind]
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = user_register(
                registration=Registration(
                    role=form.role,
                    display_name=data["display_name"].strip(),
                    mobile=data["mobile"],
                    password=data["password1"],
                    sms_code=data["sms_code"],
                    region=data["region"],
                    employer=data.get("employer", ""),
                    title=data.get("title", ""),
                    organisation_name=data.get("organisation_name", ""),
                    uscc=data.get("uscc", ""),
                    industry=data.get("industry", ""),
                    occupation=data.get("occupation", ""),
                    age_band=data.get("age_band", ""),
                )
            )
        except ValidationError as exc:
            field = {
                "mobile_taken": "mobile",
                "uscc_taken": "uscc",
                "bad_sms_code": "sms_code",
                "sms_code_locked": "sms_code",
                "sms_code_used": "sms_code",
                "region_level": "region",
            }.get(exc.code or "")
            form.add_error(field, exc)
        else:
            login(request, user, backend="kejiyun.accounts.backends.UsernameOrMobileBackend")
            messages.success(request, f"注册成功，欢迎您，{user.display_name}！")
            return redirect("site:dashboard")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "accounts/register.html",
        {"form": form, "heading": heading, "kind": kind},
        status=status,
    )


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
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/profile.html")


@staff_required
def staff_organisations(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
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


@staff_required
def staff_organisation_detail(request: HttpRequest, organisation_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    organisation = access_organisation(user, organisation_id)
    members = list(organisation.members.order_by("id"))
    demands = list(demands_of_organisation(organisation=organisation)[:50])
    return render(
        request,
        "accounts/staff_organisation_detail.html",
        {"organisation": organisation, "members": members, "demands": demands},
    )
