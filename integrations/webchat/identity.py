"""Who a widget visitor is.

- Every visitor holds a signed token (Django signing, salted per purpose) naming a random visitor
  id and the inbox; the widget keeps it in localStorage and sends it with every call. It proves
  nothing about the person, only that this browser started that conversation.
- A logged-in Shopify customer may also carry an identity claim: their email and
  HMAC-SHA256(inbox secret, email) as hex, computed by the theme's Liquid on Shopify's side (as
  Intercom's and Chatwoot's identity verification do). Only a claim whose signature matches, in
  constant time, attaches the conversation to the customer with that email; anything else is
  an anonymous visitor.
"""

import hashlib
import hmac
import secrets

from django.core import signing

from core.errors import ApplicationError
from integrations.models import WebChatInbox
from tickets.identities import normalize_identity
from tickets.models import IdentityKind

TOKEN_SALT = "integrations.webchat.visitor"
# Tokens live in localStorage; a year keeps a returning customer's conversation.
TOKEN_MAX_AGE_SECONDS = 365 * 24 * 3600


class InvalidToken(ApplicationError):
    status = 401
    default_code = "invalid_widget_token"


def new_visitor_token(*, inbox: WebChatInbox) -> tuple[str, str]:
    """(visitor id, token) for a first-time visitor."""
    visitor_id = secrets.token_hex(16)
    return visitor_id, visitor_token(inbox=inbox, visitor_id=visitor_id)


def visitor_token(*, inbox: WebChatInbox, visitor_id: str) -> str:
    """The widget's credential for a visitor of this inbox (what `/session/` hands out)."""
    return signing.dumps({"v": visitor_id, "i": inbox.key}, salt=TOKEN_SALT)


def read_visitor_token(*, inbox: WebChatInbox, token: str) -> str:
    """The visitor id a token names, if it was signed by us for this inbox."""
    try:
        data = signing.loads(token or "", salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE_SECONDS)
    except signing.BadSignature as exc:
        raise InvalidToken("The widget token is not valid; start a new conversation.") from exc
    if not isinstance(data, dict) or data.get("i") != inbox.key or not data.get("v"):
        raise InvalidToken("The widget token belongs to another widget.")
    return str(data["v"])


def identity_signature(*, secret: str, email: str) -> str:
    """What the theme computes: `{{ customer.email | hmac_sha256: secret }}` (lowercase hex)."""
    return hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()


def verified_email(*, inbox: WebChatInbox, email: str, signature: str) -> str:
    """The normalized email of a correctly signed claim, else "" (unsigned or forged)."""
    if not email or not signature or not inbox.identity_secret:
        return ""
    expected = identity_signature(secret=inbox.identity_secret, email=email.strip())
    if not hmac.compare_digest(expected, signature.strip().lower()):
        return ""
    try:
        return normalize_identity(kind=IdentityKind.EMAIL, value=email)
    except ApplicationError:
        return ""
