"""Every environment variable the settings read, recorded as they are read.

settings.py reads its environment through `RecordingEnv`, so the list of variables cannot drift
from the code: `manage.py envvars` prints it as the Markdown table in docs/deploy.md, with the
descriptions below (a variable without one is printed with an empty description: add it here).
"""

from dataclasses import dataclass

import environ


@dataclass(frozen=True)
class EnvVar:
    name: str
    default: object


class RecordingEnv(environ.Env):
    """django-environ's Env that remembers each variable name and default it was asked for."""

    def __init__(self, **scheme):
        super().__init__(**scheme)
        self.recorded: dict[str, EnvVar] = {}

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        self.recorded.setdefault(var, EnvVar(name=var, default=default))
        return super().get_value(var, cast=cast, default=default, parse_default=parse_default)


DESCRIPTIONS = {
    "DJANGO_DEBUG": "`0` in production: turns on HTTPS-only cookies, HSTS, SSL redirect, hashed "
    "static files and JSON logs.",
    "DJANGO_SECRET_KEY": "Signing key (sessions, CSRF, password reset). Required when "
    "DJANGO_DEBUG=0; 50+ random characters.",
    "DJANGO_ALLOWED_HOSTS": "Comma-separated host names the site answers to.",
    "PUBLIC_BASE_URL": "The HTTPS address providers and customers reach (webhook signatures, "
    "links in mails, WebSocket origin in the CSP).",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "Origins allowed to POST forms (default: PUBLIC_BASE_URL).",
    "DATABASE_URL": "Database, e.g. `postgres://user:pass@host:5432/printdesk`.",
    "DATABASE_CONN_MAX_AGE": "Seconds a PostgreSQL connection is kept open per worker.",
    "AXES_FAILURE_LIMIT": "Failed sign-ins per username+address before a lockout.",
    "AXES_COOLOFF_MINUTES": "Lockout length.",
    "AUDIT_RETENTION_DAYS": "Days audit-log entries are kept.",
    "TIME_ZONE": "Time zone for business hours and reports.",
    "MEDIA_ROOT": "Directory for uploaded files (proofs, attachments); back it up.",
    "FILE_STORAGE_BUCKET": "S3-compatible bucket for uploaded files; empty = MEDIA_ROOT.",
    "FILE_STORAGE_ENDPOINT_URL": "Object storage endpoint (MinIO, R2, ...); empty = AWS S3.",
    "FILE_STORAGE_REGION": "Object storage region.",
    "FILE_STORAGE_ACCESS_KEY_ID": "Object storage access key (empty = the instance's role).",
    "FILE_STORAGE_SECRET_ACCESS_KEY": "Object storage secret key.",
    "FILE_STORAGE_PREFIX": "Key prefix inside the bucket.",
    "FILE_STORAGE_URL_MAX_AGE_SECONDS": "Lifetime of the signed download URLs staff are sent to.",
    "FILE_STORAGE_ADDRESSING_STYLE": "`path` for endpoints without virtual-host buckets.",
    "MEDIA_FETCH_ALLOWED_HOSTS": "Hosts inbound media may be downloaded from (host, host:port, "
    ".domain).",
    "MEDIA_PROXY_PRIVATE_HOSTS": "Hosts the staff image proxy may fetch from although they "
    "resolve to a private or loopback address (host or host:port; e.g. a PERP on the LAN).",
    "MEDIA_PROXY_MAX_BYTES": "Largest provider image (product photo, artwork thumbnail) proxied.",
    "MEDIA_PROXY_RETRY_SECONDS": "How long a provider image that failed shows the placeholder "
    "before it is fetched again.",
    "MEDIA_FETCH_MAX_BYTES": "Largest inbound media file downloaded.",
    "MEDIA_FETCH_MAX_ATTEMPTS": "Download attempts before a file shows as unavailable.",
    "MEDIA_FETCH_RETRY_SECONDS": "First retry delay of a failed download (doubles each time).",
    "ATTACHMENT_UPLOAD_MAX_BYTES": "Largest total of files staff attach to one reply or note.",
    "PUBLIC_MEDIA_URL_MAX_AGE_SECONDS": "Lifetime of the media links Twilio fetches (MMS, "
    "WhatsApp).",
    "REDIS_URL": "Redis for the channel layer and cache; required with more than one process.",
    "PRESENCE_HEARTBEAT_SECONDS": "How often each socket process refreshes presence.",
    "PRESENCE_TIMEOUT_SECONDS": "A socket silent this long counts as gone.",
    "PRESENCE_OFFLINE_GRACE_SECONDS": "A user whose last socket closed is shown offline after "
    "this, unless a new one opens (a page load, a server restart).",
    "TYPING_TTL_SECONDS": "Typing indicators expire after this.",
    "STAFF_SOCKET_TYPING_PER_SECOND": "Typing frames a staff socket may send per second "
    "(burst 5); the excess is dropped with one error frame.",
    "STAFF_SOCKET_PRESENCE_PER_SECOND": "Presence frames a staff socket may send per second "
    "(burst 2).",
    "STAFF_SOCKET_MAX_PER_USER": "Open staff sockets per user, across processes; a new one "
    "closes the oldest.",
    "WORKER_HEARTBEAT_SECONDS": "How often each task worker records that it is alive.",
    "WORKER_HEARTBEAT_TIMEOUT_SECONDS": "A task worker silent this long counts as dead: the "
    "task it was running goes back to its queue for another worker.",
    "TASKS_BACKEND": "Background task backend (default: database queue run by `db_worker`).",
    "SHOPIFY_API_URL": "Shopify Admin API base URL (`https://<shop>.myshopify.com`).",
    "SHOPIFY_ACCESS_TOKEN": "Shopify Admin API token (empty = sandbox).",
    "SHOPIFY_WEBHOOK_SECRET": "Shopify webhook signing secret.",
    "PERP_API_URL": "PERP ERP API base URL.",
    "PERP_API_KEY": "PERP API key (empty = sandbox).",
    "TWILIO_ACCOUNT_SID": "Twilio account SID (empty = sandbox).",
    "TWILIO_AUTH_TOKEN": "Twilio auth token (also verifies webhook signatures).",
    "TWILIO_SMS_FROM": "Sender number for SMS.",
    "TWILIO_WHATSAPP_FROM": "Sender number for WhatsApp.",
    "TWILIO_API_URL": "Twilio API base URL (override for staging or a fake).",
    "TWILIO_CONTENT_API_URL": "Twilio Content API base URL (WhatsApp templates).",
    "SENDGRID_API_KEY": "SendGrid API key (empty = sandbox).",
    "SENDGRID_FROM_EMAIL": "From address of outbound mail.",
    "SENDGRID_INBOUND_USER": "Basic-auth user in the Inbound Parse URL.",
    "SENDGRID_INBOUND_PASSWORD": "Basic-auth password in the Inbound Parse URL.",
    "SENDGRID_EVENT_PUBLIC_KEY": "Public key verifying the signed Event Webhook.",
    "SENDGRID_API_URL": "SendGrid API base URL.",
    "META_APP_SECRET": "Meta app secret (verifies X-Hub-Signature-256).",
    "META_VERIFY_TOKEN": "Token Meta echoes in the webhook verify handshake.",
    "META_PAGE_ACCESS_TOKEN": "Page token for Messenger/Instagram sends (empty = sandbox).",
    "META_GRAPH_URL": "Graph API host (the version is META_GRAPH_VERSION).",
    "META_GRAPH_VERSION": "Graph API version used for sends and profiles.",
    "JWT_SECRET": "JWT signing key (default: DJANGO_SECRET_KEY).",
    "JWT_ACCESS_MINUTES": "JWT access token lifetime.",
    "JWT_REFRESH_HOURS": "JWT refresh token lifetime (each refresh rotates it).",
    "JWT_FAMILY_DAYS": "A JWT sign-in ends this long after the password was given, however often "
    "it is refreshed.",
    "BUSINESS_WEEKDAYS": "Business days for SLA metrics, 0 = Monday.",
    "BUSINESS_HOURS_START": "Business day start (HH:MM).",
    "BUSINESS_HOURS_END": "Business day end (HH:MM).",
    "CSAT_SURVEY_DELAY_MINUTES": "Delay before a satisfaction survey is sent.",
    "CSAT_SURVEY_EXPIRY_DAYS": "Days a survey link stays valid.",
    "NOTIFICATION_DIGEST_MINUTES": "Mentions, assignments and handoffs that reach someone "
    "offline are emailed together, at most one email per this many minutes.",
    "PRINTSHOP_THREAD_BY_ORDER": "A message naming an order joins that order's open ticket.",
    "PRINTSHOP_PROOF_EXPIRY_DAYS": "Days a proof approval link stays valid.",
    "PRINTSHOP_PROOF_MAX_BYTES": "Largest proof upload.",
    "PRINTSHOP_MIN_DPI": "Preflight minimum image resolution.",
    "PRINTSHOP_BLEED_MM": "Preflight required bleed.",
    "PRINTSHOP_PERP_WRITEBACK_ATTEMPTS": "Retries when writing proof decisions back to PERP.",
    "LOG_LEVEL": "Root log level.",
    "LOG_FORMAT": "`json` (one JSON object per line, default when DJANGO_DEBUG=0) or `plain`.",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "`HEADER=value` the proxy sets on HTTPS requests "
    "(default `HTTP_X_FORWARDED_PROTO=https`); empty to trust no header.",
    "DJANGO_SECURE_SSL_REDIRECT": "Redirect plain HTTP to HTTPS (default: on when DEBUG is off).",
    "DJANGO_SECURE_COOKIES": "Session and CSRF cookies only over HTTPS (default: DEBUG off).",
    "DJANGO_HSTS_SECONDS": "Strict-Transport-Security max-age (default: 1 year when DEBUG off).",
    "DJANGO_HSTS_INCLUDE_SUBDOMAINS": "HSTS covers subdomains.",
    "DJANGO_HSTS_PRELOAD": "HSTS `preload` flag.",
    "DJANGO_STATIC_MANIFEST": "Hashed, compressed static file names (needs collectstatic; "
    "default: DEBUG off).",
    "TRUSTED_PROXY_COUNT": "Reverse proxies in front (nginx = 1): the client address is read "
    "from X-Forwarded-For that many hops from the right. 0 = use the socket address.",
    "CSP_EXTRA_IMG_SRC": "Extra image sources for the Content Security Policy (comma-separated).",
    "CSP_REPORT_URI": "Where browsers report CSP violations (optional).",
    "API_RATE_LIMIT": "API requests per token (or user) and period, e.g. `1200/minute`; empty "
    "= unlimited.",
    "LOGIN_RATE_LIMIT": "Sign-in and token-obtain POSTs per client address, e.g. `30/minute`.",
    "PUBLIC_PAGE_RATE_LIMIT": "Public proof-page requests per client address.",
    "DATA_UPLOAD_MAX_MEMORY_SIZE": "Largest non-file request body in bytes (Django setting).",
    "FILE_UPLOAD_MAX_MEMORY_SIZE": "Uploads larger than this spool to a temp file.",
    "WEBHOOK_MAX_BYTES": "Largest webhook body in bytes (SendGrid Inbound Parse has its own, "
    "larger limit: SENDGRID_INBOUND_MAX_BYTES).",
    "MAX_REQUEST_BYTES": "Largest request body anywhere else (proof uploads are the largest).",
    "SENDGRID_INBOUND_MAX_BYTES": "Largest SendGrid Inbound Parse body (mail with attachments).",
}


# Defaults computed from other settings, described instead of printed (they may be secrets).
DEFAULT_TEXT = {
    "DJANGO_SECRET_KEY": "(required when DJANGO_DEBUG=0; a fixed dev key otherwise)",
    "JWT_SECRET": "DJANGO_SECRET_KEY",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "PUBLIC_BASE_URL",
    "DJANGO_SECURE_SSL_REDIRECT": "on when DJANGO_DEBUG=0",
    "DJANGO_SECURE_COOKIES": "on when DJANGO_DEBUG=0",
    "DJANGO_STATIC_MANIFEST": "on when DJANGO_DEBUG=0",
    "DJANGO_HSTS_SECONDS": "`31536000` when DJANGO_DEBUG=0, else `0`",
    "LOG_FORMAT": "`json` when DJANGO_DEBUG=0, else `plain`",
}


def _default(name: str, value: object) -> str:
    if name in DEFAULT_TEXT:
        return DEFAULT_TEXT[name]
    if value is environ.Env.NOTSET:
        return "(required)"
    if value in ("", None, []):
        return "(empty)"
    return f"`{value}`"


def markdown_table(recorded: dict[str, EnvVar]) -> str:
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for var in sorted(recorded.values(), key=lambda v: v.name):
        meaning = DESCRIPTIONS.get(var.name, "")
        lines.append(f"| `{var.name}` | {_default(var.name, var.default)} | {meaning} |")
    return "\n".join(lines)
