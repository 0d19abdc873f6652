"""The audit log's writes: one service every security-relevant action calls (docs/security.md).

Rows are written inside the caller's transaction (so a rolled-back change leaves no row). Who
and from where: the actor is passed in; the client IP and user agent come from the request that
`accounts.middleware` binds for the duration of each request (or from an explicit `request`).
"""

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import AuditLogEntry, User
from core.redaction import mask_json, mask_text, mentions_any


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None
    user_agent: str

    @classmethod
    def from_request(cls, request: HttpRequest) -> "RequestContext":
        return cls(
            ip_address=_valid_ip(get_client_ip_address(request)),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        )


def _valid_ip(value: str | None) -> str | None:
    # The column is an address type on PostgreSQL: anything else is dropped, not a 500.
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


_request_context: ContextVar[RequestContext | None] = ContextVar("audit_request", default=None)


@contextmanager
def bind_request(request: HttpRequest) -> Iterator[RequestContext]:
    """Make `request`'s client address and user agent the context of audit rows written now."""
    context = RequestContext.from_request(request)
    token = _request_context.set(context)
    try:
        yield context
    finally:
        _request_context.reset(token)


def current_request_context() -> RequestContext | None:
    return _request_context.get()


def _target_fields(target: models.Model | None) -> dict[str, str]:
    if target is None:
        return {}
    return {
        "target_type": target._meta.label_lower,
        "target_id": str(target.pk),
        "target_repr": str(target)[:200],
    }


def record_audit(
    *,
    action: str,
    actor: User | None = None,
    target: models.Model | None = None,
    details: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    actor_repr: str = "",
) -> AuditLogEntry:
    """Append one audit row (`action` is dotted, e.g. `two_factor.enabled`)."""
    context = RequestContext.from_request(request) if request is not None else None
    context = context or current_request_context()
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    entry = AuditLogEntry(
        action=action,
        actor=actor,
        actor_repr=(actor.get_username() if actor is not None else actor_repr)[:150],
        ip_address=context.ip_address if context else None,
        user_agent=context.user_agent if context else "",
        details=details or {},
        **_target_fields(target),
    )
    entry.save()
    return entry


def record_login(
    *,
    request: HttpRequest | None,
    succeeded: bool,
    user: User | None = None,
    username: str = "",
    method: str = "password",
    two_factor_method: str = "",
) -> AuditLogEntry:
    """A sign-in attempt: `login.succeeded` (actor = the user; how the second factor passed, if
    any) or `login.failed` (who was tried)."""
    if succeeded:
        details = {"method": method, "two_factor": two_factor_method}
        return record_audit(
            action="login.succeeded", actor=user, target=user, details=details, request=request
        )
    tried = User.objects.filter(username__iexact=username).first() if username else None
    return record_audit(
        action="login.failed",
        target=tried,
        actor_repr=username[:150],
        details={"username": username[:150], "method": method},
        request=request,
    )


@transaction.atomic
def prune_audit_log(*, now: datetime | None = None) -> int:
    """Delete rows older than AUDIT_RETENTION_DAYS; returns how many went."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    # A queryset delete: the model's own delete() refuses single-row deletes.
    deleted, _ = AuditLogEntry.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def record_export(*, actor: User, kind: str, details: dict[str, Any] | None = None):
    """A download of customer or business data (`export.<kind>`), e.g. the analytics CSVs."""
    return record_audit(action=f"export.{kind}", actor=actor, details=details)


def redact_audit_mentions(*, needles: list[str]) -> int:
    """Erasure (docs/privacy.md) outranks append-only: rows stay, with the person's name or
    addresses masked where an earlier action recorded them (e.g. an admin change's target)."""
    rows = AuditLogEntry.objects.filter(mentions_any(["target_repr", "details"], needles))
    changed = 0
    for entry in rows if needles else []:
        # A queryset update: the model's save() refuses to change an existing row.
        AuditLogEntry.objects.filter(pk=entry.pk).update(
            target_repr=mask_text(entry.target_repr, needles),
            details=mask_json(entry.details, needles),
        )
        changed += 1
    return changed
