"""Structured logs: one JSON object per line on stdout, each carrying the request id.

The request id lives in a context variable set by `helpdesk.middleware.RequestIdMiddleware`, so
every log line written while a request is handled (services, tasks run inline, the ORM) carries
it without passing it around. Outside a request the field is null.
"""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged
# (except Django's `request` object, which the message and request id already describe).
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "request"}
)


def _request_id(record: logging.LogRecord) -> str | None:
    # Django logs 4xx/5xx responses ("django.request") after the middleware has returned, with
    # the request attached: its id is on the request.
    return (
        getattr(record, "request_id", None)
        or getattr(getattr(record, "request", None), "request_id", None)
        or request_id_var.get()
    )


class RequestIdFilter(logging.Filter):
    """Adds `record.request_id` so plain-text formats can print it too."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id(record)
        return True


class ClientErrorFilter(logging.Filter):
    """Drops the traceback Django attaches to a 4xx log line (a refused permission, a missing
    page): the request was answered as designed, so one line says it; 5xx keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if 400 <= getattr(record, "status_code", 0) < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id(record),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in payload and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(payload, default=str, ensure_ascii=False)
