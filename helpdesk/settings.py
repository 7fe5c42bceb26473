"""Helpdesk settings: one module, configured by environment variables.

Every value is read through the small typed helpers below so that a typo in the
environment fails loudly at start-up instead of quietly changing behaviour.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from error


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from error


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. `make dev` sets DEBUG=1 for local use."
        )
    SECRET_KEY = "django-insecure-local-development-only-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# The absolute address of this site, used in links that leave the request cycle:
# private ticket URLs in emails and API answers created by background tasks.
# `check --deploy` warns while it is left at the default (helpdesk/checks.py).
DEFAULT_SITE_URL = "http://127.0.0.1:8000"
SITE_URL = env_str("SITE_URL", DEFAULT_SITE_URL).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "anymail",
    "django_tasks_db",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "tickets",
    "webhooks",
    "automation",
    "sla",
]

MIDDLEWARE = [
    "helpdesk.middleware.RequestIDMiddleware",
    "helpdesk.middleware.RefuseNulInPathMiddleware",
    "helpdesk.middleware.ApiErrorsMiddleware",
    "helpdesk.middleware.DatabaseOutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified() and otp_device (django-otp), right after authentication.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "accounts.middleware.CurrentOrganizationMiddleware",
    # Before the first middleware that loads the session and the user: a dashboard poll
    # with nothing new is answered from the cache alone (docs/dashboard.md).
    "tickets.dashboard.live.UnchangedPollMiddleware",
    "accounts.two_factor.TwoFactorMiddleware",
    "tickets.mail.middleware.InboundEmailBodyMiddleware",
    "helpdesk.middleware.PrivatePagesMiddleware",
    # make dev (DEBUG): a missing page of the dashboard or a customer's is still ours.
    "helpdesk.middleware.PeoplesErrorPagesUnderDebugMiddleware",
    # Last, as axes asks: turns a lockout flagged during the request into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.current_organization",
            ],
        },
    },
]

# Database: SQLite file by default, PostgreSQL (psycopg 3) through DATABASE_URL.
DATABASE_CONN_MAX_AGE = env_int("DATABASE_CONN_MAX_AGE", 0 if DEBUG else 600)


def database_from_url(url: str) -> dict:
    """One alias of DATABASES: persistent connections, checked before each request reuses them."""
    return dj_database_url.parse(url, conn_max_age=DATABASE_CONN_MAX_AGE, conn_health_checks=True)


DATABASES = {"default": database_from_url(env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server and a worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
# Reports may read a streaming replica of the primary (docs/deploy.md). Every other read
# stays on the primary: a page shown right after a write must see that write.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = database_from_url(DATABASE_REPLICA_URL)
    # Under test, the alias reads the primary's test database instead of creating its own.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
REPORTS_DATABASE = "replica" if DATABASE_REPLICA_URL else "default"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache (the API throttle and Django's own uses): one cache shared by every process.
# Redis when REDIS_URL is set; otherwise Django's database cache, in the table that
# `migrate` (accounts 0006) and `manage.py createcachetable` create. Process memory
# (LocMemCache) is never the default: each gunicorn worker would count on its own.
# Limits that must be exact do not live in the cache at all (accounts/ratelimit.py).
REDIS_URL = env_str("REDIS_URL")
CACHE_TABLE = "helpdesk_cache"
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, except that an unreachable Redis is a logged miss, not a 500.
            "BACKEND": "helpdesk.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "helpdesk",
            # A Redis that does not answer must not hold a request for long: every use
            # of the cache degrades when it is down (docs/security.md, "Cache down").
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": CACHE_TABLE,
            "KEY_PREFIX": "helpdesk",
            # Django's default of 300 entries would cull API throttle windows mid-window.
            "OPTIONS": {"MAX_ENTRIES": env_int("CACHE_MAX_ENTRIES", 50000)},
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# axes' backend first: a locked account or address is refused before a password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Sign-in protection (django-axes, see accounts/signin_guard.py): failed sign-ins, password
# reset requests and portal sign-in link requests, per account and per client address,
# counted in the database (exact across workers, untouched by a cache outage).
LOGIN_FAILURES_PER_EMAIL = env_int("LOGIN_FAILURES_PER_EMAIL", 5)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 20)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)
AXES_HANDLER = "accounts.signin_guard.SignInAttemptHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = "accounts.signin_guard.failure_limit"
AXES_COOLOFF_TIME = "accounts.signin_guard.cool_off"
AXES_USERNAME_CALLABLE = "accounts.signin_guard.normalized_username"
AXES_CLIENT_IP_CALLABLE = "accounts.signin_guard.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.signin_guard.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Masked in the attempt rows axes keeps (the password always is).
AXES_SENSITIVE_PARAMETERS = ["username", "email", "ip_address", "csrfmiddlewaretoken"]

# Two-factor sign-in (django-otp, accounts/two_factor.py). Admin requires it for staff when
# set: django-otp's OTPAdminSite then asks for a code on admin's own sign-in page.
ADMIN_REQUIRES_TWO_FACTOR = env_bool("ADMIN_REQUIRES_TWO_FACTOR", False)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Helpdesk")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:queue"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG)
# Without a collected manifest (development, tests), serve straight from static/.
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Attachments are stored through Django's storage API: MEDIA_ROOT by default, or an
# S3-compatible bucket through django-storages when S3_BUCKET is set (docs/deploy.md). The
# bucket stays private: files are only ever sent through our authenticated download views
# (tickets/downloads.py), never by a public URL.
S3_BUCKET = env_str("S3_BUCKET")
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "location": env_str("S3_PREFIX", "attachments"),
            "region_name": env_str("S3_REGION") or None,
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# Upload limits: a request body larger than this is refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024)
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)

# Tasks: by default in the web process, after the response is sent (no worker to run;
# helpdesk/tasks_backend.py); "database" uses django-tasks-db workers (`manage.py
# db_worker`); "rq" uses Redis through django-tasks-rq (see docs/deploy.md).
TASKS_BACKEND = env_str("TASKS_BACKEND", "immediate")
_TASK_BACKENDS = {
    "immediate": "helpdesk.tasks_backend.AfterResponseBackend",
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "dummy": "django.tasks.backends.dummy.DummyBackend",
}
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be one of {sorted(_TASK_BACKENDS)}")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND], "QUEUES": ["default"]}}
if TASKS_BACKEND == "rq":
    if not REDIS_URL:
        raise ImproperlyConfigured("TASKS_BACKEND=rq needs REDIS_URL.")
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}

# Outbound email retries: attempts in all, and the first wait (doubled each time) when
# the task backend can defer; the immediate backend retries inline, fewer times and with
# short pauses (doubled, at most a second), since someone is waiting.
DELIVERY_MAX_ATTEMPTS = env_int("DELIVERY_MAX_ATTEMPTS", 5)
DELIVERY_RETRY_BASE_SECONDS = env_int("DELIVERY_RETRY_BASE_SECONDS", 60)
DELIVERY_INLINE_MAX_ATTEMPTS = env_int("DELIVERY_INLINE_MAX_ATTEMPTS", 3)
DELIVERY_INLINE_RETRY_SECONDS = float(env_str("DELIVERY_INLINE_RETRY_SECONDS", "0.2"))

# Webhooks and the event feed (webhooks/, docs/webhooks.md).
# Receivers must be https unless this is off (it is, by default, only under DEBUG).
WEBHOOK_REQUIRE_HTTPS = env_bool("WEBHOOK_REQUIRE_HTTPS", not DEBUG)
# Let webhooks reach private, loopback, link-local and metadata addresses: only for a
# receiver on this machine or network that the operator trusts (development, tests).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", DEBUG)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# Retries: the first pause (fourfold after each failure, at most 12 h, with jitter), and
# how long after its first try a delivery is given up.
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30)
WEBHOOK_RETRY_WINDOW_HOURS = env_int("WEBHOOK_RETRY_WINDOW_HOURS", 72)
# An endpoint whose every delivery failed for this long is disabled (owners are emailed).
WEBHOOK_DISABLE_AFTER_DAYS = env_int("WEBHOOK_DISABLE_AFTER_DAYS", 5)
# Days the event feed (GET /api/v1/events) and the delivery log are kept.
EVENT_RETENTION_DAYS = env_int("EVENT_RETENTION_DAYS", 30)
for _name in (
    "WEBHOOK_TIMEOUT_SECONDS",
    "WEBHOOK_RETRY_BASE_SECONDS",
    "WEBHOOK_RETRY_WINDOW_HOURS",
    "WEBHOOK_DISABLE_AFTER_DAYS",
    "EVENT_RETENTION_DAYS",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")

# Email. See tickets/mail/ and docs/deploy.md. SUPPORT_EMAIL_SENDER picks the provider:
# sendgrid (the default when SENDGRID_API_KEY is set), google, smtp, any other anymail
# provider by name, console, or none (tickets are only stored). Django's own EMAIL_*
# settings must not be set next to MAILERS, so the SMTP values read from EMAIL_HOST &c.
# in the environment go into MAILERS OPTIONS.
SUPPORT_EMAIL = env_str("SUPPORT_EMAIL", "support@helpdesk.localhost").strip()
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", SUPPORT_EMAIL)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Inbox support addresses on these domains are verified as soon as they are set (the
# operator vouches for them); any other address is used only after a link mailed to it
# is followed. Comma-separated, e.g. "example.com,help.example.com".
SUPPORT_EMAIL_VERIFIED_DOMAINS = [domain.lower() for domain in env_list("SUPPORT_EMAIL_VERIFIED_DOMAINS")]
# Replies come back to reply+<ticket>-<signature>@INBOUND_EMAIL_DOMAIN (routed to the
# provider's inbound webhook); empty: replies go to the inbox's support address.
INBOUND_EMAIL_DOMAIN = env_str("INBOUND_EMAIL_DOMAIN").strip().lower()
# Inbound webhooks carry whole emails: their own size limit, not DATA_UPLOAD_MAX_MEMORY_SIZE.
INBOUND_EMAIL_MAX_BYTES = env_int("INBOUND_EMAIL_MAX_BYTES", 40 * 1024 * 1024)
# Provider webhooks (/anymail/...) refuse posts without ANYMAIL_WEBHOOK_SECRET's basic
# auth (401), before reading the body. Only this explicit switch lets them in without it
# (for a provider that signs its posts instead); `check --deploy` reports it.
INBOUND_EMAIL_WEBHOOK_OPEN = env_bool("INBOUND_EMAIL_WEBHOOK_OPEN", False)
# A spam score (as the provider reports it, anymail's spam_score) at or above this marks an
# inbound email as failing its sender checks: never taken as an agent's answer.
INBOUND_EMAIL_SPAM_SCORE = env_float("INBOUND_EMAIL_SPAM_SCORE", 5.0)
# New tickets by email per sender per hour (per organization); more are added to the
# sender's latest open ticket instead, so a mail loop or a flood opens nothing new.
INBOUND_EMAIL_NEW_TICKETS_PER_HOUR = env_int("INBOUND_EMAIL_NEW_TICKETS_PER_HOUR", 10)
# IMAP/POP3 mailboxes (manage.py fetch_mail): seconds between passes with --loop, and
# the network timeout of each connection.
MAILBOX_POLL_SECONDS = env_int("MAILBOX_POLL_SECONDS", 60)
# How often `manage.py apply_retention --loop` applies the organizations' retention rules.
RETENTION_INTERVAL_SECONDS = env_int("RETENTION_INTERVAL_SECONDS", 3600)
MAILBOX_TIMEOUT_SECONDS = env_int("MAILBOX_TIMEOUT_SECONDS", 30)
# The inbox (public id) that takes new mail sent to an address no inbox claims.
INBOUND_EMAIL_DEFAULT_INBOX = env_str("INBOUND_EMAIL_DEFAULT_INBOX").strip()

_sendgrid_api_key = env_str("SENDGRID_API_KEY")
_default_sender = "sendgrid" if _sendgrid_api_key else "console" if DEBUG else "none"
SUPPORT_EMAIL_SENDER = (env_str("SUPPORT_EMAIL_SENDER") or _default_sender).strip().lower()
# Every ANYMAIL_<NAME> variable becomes ANYMAIL["<NAME>"]: ANYMAIL_WEBHOOK_SECRET
# ("user:password", comma-separated to rotate), ANYMAIL_MAILGUN_API_KEY,
# ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY, ANYMAIL_POSTMARK_SERVER_TOKEN, ...
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_") and value
}
if "WEBHOOK_SECRET" in ANYMAIL:
    ANYMAIL["WEBHOOK_SECRET"] = env_list("ANYMAIL_WEBHOOK_SECRET")


def _anymail_providers() -> set[str]:
    import importlib.util
    import pkgutil

    spec = importlib.util.find_spec("anymail.backends")
    found = {module.name for module in pkgutil.iter_modules(spec.submodule_search_locations)}
    return found - {"base", "base_requests", "console", "test"}


def _mailer(sender: str) -> dict:
    smtp = "django.core.mail.backends.smtp.EmailBackend"
    timeout = env_int("EMAIL_TIMEOUT", 10)
    if sender == "none":
        return {"BACKEND": "tickets.mail.backends.DisabledEmailBackend"}
    if sender == "console":
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if sender == "sendgrid":
        if not _sendgrid_api_key:
            raise ImproperlyConfigured("SUPPORT_EMAIL_SENDER=sendgrid needs SENDGRID_API_KEY.")
        options = {"api_key": _sendgrid_api_key}
        return {"BACKEND": "anymail.backends.sendgrid.EmailBackend", "OPTIONS": options}
    if sender == "google":
        user, password = env_str("GOOGLE_SMTP_USER"), env_str("GOOGLE_SMTP_APP_PASSWORD")
        if not user or not password:
            raise ImproperlyConfigured(
                "SUPPORT_EMAIL_SENDER=google needs GOOGLE_SMTP_USER and GOOGLE_SMTP_APP_PASSWORD."
            )
        options = {"host": "smtp.gmail.com", "port": 587, "use_tls": True, "timeout": timeout}
        return {"BACKEND": smtp, "OPTIONS": {**options, "username": user, "password": password}}
    if sender == "smtp":
        if not env_str("EMAIL_HOST"):
            raise ImproperlyConfigured("SUPPORT_EMAIL_SENDER=smtp needs EMAIL_HOST.")
        use_tls, use_ssl = env_bool("EMAIL_USE_TLS", False), env_bool("EMAIL_USE_SSL", False)
        options = {
            "host": env_str("EMAIL_HOST"),
            "port": env_int("EMAIL_PORT", 465 if use_ssl else 587 if use_tls else 25),
            "username": env_str("EMAIL_HOST_USER"),
            "password": env_str("EMAIL_HOST_PASSWORD"),
            "use_tls": use_tls,
            "use_ssl": use_ssl,
            "timeout": timeout,
        }
        return {"BACKEND": smtp, "OPTIONS": options}
    if sender in _anymail_providers():
        return {"BACKEND": f"anymail.backends.{sender}.EmailBackend"}
    raise ImproperlyConfigured(
        "SUPPORT_EMAIL_SENDER must be sendgrid, google, smtp, console, none or an anymail "
        f"provider ({', '.join(sorted(_anymail_providers()))}), not {sender!r}."
    )


MAILERS = {"default": _mailer(SUPPORT_EMAIL_SENDER)}

# The longest a customer JWT may live (exp - iat, or exp - now without iat), in seconds.
CUSTOMER_JWT_MAX_LIFETIME = env_int("CUSTOMER_JWT_MAX_LIFETIME", 24 * 60 * 60)

# Requests per API credential (key, agent token, customer token), e.g. "600/min".
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "600/min")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "accounts.authentication.AgentTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsIntegratorOrAgent"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "tickets.api.pagination.PagePagination",
    "DEFAULT_SCHEMA_CLASS": "helpdesk.schema.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["helpdesk.parsers.StrictJSONParser"],
    "EXCEPTION_HANDLER": "helpdesk.api_errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.CredentialRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"credential": API_THROTTLE_RATE},
    "UNAUTHENTICATED_USER": None,
    "PAGE_SIZE": 20,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Helpdesk API",
    "DESCRIPTION": (
        "Create and follow support tickets. Integrators authenticate with an "
        "organization API key (`X-API-Key` or `Authorization: Bearer`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "helpdesk.schema.strip_trailing_slashes",
        "helpdesk.schema.document_every_status",
    ],
    # The dialects' own enums share field names (status, priority, channel) with ours.
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.models.Ticket.Status",
        "TicketPriorityEnum": "tickets.models.Ticket.Priority",
        "TicketChannelEnum": "tickets.models.Ticket.Channel",
        "SupportDeskStatusEnum": "tickets.dialects.supportdesk.STATUS_CHOICES",
        "SupportDeskPriorityEnum": "tickets.dialects.supportdesk.PRIORITY_CHOICES",
        "SupportDeskChannelEnum": "tickets.dialects.supportdesk.CHANNEL_CHOICES",
        "CtxfyStatusEnum": "tickets.dialects.ctxfy.COPY_STATUSES",
        "InappPriorityEnum": "tickets.dialects.inapp.USER_PRIORITIES",
        "CustomFieldTypeEnum": "tickets.models.CustomField.Type",
        "TicketLinkKindEnum": "tickets.models.TicketLink.Kind",
        "MessageKindEnum": "tickets.models.Message.Kind",
        # Each dialect's statuses, in its own document's words (docs/dialects.md).
        "InappStatusEnum": "tickets.dialects.inapp.STATUSES",
        "AppboxStatusEnum": "tickets.dialects.appbox.STATUSES",
    },
}

# Security: hardened unless DEBUG; `manage.py check --deploy` is clean in production.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY") else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Preloading is a commitment for the whole domain that only its operator can make (anyone
# may submit a domain whose header says "preload"), so it stays opt-in and its reminder off.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Every record passes RedactSecretsFilter: private-link keys and sign-in or verification
# tokens in request paths never reach the log (helpdesk/redaction.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "helpdesk.redaction.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Filtered where they log, so every handler (and Django's mail_admins) sees it redacted.
        "django.request": {"filters": ["redact_secrets"]},
        "django.server": {"filters": ["redact_secrets"]},
    },
}
