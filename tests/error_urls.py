"""A test-only URL configuration: the platform's URLs and its error handler, plus views that
fail on purpose, so the tests can reach Django's 400, 403 and 500 handlers with real requests
(tests/test_error_pages.py). The outages themselves (a stopped PostgreSQL, a full disk) are
drilled for real by `make test-resilience` (tests/resilience/)."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path
from psycopg import errors as pg_errors

from kejiyun.common.files import StorageFull
from kejiyun.urls import handler500
from kejiyun.urls import urlpatterns as platform_urlpatterns

__all__ = ["handler500", "urlpatterns"]


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("a malformed request")


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def database_gone(request: HttpRequest) -> HttpResponse:
    """What psycopg raises, wrapped by Django, when the server refuses the connection."""
    raise OperationalError('connection failed: connection to server at "127.0.0.1", port 5432')


def deadlock(request: HttpRequest) -> HttpResponse:
    """A query that failed on a working database (SQLSTATE 40P01): a bug to fix, not an outage."""
    try:
        raise pg_errors.DeadlockDetected("deadlock detected")
    except pg_errors.DeadlockDetected as cause:
        raise OperationalError("deadlock detected") from cause


def disk_full(request: HttpRequest) -> HttpResponse:
    """A storage refusal that a view did not answer itself."""
    raise StorageFull


urlpatterns: list[URLPattern | URLResolver] = [
    path("test-errors/403/", forbidden),
    path("test-errors/400/", suspicious),
    path("test-errors/500/", broken),
    path("test-errors/database/", database_gone),
    path("test-errors/deadlock/", deadlock),
    path("test-errors/disk-full/", disk_full),
    path("api/v1/test-errors/database/", database_gone),
    *platform_urlpatterns,
]
