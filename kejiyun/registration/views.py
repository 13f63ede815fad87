"""The sign-up pages: choose a kind, then fill in that kind's form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from kejiyun.accounts.footprints import device_cookie_set, device_id, footprint_record
from kejiyun.accounts.models import Footprint
from kejiyun.registration.forms import (
    CitizenRegistrationForm,
    EnterpriseRegistrationForm,
    WorkerRegistrationForm,
)
from kejiyun.registration.services import Registration, user_register

REGISTRATION_FORMS = {
    "worker": (WorkerRegistrationForm, "科技工作者注册"),
    "enterprise": (EnterpriseRegistrationForm, "企业注册"),
    "citizen": (CitizenRegistrationForm, "公众注册"),
}


def register_choose(request: HttpRequest) -> HttpResponse:
    device, new = device_id(request)
    return device_cookie_set(render(request, "registration/register_choose.html"), device, new)


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
            # Where the account was made from (device cookie, network), for the detection
            # of quota accounts; only keyed hashes are stored.
            footprint_record(request, user, Footprint.Kind.REGISTER)
            login(request, user, backend="kejiyun.accounts.backends.UsernameOrMobileBackend")
            messages.success(request, f"注册成功，欢迎您，{user.display_name}！")
            return redirect("site:dashboard")
    status = 400 if request.method == "POST" else 200
    device, new = device_id(request)
    return device_cookie_set(
        render(
            request,
            "registration/register.html",
            {"form": form, "heading": heading, "kind": kind},
            status=status,
        ),
        device,
        new,
    )
