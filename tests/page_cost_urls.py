"""A test-only URL configuration: the platform's URLs plus a view that does nothing, so
tests/test_page_costs_staff.py can measure what the middleware stack alone costs a request."""

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path

from kejiyun.urls import urlpatterns as platform_urlpatterns


def nothing(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns: list[URLPattern | URLResolver] = [
    path("test-costs/nothing/", nothing),
    *platform_urlpatterns,
]
