"""API token format: `pd_<prefix>_<secret>`; only the SHA-256 of the whole token is stored."""

import hashlib
import secrets

TOKEN_PREFIX = "pd_"
PREFIX_LENGTH = 8


def generate_token() -> tuple[str, str]:
    """A new (raw token, lookup prefix). 256 bits of randomness in the secret part."""
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    return f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def split_token(raw: str) -> str | None:
    """The lookup prefix of a well-formed API token, else None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    prefix, sep, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    if not sep or len(prefix) != PREFIX_LENGTH or not secret:
        return None
    return prefix


def looks_like_api_token(raw: str) -> bool:
    return raw.startswith(TOKEN_PREFIX)
