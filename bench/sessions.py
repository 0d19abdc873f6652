"""A logged-in session for a user, written straight to the session store (Django set up).

Benchmarks that need many sessions, or a session in-process, use this instead of the login
form: no password hash per login, and no login side effects (audit rows) in the measurements.
"""

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.utils.module_loading import import_string

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def session_key_for(user) -> str:
    backend = (
        MODEL_BACKEND
        if MODEL_BACKEND in settings.AUTHENTICATION_BACKENDS
        else settings.AUTHENTICATION_BACKENDS[0]
    )
    session = import_string(settings.SESSION_ENGINE + ".SessionStore")()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = backend
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def log_in(client, user) -> None:
    """Like `Client.force_login`, without sending the `user_logged_in` signal."""
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key_for(user)
