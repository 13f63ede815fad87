from __future__ import annotations

import hmac
import logging
import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import never_cache

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.accounts.models import Role, User
from kejiyun.cases.models import Step
from kejiyun.cases.workflow.selectors import (
    cases_of_organisation,
    jurisdiction_case_counts,
    queue_counts,
)
from kejiyun.demands.selectors import demands_of_organisation, demands_published
from kejiyun.matching.selectors import demands_for_expert
from kejiyun.ops.reports.selectors import report_summary
from kejiyun.pagecache.fragments import fragment
from kejiyun.pagecache.services import DEMANDS, MATCHING, POPSCI
from kejiyun.popsci.content.selectors import articles_published
from kejiyun.recognition.review.selectors import reviewer_dashboard
from kejiyun.regions.selectors import centres_in_jurisdiction
from kejiyun.site.selectors import jurisdiction_counts, platform_counts
from kejiyun.talent.selectors import talent_profile_stamp, talent_profile_summary

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    """The home page. Its figures and newest demands and articles are the same for every
    visitor and come from the page cache (one query when cached): new demands and articles
    show at once, the counts of workers and enterprises within FRAGMENT_SECONDS."""
    body = fragment("home", topics=(DEMANDS, POPSCI), build=_home_body)
    return render(request, "site/home.html", {"body": body})


def _home_body() -> str:
    return render_to_string(
        "site/_home_body.html",
        {
            "counts": platform_counts(province_code=settings.DEPLOYMENT_PROVINCE),
            "latest_demands": list(
                demands_published().only(
                    "title",
                    "category",
                    "region__name",
                    "region__parent__name",
                    "organisation__name",
                )[:6]
            ),
            "latest_articles": list(
                articles_published().only("title", "topic").select_related(None)[:6]
            ),
        },
    )


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """`{"status": "ok"}`, or "error" with 503 when the database is down.

    Anyone gets only that (security item 8: no database vendor, no cache backend for a
    stranger). A signed-in administrator, or a monitor sending settings.HEALTHZ_TOKEN in the
    `X-Healthz-Token` header, also gets the database's and the cache's status. A cache
    failure is reported but does not fail the check: the platform works without Redis
    (sessions and lock-outs live in the database).
    """
    database = "ok"
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("healthz database check failed: %s", type(exc).__name__)
        database = "error"
    status = "ok" if database == "ok" else "error"
    code = 200 if status == "ok" else 503
    if not _healthz_detail_allowed(request, database_up=database == "ok"):
        return JsonResponse({"status": status}, status=code)
    cache_status = "ok"
    probe = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(probe, "1", timeout=5)
        if cache.get(probe) != "1":
            cache_status = "error"
        cache.delete(probe)
    except Exception as exc:
        logger.warning("healthz cache check failed: %s", type(exc).__name__)
        cache_status = "error"
    backend = str(settings.CACHES["default"]["BACKEND"]).rsplit(".", 1)[-1]
    return JsonResponse(
        {
            "status": status,
            "database": {"status": database, "vendor": connection.vendor},
            "cache": {"status": cache_status, "backend": backend},
        },
        status=code,
    )


def _healthz_detail_allowed(request: HttpRequest, *, database_up: bool) -> bool:
    """The configured monitor token (compared in constant time), or a signed-in
    administrator (only while the database answers: the session lives there)."""
    token = settings.HEALTHZ_TOKEN
    sent = request.headers.get("X-Healthz-Token", "")
    if token and sent and hmac.compare_digest(token.encode(), sent.encode()):
        return True
    if not database_up:
        return False
    user = request.user
    return bool(user.is_authenticated and getattr(user, "sees_everything", False))


@login_required
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    context: dict[str, object] = {"role": user.role}
    if user.role == Role.WORKER:
        # The worker's own profile card and recommendations, kept in the page cache under
        # the profile's version and the matching and public demands' generations: a
        # change to the profile, its results, the index or a published demand shows at
        # once. Nothing in it is masked differently for anyone, and it is kept per user.
        stamp = talent_profile_stamp(user)
        context["body"] = fragment(
            "site:dashboard-worker",
            topics=(MATCHING, DEMANDS),
            parts=(user.pk, stamp, user.region_id),
            build=lambda: _worker_dashboard_body(user),
        )
        template = "site/dashboard_worker.html"
    elif user.role == Role.ENTERPRISE and user.organisation is not None:
        context["organisation"] = user.organisation
        context["demands"] = list(demands_of_organisation(organisation=user.organisation)[:20])
        context["cases_to_confirm"] = list(
            cases_of_organisation(user=user).filter(step=Step.ACCEPTANCE)[:10]
        )
        template = "site/dashboard_enterprise.html"
    elif user.role == Role.CITIZEN:
        context["articles"] = list(articles_published(region=user.region)[:10])
        template = "site/dashboard_citizen.html"
    elif user.is_centre_staff or user.sees_everything:
        context["centre"] = user.centre
        context["counts"] = jurisdiction_counts(user=user)
        context["queue"] = queue_counts(user=user)
        context["cases"] = jurisdiction_case_counts(user=user)
        context["report_summary"] = report_summary(user, timezone.localdate())
        template = "site/dashboard_staff.html"
    else:
        context["review"] = reviewer_dashboard(user)
        template = "site/dashboard_reviewer.html"
    return render(request, template, context)


def _worker_dashboard_body(user: User) -> str:
    profile = talent_profile_summary(user)
    # Ranked for the profile; the city's newest demands when there is no profile yet or
    # nothing in it matches.
    recommended = demands_for_expert(profile=profile, top_k=8) if profile else []
    region = profile.region if profile else user.region
    nearby = (
        list(demands_published().filter(region__path__startswith=region.city_path)[:8])
        if region and not recommended
        else []
    )
    return render_to_string(
        "site/_dashboard_worker_body.html",
        {"profile": profile, "recommended_demands": recommended, "nearby_demands": nearby},
    )


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "site/privacy.html")


@staff_required
def staff_centres(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    centres = list(centres_in_jurisdiction(user=user).order_by("region_id"))
    return render(request, "site/staff_centres.html", {"centres": centres})
