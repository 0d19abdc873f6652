"""gunicorn settings for Printdesk's HTTP processes: `gunicorn -c deploy/gunicorn.conf.py
helpdesk.wsgi:application`. Environment overrides: GUNICORN_BIND, WEB_CONCURRENCY."""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
# Sync workers, one per core (DESIGN.md "Runtime": ~0.5 ms CPU per bare request under WSGI).
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
timeout = 60
graceful_timeout = 30
# nginx on the same host sets X-Forwarded-Proto; Django reads it too (SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = "127.0.0.1"
# Django writes one JSON access line per request (helpdesk.request); gunicorn's own lines
# (start, worker exits, timeouts) go out as JSON too, on stdout.
accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "helpdesk.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
        }
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
