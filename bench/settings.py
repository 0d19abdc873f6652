"""Settings for servers started by the benchmarks: production settings plus bench-only pieces.

- `ROOT_URLCONF` adds the ceiling views of `bench/urls.py` next to the real URLs, so a ratio is
  measured on the same server in the same run.
- `BENCH_TIMING=1` puts `bench.middleware.ServerTimingMiddleware` first: server-side time and
  query count per response, in headers. Production settings never load it.
"""

import os

from helpdesk.settings import *  # noqa: F403
from helpdesk.settings import MIDDLEWARE

DEBUG = False
ROOT_URLCONF = "bench.urls"
ASGI_APPLICATION = "bench.asgi.application"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
if os.environ.get("BENCH_TIMING") == "1":
    MIDDLEWARE = ["bench.middleware.ServerTimingMiddleware", *MIDDLEWARE]
if os.environ.get("BENCH_FAST_PASSWORDS") == "1":
    # Smoke runs only: a PBKDF2 hash costs ~1 s of CPU per login on a busy 2-core machine.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Fan-out runs on the production layer, under a prefix of its own so a benchmark never reaches
# (or hears) another process using the same Redis.
if os.environ.get("BENCH_LAYER_PREFIX") and REDIS_URL:  # noqa: F405
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": os.environ["BENCH_LAYER_PREFIX"]},  # noqa: F405
        }
    }
