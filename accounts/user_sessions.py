"""Signed-in sessions: what the session list shows, and ending sessions (docs/security.md).

Ending a session deletes it from Django's session store (the browser is signed out on its next
request) and, after commit, closes its WebSockets: the staff consumer joins `session.<hash>`
on connect and closes with 4401 on a `session.revoked` event; deactivation sends the same event
to `user.<id>` so every socket of the member closes.
"""

from datetime import datetime, timedelta
from functools import partial
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.audit import record_audit
from accounts.models import User, UserSession
from accounts.token_families import RevokedReason, revoke_token_families
from core.errors import NotFound
from core.realtime import group_send, session_group, user_group

# Last-seen is informative; the middleware writes it at most this often per session.
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)
SESSION_REVOKED_EVENT = {"type": "session.revoked"}


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


# Reads ------------------------------------------------------------------------------------------


def list_user_sessions(*, user: User) -> QuerySet[UserSession]:
    return UserSession.objects.filter(user=user, expires_at__gt=timezone.now()).order_by(
        "-last_seen_at"
    )


def get_user_session(*, user: User, session_id: int) -> UserSession:
    found = list_user_sessions(user=user).filter(pk=session_id).first()
    if found is None:
        raise NotFound("No such session.", code="session_not_found")
    return found


def describe_user_agent(user_agent: str) -> str:
    """A short device label ("Firefox on Windows") from a User-Agent header."""
    ua = user_agent.lower()
    browsers = [
        ("edg/", "Edge"),
        ("opr/", "Opera"),
        ("firefox/", "Firefox"),
        ("chrome/", "Chrome"),
        ("safari/", "Safari"),
        ("curl/", "curl"),
        ("python", "Python client"),
    ]
    systems = [
        ("iphone", "iPhone"),
        ("ipad", "iPad"),
        ("android", "Android"),
        ("windows", "Windows"),
        ("mac os x", "macOS"),
        ("cros", "ChromeOS"),
        ("linux", "Linux"),
    ]
    browser = next((name for needle, name in browsers if needle in ua), "")
    system = next((name for needle, name in systems if needle in ua), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


# Writes -----------------------------------------------------------------------------------------


def touch_user_session(
    *,
    user: User,
    session_key: str,
    ip_address: str | None,
    user_agent: str,
    expires_at: datetime,
) -> None:
    """Create or refresh the session's row (one upsert; callers throttle it)."""
    UserSession.objects.update_or_create(
        session_key=session_key,
        defaults={
            "user": user,
            "ip_address": ip_address,
            "user_agent": user_agent[:512],
            "last_seen_at": timezone.now(),
            "expires_at": expires_at,
        },
    )


@transaction.atomic
def record_sign_out(*, user: User, session_key: str) -> None:
    """The member signs out (Django's logout ends the session): audited, row dropped."""
    UserSession.objects.filter(session_key=session_key).delete()
    record_audit(action="logout", actor=user, target=user)


def _end(rows: list[UserSession]) -> None:
    store = _session_store()
    for row in rows:
        store(session_key=row.session_key).delete()
        transaction.on_commit(
            partial(group_send, session_group(row.session_key), SESSION_REVOKED_EVENT),
            robust=True,
        )
    UserSession.objects.filter(pk__in=[row.pk for row in rows]).delete()


@transaction.atomic
def end_session(*, actor: User, user_session: UserSession) -> None:
    """Sign one of the actor's own sessions out (and close its sockets)."""
    if user_session.user_id != actor.pk:
        raise NotFound("No such session.", code="session_not_found")
    _end([user_session])
    record_audit(
        action="session.revoked",
        actor=actor,
        target=actor,
        details={"session": user_session.pk, "ip": user_session.ip_address},
    )


@transaction.atomic
def end_other_sessions(*, actor: User, current_session_key: str) -> int:
    """ "Sign out everywhere else": every session of the actor but this one, and every JWT
    sign-in (API clients are elsewhere by definition)."""
    rows = list(UserSession.objects.filter(user=actor).exclude(session_key=current_session_key))
    _end(rows)
    revoke_token_families(user=actor, reason=RevokedReason.SIGNED_OUT)
    record_audit(
        action="session.revoked_others", actor=actor, target=actor, details={"count": len(rows)}
    )
    return len(rows)


@transaction.atomic
def end_all_sessions(*, user: User, actor: User | None) -> int:
    """Every session and JWT sign-in of `user` (deactivation); closes every socket of theirs
    after commit."""
    rows = list(UserSession.objects.filter(user=user))
    _end(rows)
    revoke_token_families(user=user, reason=RevokedReason.DEACTIVATED)
    transaction.on_commit(
        partial(group_send, user_group(user.pk), SESSION_REVOKED_EVENT), robust=True
    )
    record_audit(
        action="session.revoked_all", actor=actor, target=user, details={"count": len(rows)}
    )
    return len(rows)
