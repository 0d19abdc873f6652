"""Test settings: the real settings with fast, isolated services.

Tests that need Redis (marked `redis`) read REDIS_URL themselves and configure what they start.
"""

from helpdesk.settings import *  # noqa: F403

TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": TASK_QUEUES,  # noqa: F405
    }
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not shared-cache memory: live-server and socket tests write from other threads, and
    # shared-cache SQLite answers concurrent access with "table is locked" instead of waiting.
    import os
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"printdesk-test-{os.getpid()}.sqlite3")
    }

# Tests never run collectstatic: WhiteNoise looks files up per request instead of warning about
# the missing STATIC_ROOT once per test client.
WHITENOISE_AUTOREFRESH = True

# Media downloads reach only the local fakes (any port on 127.0.0.1), never a real provider.
MEDIA_FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
