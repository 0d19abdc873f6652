"""Provider images on staff pages (Shopify product photos, PERP artwork thumbnails), served from
our own origin.

A page never points an <img> at a provider host: our CSP would block a plain-http PERP, an offline
machine cannot reach the Shopify CDN, and each image would tell the provider which staff member
looked at which customer. Templates render `proxied_image_url(url)` instead (`{% load media_proxy
%}{{ url|proxied_image }}`), which signs the stored URL into `/media-proxy/<token>/`. The endpoint
fetches only URLs that we signed, so it is not an open proxy: a token cannot be forged or edited,
and the fetch itself (core.media_fetch) refuses private and loopback addresses on every redirect
hop unless the host is named in `MEDIA_PROXY_PRIVATE_HOSTS`.

The page render never waits for a provider: the <img> points at the endpoint, which fetches with
a short timeout, keeps the image in file storage for every later view, and answers anything that
is not a real image (offline, 404, HTML, too large, refused) with a vendored placeholder, so a
page never shows a broken image. A failed URL is not asked again for `MEDIA_PROXY_RETRY_SECONDS`.
"""

import hashlib
import logging
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core import signing
from django.core.cache import cache as shared_cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from core.files import IMAGE_TYPES, SVG, sniff_content_type
from core.media_fetch import AllowList, FetchFailed, fetch

logger = logging.getLogger(__name__)

SALT = "integrations.media_proxy"
STORAGE_PREFIX = "media-proxy"
# (connect, read) seconds: an <img> waits on this, a page never does.
FETCH_TIMEOUT = (2.0, 4.0)
SERVED_TYPES = IMAGE_TYPES | {SVG}
PLACEHOLDER_PATH = settings.BASE_DIR / "static" / "img" / "image-unavailable.svg"


@dataclass(frozen=True)
class ProxiedImage:
    body: bytes
    content_type: str
    is_placeholder: bool


def proxied_image_url(url: str | None) -> str:
    """Our URL for a provider image, or "" when `url` is not http(s)."""
    url = (url or "").strip()
    if not url.lower().startswith(("https://", "http://")):
        return ""
    token = signing.Signer(salt=SALT).sign_object(url, compress=True)
    return reverse("integrations:media-proxy", args=[token])


def url_from_token(token: str) -> str | None:
    """The URL we signed into `token`; None for a forged or edited one."""
    try:
        url = signing.Signer(salt=SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        return None
    return url if isinstance(url, str) else None


def load_proxied_image(*, url: str) -> ProxiedImage:
    """The image at `url`: from storage when fetched before, else fetched and stored once; the
    placeholder when it cannot be had."""
    digest = hashlib.sha256(url.encode()).hexdigest()
    key = f"{STORAGE_PREFIX}/{digest[:2]}/{digest}"
    if default_storage.exists(key):
        with default_storage.open(key, "rb") as stored:
            body = stored.read()
        # Only images that passed the check below were stored.
        return ProxiedImage(
            body=body, content_type=sniff_content_type(body[:512]), is_placeholder=False
        )
    failure_key = f"media-proxy:failed:{digest}"
    if shared_cache.get(failure_key):
        return placeholder()
    try:
        body, content_type = _fetch_image(url)
    except FetchFailed as exc:
        logger.info("media_proxy.unavailable code=%s url=%s", exc.code, url[:200])
        shared_cache.set(failure_key, exc.code, settings.MEDIA_PROXY_RETRY_SECONDS)
        return placeholder()
    saved = default_storage.save(key, ContentFile(body))
    if saved != key:
        # Another request stored the same image meanwhile; keep one copy.
        default_storage.delete(saved)
    return ProxiedImage(body=body, content_type=content_type, is_placeholder=False)


def _fetch_image(url: str) -> tuple[bytes, str]:
    allowed = AllowList.parse(settings.MEDIA_PROXY_PRIVATE_HOSTS, is_any_public_host=True)
    fetched = fetch(
        url, allowed=allowed, max_bytes=settings.MEDIA_PROXY_MAX_BYTES, timeout=FETCH_TIMEOUT
    )
    with fetched.file:
        body = fetched.file.read()
    # The bytes decide, never the provider's Content-Type header.
    if fetched.digest.content_type not in SERVED_TYPES:
        raise FetchFailed(f"Not an image: {fetched.digest.content_type}.", code="not_an_image")
    return body, fetched.digest.content_type


@cache
def placeholder() -> ProxiedImage:
    return ProxiedImage(body=PLACEHOLDER_PATH.read_bytes(), content_type=SVG, is_placeholder=True)
