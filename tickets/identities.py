"""Customer identities: canonical forms, so the same person is found whatever the spelling.

Pure functions, shared by services (lookup-or-create) and selectors (exact-match search).
"""

import re

from core.errors import ApplicationError
from tickets.models import ChannelKind, IdentityKind

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
PLATFORM_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def normalize_identity(*, kind: str, value: str) -> str:
    """Canonical form of an identity, so the same person is found whatever the spelling."""
    value = (value or "").strip()
    if kind == IdentityKind.EMAIL:
        value = value.lower()
        if not EMAIL.match(value):
            raise ApplicationError(f"'{value}' is not an email address.", code="invalid_identity")
        return value
    if kind in (IdentityKind.PHONE, IdentityKind.WHATSAPP):
        value = value.removeprefix("whatsapp:")
        value = re.sub(r"[\s().-]", "", value)
        if value.startswith("00"):
            value = "+" + value[2:]
        if not E164.match(value):
            raise ApplicationError(
                f"'{value}' is not a phone number in international (E.164) form.",
                code="invalid_identity",
            )
        return value
    if kind in (IdentityKind.INSTAGRAM, IdentityKind.FACEBOOK, IdentityKind.WEB):
        if not PLATFORM_ID.match(value):
            raise ApplicationError(f"'{value}' is not a valid {kind} id.", code="invalid_identity")
        return value
    raise ApplicationError(f"Unknown identity kind '{kind}'.", code="invalid_identity")


def identity_kind_for_channel(channel: str) -> str:
    return {
        ChannelKind.EMAIL: IdentityKind.EMAIL,
        ChannelKind.SMS: IdentityKind.PHONE,
        ChannelKind.WHATSAPP: IdentityKind.WHATSAPP,
        ChannelKind.INSTAGRAM: IdentityKind.INSTAGRAM,
        ChannelKind.FACEBOOK: IdentityKind.FACEBOOK,
        ChannelKind.WEB: IdentityKind.WEB,
    }[channel]
