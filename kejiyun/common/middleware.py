"""Request middleware: language selection, session time limits, and `no-store` for signed-in
users."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


class ChosenLanguageMiddleware:
    """Activate the language from the language cookie, else LANGUAGE_CODE.

    Django's LocaleMiddleware would follow the browser's Accept-Language header; a
    provincial platform speaks Chinese to everyone until they press the switch.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response


class SessionLimitsMiddleware:
    """End a session after 30 minutes idle or 12 hours in all
    (docs/requirements/security.md item 3).

    The last-seen time is written at most once a minute, so a busy page does not write
    the session on every request.
    """

    IDLE_SECONDS = 30 * 60
    ABSOLUTE_SECONDS = 12 * 60 * 60
    TOUCH_SECONDS = 60

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(timezone.now().timestamp())
            session = request.session
            started = session.setdefault("kjy_started", now)
            last_seen = session.get("kjy_seen", now)
            if now - last_seen > self.IDLE_SECONDS or now - started > self.ABSOLUTE_SECONDS:
                logout(request)
                messages.info(request, "您已长时间未操作，为保护账号安全已自动退出，请重新登录。")
                return redirect_to_login(request.get_full_path())
            if now - last_seen >= self.TOUCH_SECONDS or "kjy_seen" not in session:
                session["kjy_seen"] = now
        return self.get_response(request)


class NoStoreForSignedInMiddleware:
    """`Cache-Control: no-store` on every answer to a signed-in user (their pages, downloads
    and exports carry personal data; docs/requirements/security.md item 22), so neither a
    shared cache nor the browser's back button keeps them after sign-out. Static files never
    reach this middleware (WhiteNoise answers them first) and keep their long cache life.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Decided before the view runs: a sign-out answer still goes to a signed-in browser.
        signed_in = request.user.is_authenticated
        response = self.get_response(request)
        if signed_in or request.user.is_authenticated:
            response["Cache-Control"] = "no-store"
        return response
