"""Limits of the staff socket (docs/security.md, "Staff WebSocket limits").

Per socket: a token bucket per frame type (excess frames are dropped, and the first dropped frame
of a burst is answered with one `error` frame), and a size and nesting limit on each frame,
answered with an `error` frame. Per user: at most `STAFF_SOCKET_MAX_PER_USER` sockets, across
processes (the connection rows are in the database); a new socket closes the oldest.
"""

import json
from typing import Any

from django.conf import settings

from core.errors import ApplicationError
from core.ratelimit import TokenBucket

# Overridable in settings (helpdesk/settings.py); (frames per second, burst) per frame type.
# "default" covers every other type, unknown and malformed frames included.
DEFAULTS: dict[str, Any] = {
    "STAFF_SOCKET_FRAME_RATES": {
        "typing": (5.0, 5),
        "presence": (1.0, 2),
        "default": (20.0, 40),
    },
    "STAFF_SOCKET_MAX_FRAME_CHARS": 16 * 1024,
    "STAFF_SOCKET_MAX_FRAME_DEPTH": 8,
    "STAFF_SOCKET_MAX_PER_USER": 20,
}
DEFAULT_BUCKET = "default"
# Close code for a socket closed because its user opened too many (private range 4000-4999).
CLOSE_TOO_MANY_SOCKETS = 4429


def limit(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


class FrameError(ApplicationError):
    default_code = "invalid_frame"


def parse_frame(text: str | None) -> Any:
    """The JSON value of one text frame, within the size and depth limits."""
    if text is None:
        raise FrameError("Frames are JSON text.")
    max_chars = limit("STAFF_SOCKET_MAX_FRAME_CHARS")
    if len(text) > max_chars:
        raise FrameError(f"A frame is at most {max_chars} characters.", code="frame_too_large")
    try:
        content = json.loads(text)
    except RecursionError as exc:
        raise _too_deep() from exc
    except ValueError as exc:
        raise FrameError("Malformed JSON.", code="malformed_json") from exc
    if _depth(content) > limit("STAFF_SOCKET_MAX_FRAME_DEPTH"):
        raise _too_deep()
    return content


def _too_deep() -> FrameError:
    depth = limit("STAFF_SOCKET_MAX_FRAME_DEPTH")
    return FrameError(f"A frame nests at most {depth} levels.", code="frame_too_deep")


def _depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


class FrameLimiter:
    """One socket's token buckets. `admit` says whether to handle a frame; when it drops one it
    also says whether to report it: once per burst, until a frame of that type passes again."""

    def __init__(self) -> None:
        self.rates: dict[str, tuple[float, float]] = limit("STAFF_SOCKET_FRAME_RATES")
        self.buckets: dict[str, TokenBucket] = {}
        self.reported: set[str] = set()

    def bucket_name(self, frame_type: object) -> str:
        if isinstance(frame_type, str) and frame_type in self.rates:
            return frame_type
        return DEFAULT_BUCKET

    def admit(self, frame_type: object) -> tuple[bool, bool]:
        """(handle the frame, report the drop)."""
        name = self.bucket_name(frame_type)
        bucket = self.buckets.get(name)
        if bucket is None:
            rate, burst = self.rates.get(name, self.rates[DEFAULT_BUCKET])
            bucket = self.buckets[name] = TokenBucket(rate=rate, burst=burst)
        if bucket.take():
            self.reported.discard(name)
            return True, False
        first_drop = name not in self.reported
        self.reported.add(name)
        return False, first_drop
