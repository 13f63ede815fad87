"""The page "API 令牌" (/accounts/api-tokens/): a person's personal access tokens, made,
listed and revoked in the browser. Same rules as `POST /api/v1/me/tokens`
(`kejiyun.api.clients.personal_token_create`); the token is shown once, on the page the
creation redirects to."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from kejiyun.accounts.models import User
from kejiyun.api.clients import access_personal_token, personal_token_create, personal_tokens_of
from kejiyun.api.models import Scope
from kejiyun.api.tokens import token_revoke
from kejiyun.common.forms import BootstrapFormMixin

SHOWN_ONCE_KEY = "api_token_shown_once"


class PersonalTokenForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label="名称", max_length=80, help_text="用途说明，如“企业ERP对接”。")
    scopes = forms.MultipleChoiceField(
        label="权限范围", choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )
    days = forms.IntegerField(label="有效天数", min_value=1, initial=90)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The service refuses more than the limit; the field says so before anyone tries.
        limit = settings.API_PERSONAL_TOKEN_MAX_DAYS
        self.fields["days"].help_text = f"最长 {limit} 天。"
        self.fields["days"].widget.attrs["max"] = str(limit)


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    form = PersonalTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            raw, row = personal_token_create(
                user=user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                days=form.cleaned_data["days"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            request.session[SHOWN_ONCE_KEY] = {"id": row.pk, "token": raw}
            return redirect("api_tokens:list")
    shown = request.session.pop(SHOWN_ONCE_KEY, None)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "api/tokens.html",
        {"form": form, "tokens": personal_tokens_of(user)[:200], "shown": shown},
        status=status,
    )


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    row = access_personal_token(user, token_id)
    if row.revoked_at is None:
        token_revoke(token=row)
        messages.success(request, f"令牌“{row.name}”已吊销。")
    return redirect("api_tokens:list")
