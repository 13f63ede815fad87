"""The CSRF-failure page (`CSRF_FAILURE_VIEW`). The 400, 403, 404 and 500 pages need no view:
Django's default handlers render templates/400.html and the others."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form was sent with a missing or stale CSRF token, most often because the page was
    open too long or the person signed in or out elsewhere. Say so in Chinese and lead back
    to the page the form was on (the Referer, when it is this site's), where a reload gets a
    fresh token; this response sets a new token cookie too. Django logs `reason`."""
    referer = request.headers.get("Referer", "")
    back_url = (
        referer
        if referer
        and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        else ""
    )
    # An htmx request gets a fragment to show where the person is looking.
    htmx = bool(request.headers.get("HX-Request"))
    template = "errors/_csrf_failure.html" if htmx else "csrf_failure.html"
    return render(request, template, {"back_url": back_url}, status=403)
