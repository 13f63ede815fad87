from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView

from kejiyun.api.api import api, unknown_path

admin.site.site_header = "科技云 管理后台"
admin.site.site_title = "科技云"
admin.site.index_title = "平台管理"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("kejiyun.site.urls")),
    # Sign-up (registration) and the staff organisation page (demands) keep the accounts
    # paths they always had; both apps sit above accounts, so they are mounted here.
    path("accounts/register/", include("kejiyun.registration.urls")),
    path("accounts/staff/organisations/", include("kejiyun.demands.organisation_urls")),
    # The API's token page sits under the account (the api app owns it).
    path("accounts/api-tokens/", include("kejiyun.api.urls")),
    # See, export, correct, withdraw consents, cancel (PIPL §§44-47; the privacy app).
    path("accounts/my-data/", include("kejiyun.privacy.urls")),
    path("accounts/", include("kejiyun.accounts.urls")),
    path("regions/", include("kejiyun.regions.urls")),
    path("talent/", include("kejiyun.talent.urls")),
    path("demands/", include("kejiyun.demands.urls")),
    # Batch docking moved to matching (ADR 0006); bookmarks of the old page still work.
    path(
        "cases/dockings/plan/",
        RedirectView.as_view(pattern_name="matching:docking_plan", permanent=True),
    ),
    path("cases/", include("kejiyun.cases.urls")),
    path("plans/", include("kejiyun.plans.urls")),
    path("matching/", include("kejiyun.matching.urls")),
    path("sheets/", include("kejiyun.spreadsheets.urls")),
    path("popsci/", include("kejiyun.popsci.urls")),
    path("notifications/", include("kejiyun.notifications.urls")),
    path("background/", include("kejiyun.background.urls")),
    path("ops/", include("kejiyun.ops.urls")),
    path("integrity/", include("kejiyun.integrity.urls")),
    path("performance/", include("kejiyun.performance.urls")),
    path("recognition/", include("kejiyun.recognition.urls")),
    path("events/", include("kejiyun.events.urls")),
    path("security/", include("kejiyun.security.urls")),
    path("api/v1/", api.urls),
    # Paths under the API that name no operation answer a problem document too.
    # csrf_exempt: this view changes nothing and only answers a 404 problem document, so a
    # POST to a mistyped API path gets that document, not the site's CSRF page.
    # nosemgrep: kejiyun-no-csrf-exempt
    re_path(r"^api/v1/(?P<rest>.*)$", csrf_exempt(unknown_path)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    # Uploaded files (science content images and videos) on the development server; in
    # production the web server serves MEDIA_ROOT.
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# A database outage answers 503 and a full upload disk 507, each with a clear Chinese page;
# any other unhandled error Django's 500 page (docs/resilience.md).
handler500 = "kejiyun.site.errors.server_error"
