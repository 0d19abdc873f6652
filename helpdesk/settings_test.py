"""Test settings: the real settings with fast, isolated services.

Tests that need Redis (marked `redis`) read REDIS_URL themselves and configure what they start.
"""

from helpdesk.settings import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Plain static storage and no STATIC_ROOT (no collectstatic; WhiteNoise serves from the finders),
# and no API rate limit unless a test sets one.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
API_RATE_LIMIT = ""
