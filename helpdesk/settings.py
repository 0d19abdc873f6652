"""Printdesk settings. Everything that differs between machines comes from the environment."""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF

from core.queues import QUEUES as TASK_QUEUES
from helpdesk.envvars import RecordingEnv

BASE_DIR = Path(__file__).resolve().parent.parent

# Records every variable read, for `manage.py envvars` (the table in docs/deploy.md).
env = ENV = RecordingEnv()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY",
    default="insecure-dev-key-only-for-local-runs-change-me" if DEBUG else environ.Env.NOTSET,
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])

INSTALLED_APPS = [
    "daphne",
    # Django admin with Printdesk's site: our login (2FA) and audited changes (docs/security.md).
    "accounts.apps.PrintdeskAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Before django_tasks_db: its `db_worker` command is replaced by ours (with a heartbeat).
    "helpdesk",
    "django_tasks",
    "django_tasks_db",
    "accounts",
    "tickets",
    "comms",
    "integrations",
    "knowledge",
    "analytics",
    "printshop",
    "automation",
    "privacy",
]

MIDDLEWARE = [
    # First: request id on every log line and response (helpdesk/middleware.py).
    "helpdesk.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads a body or a session: 413 for over-long bodies, 429 for floods.
    "helpdesk.middleware.BodySizeLimitMiddleware",
    "helpdesk.middleware.PublicRateLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # 2FA gate, session list upkeep and audit request context (docs/security.md).
    "accounts.middleware.AccountSecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: turns a login locked out by django-axes into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"
ASGI_APPLICATION = "helpdesk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the task worker thread read while a request writes; the immediate
    # transaction mode avoids "database is locked" on read-then-write upgrades.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Refuses locked-out username+IP pairs before the password is even checked.
    "accounts.backends.ThrottledLoginBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (django-axes): N failures per username+IP lock that pair for a cool-off.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_VERBOSE = False
# Two-factor sign-in and the audit log (docs/security.md).
OTP_TOTP_ISSUER = "Printdesk"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Presence: each process heartbeats its sockets; a socket silent for the timeout counts as gone
# (its process died), so the user goes offline. Typing indicators expire after the TTL.
PRESENCE_HEARTBEAT_SECONDS = env.float("PRESENCE_HEARTBEAT_SECONDS", default=15.0)
PRESENCE_TIMEOUT_SECONDS = env.float("PRESENCE_TIMEOUT_SECONDS", default=45.0)
# A user whose last socket closed goes offline only after this, so a page load or a server
# restart (the socket closes, the next page or the retry reopens it) announces nothing.
PRESENCE_OFFLINE_GRACE_SECONDS = env.float("PRESENCE_OFFLINE_GRACE_SECONDS", default=5.0)
TYPING_TTL_SECONDS = env.float("TYPING_TTL_SECONDS", default=6.0)
# Staff socket limits (comms/socket_limits.py, docs/security.md): per socket, (frames per second,
# burst) per frame type, excess dropped with one error frame; per user, open sockets across all
# processes (a new one closes the oldest).
STAFF_SOCKET_FRAME_RATES = {
    "typing": (env.float("STAFF_SOCKET_TYPING_PER_SECOND", default=5.0), 5),
    "presence": (env.float("STAFF_SOCKET_PRESENCE_PER_SECOND", default=1.0), 2),
    "default": (20.0, 40),
}
STAFF_SOCKET_MAX_PER_USER = env.int("STAFF_SOCKET_MAX_PER_USER", default=20)
STAFF_SOCKET_MAX_FRAME_CHARS = 16 * 1024
STAFF_SOCKET_MAX_FRAME_DEPTH = 8
# Storefront widget (integrations/webchat, docs/channels.md "Web chat"): shared fixed-window
# limits per client address (every widget call and socket connect) and per visitor (messages);
# per socket, (frames per second, burst) before a flood closes it.
WEBCHAT_IP_RATE = env.str("WEBCHAT_IP_RATE", default="240/minute")
WEBCHAT_VISITOR_MESSAGE_RATE = env.str("WEBCHAT_VISITOR_MESSAGE_RATE", default="30/minute")
WEBCHAT_SOCKET_FRAME_RATE = (5.0, 10)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# Queues by urgency (core/queues.py); production runs a db_worker per queue (docs/deploy.md).
# Each worker beats every WORKER_HEARTBEAT_SECONDS; a RUNNING task whose worker has not beaten
# for WORKER_HEARTBEAT_TIMEOUT_SECONDS goes back to its queue (helpdesk/task_workers.py).
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=5.0)
WORKER_HEARTBEAT_TIMEOUT_SECONDS = env.float("WORKER_HEARTBEAT_TIMEOUT_SECONDS", default=60.0)
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": TASK_QUEUES,
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so an anonymous API call gets 401 with a WWW-Authenticate: Bearer challenge.
        "accounts.authentication.BearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "helpdesk.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    # Per API token (or user): API_RATE_LIMIT below.
    "DEFAULT_THROTTLE_CLASSES": ["helpdesk.throttling.ApiTokenRateThrottle"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Printdesk API",
    "DESCRIPTION": "Helpdesk for a print shop: tickets, customers, team chat, integrations.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from the sidecar package: the app must work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # One schema name per choice set used under several field names (check --deploy clean).
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.models.TicketStatus",
        "TicketPriorityEnum": "tickets.models.TicketPriority",
    },
}

# Providers. Empty credentials put a provider in sandbox mode (see docs/channels.md).
SHOPIFY_API_URL = env.str("SHOPIFY_API_URL", default="")
SHOPIFY_ACCESS_TOKEN = env.str("SHOPIFY_ACCESS_TOKEN", default="")
SHOPIFY_WEBHOOK_SECRET = env.str("SHOPIFY_WEBHOOK_SECRET", default="")
PERP_API_URL = env.str("PERP_API_URL", default="")
PERP_API_KEY = env.str("PERP_API_KEY", default="")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_SMS_FROM = env.str("TWILIO_SMS_FROM", default="")
TWILIO_WHATSAPP_FROM = env.str("TWILIO_WHATSAPP_FROM", default="")
TWILIO_API_URL = env.str("TWILIO_API_URL", default="https://api.twilio.com")
TWILIO_CONTENT_API_URL = env.str("TWILIO_CONTENT_API_URL", default="https://content.twilio.com")
SENDGRID_API_KEY = env.str("SENDGRID_API_KEY", default="")
SENDGRID_FROM_EMAIL = env.str("SENDGRID_FROM_EMAIL", default="support@printdesk.local")
SENDGRID_INBOUND_USER = env.str("SENDGRID_INBOUND_USER", default="")
SENDGRID_INBOUND_PASSWORD = env.str("SENDGRID_INBOUND_PASSWORD", default="")
SENDGRID_EVENT_PUBLIC_KEY = env.str("SENDGRID_EVENT_PUBLIC_KEY", default="")
SENDGRID_API_URL = env.str("SENDGRID_API_URL", default="https://api.sendgrid.com")
# Django's own mail goes out through SendGrid; without an API key it lands in the sandbox.
EMAIL_BACKEND = "integrations.sendgrid.email_backend.SendGridEmailBackend"
DEFAULT_FROM_EMAIL = SENDGRID_FROM_EMAIL
META_APP_SECRET = env.str("META_APP_SECRET", default="")
META_VERIFY_TOKEN = env.str("META_VERIFY_TOKEN", default="")
META_PAGE_ACCESS_TOKEN = env.str("META_PAGE_ACCESS_TOKEN", default="")
META_GRAPH_URL = env.str("META_GRAPH_URL", default="https://graph.facebook.com")
# Pinned Graph API version; move it when Meta retires it (two years after release).
META_GRAPH_VERSION = env.str("META_GRAPH_VERSION", default="v21.0")
# Files on tickets (docs/channels.md "Attachments"). Inbound media is downloaded only from these
# hosts: `host`, `host:port`, or `.domain` for its subdomains (which never allows a private
# address); Twilio media redirects to its CDN/S3, Meta's links live on its CDNs.
MEDIA_FETCH_ALLOWED_HOSTS = env.list(
    "MEDIA_FETCH_ALLOWED_HOSTS",
    default=[
        "api.twilio.com",
        ".twiliocdn.com",
        "s3-external-1.amazonaws.com",
        ".s3.amazonaws.com",
        ".fbcdn.net",
        ".fbsbx.com",
        ".cdninstagram.com",
    ],
)
MEDIA_FETCH_MAX_BYTES = env.int("MEDIA_FETCH_MAX_BYTES", default=25 * 1024 * 1024)
MEDIA_FETCH_MAX_ATTEMPTS = env.int("MEDIA_FETCH_MAX_ATTEMPTS", default=4)
MEDIA_FETCH_RETRY_SECONDS = env.int("MEDIA_FETCH_RETRY_SECONDS", default=20)
# Provider images on staff pages (product photos, PERP artwork thumbnails) come through our own
# origin (`/media-proxy/<signed>/`, integrations/media_proxy.py): any public host, plus these
# hosts (`host` or `host:port`) although they resolve to a private or loopback address (a PERP
# on the office network, the local fakes).
MEDIA_PROXY_PRIVATE_HOSTS = env.list("MEDIA_PROXY_PRIVATE_HOSTS", default=[])
MEDIA_PROXY_MAX_BYTES = env.int("MEDIA_PROXY_MAX_BYTES", default=5 * 1024 * 1024)
# A host that failed is asked again after this long; the page shows the placeholder meanwhile.
MEDIA_PROXY_RETRY_SECONDS = env.int("MEDIA_PROXY_RETRY_SECONDS", default=300)
# Files staff attach to one reply or note, before the per-channel limits.
ATTACHMENT_UPLOAD_MAX_BYTES = env.int("ATTACHMENT_UPLOAD_MAX_BYTES", default=30 * 1024 * 1024)
ATTACHMENT_PREVIEW_PIXELS = 480
# Outbound media links that Twilio fetches (`PUBLIC_BASE_URL/files/public/<signed>/`).
PUBLIC_MEDIA_URL_MAX_AGE_SECONDS = env.int("PUBLIC_MEDIA_URL_MAX_AGE_SECONDS", default=24 * 3600)
JWT_SECRET = env.str("JWT_SECRET", default=SECRET_KEY)
SIMPLE_JWT = {
    "SIGNING_KEY": JWT_SECRET,
    "ALGORITHM": "HS256",
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(hours=env.int("JWT_REFRESH_HOURS", default=24)),
    "UPDATE_LAST_LOGIN": False,
}
# A JWT sign-in (a refresh-token family) ends this long after the password was given, however
# often it is refreshed (accounts/token_families.py).
JWT_FAMILY_LIFETIME = timedelta(days=env.int("JWT_FAMILY_DAYS", default=7))

# Ticket SLA targets in minutes from creation, per priority (see docs/decisions.md).
TICKET_SLA_MINUTES = {"urgent": 60, "high": 4 * 60, "normal": 24 * 60, "low": 72 * 60}

# Analytics (docs/metrics.md). Business hours are in TIME_ZONE; weekdays 0 = Monday.
BUSINESS_HOURS = {
    "weekdays": env.list("BUSINESS_WEEKDAYS", cast=int, default=[0, 1, 2, 3, 4]),
    "start": env.str("BUSINESS_HOURS_START", default="09:00"),
    "end": env.str("BUSINESS_HOURS_END", default="17:30"),
}
CSAT_SURVEY_DELAY_MINUTES = env.int("CSAT_SURVEY_DELAY_MINUTES", default=60)
CSAT_SURVEY_EXPIRY_DAYS = env.int("CSAT_SURVEY_EXPIRY_DAYS", default=14)

# Notifications that reach someone offline are emailed as one digest per this window
# (comms/digests.py; each person chooses on /accounts/notifications/).
NOTIFICATION_DIGEST_MINUTES = env.int("NOTIFICATION_DIGEST_MINUTES", default=10)

# Print-shop workflows (printshop/; docs/channels.md "Orders"). Order references recognized in
# inbound messages: each pattern's `number` group is formatted into the stored order number; an
# earlier pattern wins where two match the same text ("job #4411" is a job, not Shopify #4411).
PRINTSHOP_ORDER_PATTERNS = [
    {
        "source": "perp",
        "pattern": r"(?i)\bPD-ORD-(?P<number>\d{5,})\b",
        "format": "PD-ORD-{number}",
    },
    {
        "source": "perp",
        # "job 4411", "job no. 4411", "job #4411" and the stored form "JOB-4411".
        "pattern": r"(?i)\bjob\s*(?:no\.?|number|#|-)?\s*(?P<number>\d{3,})\b",
        "format": "JOB-{number}",
    },
    {"source": "shopify", "pattern": r"(?<![&#])#(?P<number>\d{4,})\b", "format": "#{number}"},
]
# A message naming an order linked to an open ticket of the same customer joins that ticket.
PRINTSHOP_THREAD_BY_ORDER = env.bool("PRINTSHOP_THREAD_BY_ORDER", default=True)
PRINTSHOP_PROOF_EXPIRY_DAYS = env.int("PRINTSHOP_PROOF_EXPIRY_DAYS", default=14)
PRINTSHOP_PROOF_MAX_BYTES = env.int("PRINTSHOP_PROOF_MAX_BYTES", default=25 * 1024 * 1024)
PRINTSHOP_MIN_DPI = env.int("PRINTSHOP_MIN_DPI", default=300)
PRINTSHOP_BLEED_MM = env.float("PRINTSHOP_BLEED_MM", default=3.0)
PRINTSHOP_PERP_WRITEBACK_ATTEMPTS = env.int("PRINTSHOP_PERP_WRITEBACK_ATTEMPTS", default=6)

# --- Production hardening (docs/deploy.md). DJANGO_DEBUG=0 switches all of this on. ---
# nginx terminates TLS and says so in X-Forwarded-Proto; only trust it behind such a proxy.
_PROXY_SSL_HEADER = env.str(
    "DJANGO_SECURE_PROXY_SSL_HEADER", default="HTTP_X_FORWARDED_PROTO=https"
)
SECURE_PROXY_SSL_HEADER = tuple(_PROXY_SSL_HEADER.split("=", 1)) if _PROXY_SSL_HEADER else None
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe health over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=True)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Client address behind proxies (rate limits, login lockouts): nginx in front = 1.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "core.ratelimit.client_ip"

# Static files: WhiteNoise serves them from the WSGI workers; in production with content-hashed,
# pre-compressed names (after `collectstatic`), in development and tests straight from static/.
# Uploaded files (attachments, proofs): local MEDIA_ROOT unless a bucket is configured, then any
# S3-compatible object storage through django-storages (docs/deploy.md "Object storage").
FILE_STORAGE_BUCKET = env.str("FILE_STORAGE_BUCKET", default="")
FILE_STORAGE_OPTIONS = {
    "bucket_name": FILE_STORAGE_BUCKET,
    "endpoint_url": env.str("FILE_STORAGE_ENDPOINT_URL", default="") or None,
    "region_name": env.str("FILE_STORAGE_REGION", default="") or None,
    "access_key": env.str("FILE_STORAGE_ACCESS_KEY_ID", default="") or None,
    "secret_key": env.str("FILE_STORAGE_SECRET_ACCESS_KEY", default="") or None,
    "location": env.str("FILE_STORAGE_PREFIX", default=""),
    "addressing_style": env.str("FILE_STORAGE_ADDRESSING_STYLE", default="") or None,
    # Staff are redirected to a signed URL this many seconds long (the bucket stays private).
    "querystring_expire": env.int("FILE_STORAGE_URL_MAX_AGE_SECONDS", default=300),
    "querystring_auth": True,
    "signature_version": "s3v4",
    "default_acl": None,
    "file_overwrite": False,
}
_DEFAULT_STORAGE = (
    {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": FILE_STORAGE_OPTIONS}
    if FILE_STORAGE_BUCKET
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
)
STORAGES = {
    "default": _DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "helpdesk.storage.StaticFilesStorage"
        if env.bool("DJANGO_STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Content Security Policy (django-csp): no inline script or style anywhere; JS and CSS come from
# static/. Provider images (product photos, PERP artwork) come through our origin's image proxy;
# `https:` stays for the short-lived signed object-storage URLs that file previews redirect to
# (docs/deploy.md "Content Security Policy"). Customer HTML has <img> stripped by nh3.
_WS_ORIGIN = PUBLIC_BASE_URL.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "https:", *env.list("CSP_EXTRA_IMG_SRC", default=[])],
        "connect-src": [SELF, _WS_ORIGIN],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "report-uri": env.str("CSP_REPORT_URI", default="") or None,
    }
}

# Input limits. Django's own: non-file body size and in-memory upload size.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
# Request bodies per path prefix (longest prefix wins), refused with 413 before any view runs.
# Webhooks: provider payloads are small; SendGrid Inbound Parse carries attachments (30 MB max
# at SendGrid). Everything else (proof uploads are the largest) gets MAX_REQUEST_BYTES.
_WEBHOOK_MAX_BYTES = env.int("WEBHOOK_MAX_BYTES", default=1024 * 1024)
REQUEST_BODY_LIMITS = {
    "/": env.int("MAX_REQUEST_BYTES", default=32 * 1024 * 1024),
    "/api/webhooks/": _WEBHOOK_MAX_BYTES,
    "/api/webhooks/sendgrid": env.int("SENDGRID_INBOUND_MAX_BYTES", default=30 * 1024 * 1024),
    "/api/webhooks/sendgrid/events": _WEBHOOK_MAX_BYTES,
}
# Inbound webhooks (docs/security.md): JSON deeper than this is stored unparsed, as a failed event;
# a raw body over the inline size is kept as a file instead of in the row; an event still
# unprocessed after the stuck time is listed with the failed ones for attention.
WEBHOOK_MAX_JSON_DEPTH = env.int("WEBHOOK_MAX_JSON_DEPTH", default=64)
WEBHOOK_RAW_INLINE_MAX_BYTES = env.int("WEBHOOK_RAW_INLINE_MAX_BYTES", default=1024 * 1024)
WEBHOOK_STUCK_AFTER_MINUTES = env.int("WEBHOOK_STUCK_AFTER_MINUTES", default=15)
# Inbound Parse: a mail's text or HTML body longer than this is stored cut to it for display (the
# whole body stays in the stored raw event); the Parse request itself may be 30 MB (see above).
INBOUND_EMAIL_BODY_MAX_CHARS = env.int("INBOUND_EMAIL_BODY_MAX_CHARS", default=512 * 1024)

# Rate limits. API: per token (or user), helpdesk.throttling. Public endpoints: per client address
# (helpdesk.middleware.PublicRateLimitMiddleware); /csat/ limits itself (analytics.views).
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="1200/minute")
_LOGIN_RATE_LIMIT = env.str("LOGIN_RATE_LIMIT", default="30/minute")
PUBLIC_RATE_LIMITS = [
    {"prefix": "/accounts/login/", "methods": ["POST"], "rate": _LOGIN_RATE_LIMIT},
    {"prefix": "/accounts/password/reset/", "methods": ["POST"], "rate": _LOGIN_RATE_LIMIT},
    {"prefix": "/api/auth/token/", "methods": ["POST"], "rate": _LOGIN_RATE_LIMIT},
    {
        "prefix": "/proofs/",
        "methods": ["GET", "POST"],
        "rate": env.str("PUBLIC_PAGE_RATE_LIMIT", default="120/minute"),
    },
]

# Logs: JSON lines on stdout in production (one object per line, with the request id), plain
# text in development. helpdesk/logging.py.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "helpdesk.logging.RequestIdFilter"},
        "client_errors": {"()": "helpdesk.logging.ClientErrorFilter"},
    },
    "formatters": {
        "json": {"()": "helpdesk.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_id"],
            "formatter": env.str("LOG_FORMAT", default="plain" if DEBUG else "json"),
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Our access line replaces Django's duplicate per-request server log.
        "django.server": {"level": "WARNING"},
        "django.request": {"filters": ["client_errors"]},
    },
}
