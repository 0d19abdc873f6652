"""Inbound payloads made safe to store: decoding with limits, and text the database accepts.

A provider may send anything inside a correctly signed request: NUL characters (PostgreSQL refuses
them in text and JSON), unpaired UTF-16 surrogates (`"\\ud800"` is valid JSON but not encodable
as UTF-8), non-finite numbers, nesting deep enough to exhaust the stack, or values of the wrong
type. Decoding raises `MalformedPayload` with a reason a person can act on; cleaning replaces
what the database cannot hold and says where (docs/security.md, "Inbound webhooks").
"""

import hashlib
import json
import math
import re
from typing import Any

from django.conf import settings

REPLACEMENT = "\ufffd"
# NUL and lone surrogates (a valid surrogate pair is already one code point in a Python str).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class MalformedPayload(ValueError):
    """A verified request whose body cannot be read as the provider's format."""


# JSON strings (with their escapes) and the brackets outside them.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(rb"[\[\]{}]")


def _bracket_depth(raw: bytes) -> int:
    """How deep the brackets of a JSON body nest, counted on the bytes before parsing."""
    deepest = depth = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub(b"", raw)):
        depth += 1 if match.group() in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest


def decode_json(raw: bytes) -> Any:
    """Parse a JSON body, refusing nesting deeper than WEBHOOK_MAX_JSON_DEPTH.

    The depth is checked on the bytes first: on CPython 3.11 a RecursionError raised inside the
    C JSON decoder leaves the thread's recursion count wrong, and a later `ast.parse` in that
    thread fails with SystemError, so a deep body must never reach `json.loads`."""
    if _bracket_depth(raw) > settings.WEBHOOK_MAX_JSON_DEPTH:
        raise MalformedPayload(f"JSON nested deeper than {settings.WEBHOOK_MAX_JSON_DEPTH} levels.")
    try:
        value = json.loads(raw)
    except RecursionError as exc:
        raise MalformedPayload("JSON nested too deeply to parse.") from exc
    except ValueError as exc:  # also UnicodeDecodeError and over-long integers
        raise MalformedPayload(f"Body is not JSON: {exc}") from exc
    depth = json_depth(value)
    if depth > settings.WEBHOOK_MAX_JSON_DEPTH:
        raise MalformedPayload(
            f"JSON nested {depth} levels deep (limit {settings.WEBHOOK_MAX_JSON_DEPTH})."
        )
    return value


def json_depth(value: Any) -> int:
    """Nesting depth of decoded JSON, without recursion (the value may be arbitrarily deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in node)
    return deepest


def clean_text(text: str) -> tuple[str, int]:
    """`text` with NUL and lone surrogates replaced by U+FFFD, and how many were replaced."""
    return _UNSTORABLE.subn(REPLACEMENT, text)


def clean_for_storage(value: Any) -> tuple[Any, list[str]]:
    """A copy of decoded JSON that every database accepts, and a note per repaired value.

    Strings (keys too) lose NUL and lone surrogates; NaN/Infinity become strings. Notes name the
    path, e.g. `entry[0].messaging[0].message.text: 2 characters replaced`.
    """
    repairs: list[str] = []
    root: list[Any] = [None]
    # (source, container to fill, key in that container, path): iterative, as `value` may be deep.
    stack: list[tuple[Any, Any, Any, str]] = [(value, root, 0, "")]
    while stack:
        node, parent, slot, path = stack.pop()
        if isinstance(node, dict):
            copy: Any = {}
            for key, child in node.items():
                clean_key, count = clean_text(str(key))
                child_path = f"{path}.{clean_key}" if path else clean_key
                if count:
                    repairs.append(f"{child_path} (key): {count} characters replaced")
                copy[clean_key] = None
                stack.append((child, copy, clean_key, child_path))
        elif isinstance(node, list):
            copy = [None] * len(node)
            stack.extend(
                (child, copy, index, f"{path}[{index}]") for index, child in enumerate(node)
            )
        elif isinstance(node, str):
            copy, count = clean_text(node)
            if count:
                repairs.append(f"{path or '(body)'}: {count} characters replaced")
        elif isinstance(node, float) and not math.isfinite(node):
            copy = str(node)
            repairs.append(f"{path or '(body)'}: non-finite number {copy} stored as text")
        else:
            copy = node
        parent[slot] = copy
    return root[0], sorted(repairs)


def storable_key(value: str, *, max_length: int) -> str:
    """`value` as a database key: itself when it fits and is clean, else a SHA-256 of it.

    Distinct ids stay distinct (truncating would merge ids that share a prefix).
    """
    if len(value) <= max_length and not _UNSTORABLE.search(value):
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"sha256:{digest}"
