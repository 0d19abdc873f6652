"""Downloading a file from a URL someone else gave us, without letting them aim us anywhere.

Inbound media URLs arrive inside webhooks, so they are attacker-influenced. A fetch:
- goes only to hosts on the allow-list (`MEDIA_FETCH_ALLOWED_HOSTS`: `host`, `host:port`, or
  `.suffix` for every subdomain), or to any public host when the list says so (the image proxy,
  whose URLs we signed ourselves), over http(s), on every redirect hop (followed by hand);
- never reaches a private, loopback, link-local or reserved address unless that exact host (or
  `host:port`) is listed by name — a `.suffix` entry never allows one, so a provider domain that
  resolves to 10.0.0.1 (DNS rebinding) is refused;
- sends credentials only with the first request, never to where it redirects (Twilio's signed
  CDN URL refuses a request that also carries an Authorization header);
- stops at `max_bytes` (declared Content-Length or counted while streaming), with timeouts.
Retries belong to the caller (a task): `FetchFailed.is_retryable` says whether to try again.
"""

import ipaddress
import socket
import tempfile
from dataclasses import dataclass
from typing import IO
from urllib.parse import urljoin, urlsplit

import requests

from core.files import Digest, digest_chunks

CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30
MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 1024


class FetchFailed(Exception):
    def __init__(self, message: str, *, code: str, is_retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.is_retryable = is_retryable


@dataclass(frozen=True)
class AllowList:
    exact: frozenset[str]  # "host" or "host:port"
    suffixes: tuple[str, ...]  # ".twiliocdn.com"
    # Any host whose addresses are all public; the named entries may still resolve anywhere.
    is_any_public_host: bool = False

    @classmethod
    def parse(
        cls, entries: list[str] | tuple[str, ...], *, is_any_public_host: bool = False
    ) -> "AllowList":
        cleaned = [e.strip().lower() for e in entries if e and e.strip()]
        return cls(
            exact=frozenset(e for e in cleaned if not e.startswith(".")),
            suffixes=tuple(e for e in cleaned if e.startswith(".")),
            is_any_public_host=is_any_public_host,
        )

    def names(self, host: str, port: int) -> bool:
        """Listed by exact name (with or without its port): may resolve anywhere."""
        return host in self.exact or f"{host}:{port}" in self.exact

    def allows(self, host: str, port: int) -> bool:
        return (
            self.is_any_public_host
            or self.names(host, port)
            or any(host.endswith(s) for s in self.suffixes)
        )


@dataclass
class FetchedFile:
    file: IO[bytes]  # positioned at 0; the caller closes it
    digest: Digest
    header_type: str
    final_url: str


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


def check_destination(url: str, *, allowed: AllowList) -> None:
    """Refuse a URL whose scheme, host or resolved addresses are not allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchFailed(f"Not an http(s) URL: {url[:200]}", code="bad_url")
    host = parts.hostname.lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise FetchFailed(f"Bad port in {url[:200]}", code="bad_url") from exc
    if not allowed.allows(host, port):
        raise FetchFailed(f"{host}:{port} is not an allowed media host.", code="host_not_allowed")
    if allowed.names(host, port):
        return
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise FetchFailed(f"Cannot resolve {host}: {exc}", code="dns", is_retryable=True) from exc
    if not infos or not all(_is_public(info[4][0]) for info in infos):
        raise FetchFailed(f"{host} resolves to a private address.", code="private_address")


def fetch(
    url: str,
    *,
    allowed: AllowList,
    max_bytes: int,
    auth: tuple[str, str] | None = None,
    declared_type: str = "",
    session: requests.Session | None = None,
    timeout: tuple[float, float] = (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
) -> FetchedFile:
    """GET `url` under the rules above; the body is spooled to a temporary file."""
    session = session or requests.Session()
    current = url
    for hop in range(MAX_REDIRECTS + 1):
        check_destination(current, allowed=allowed)
        try:
            response = session.get(
                current,
                auth=auth if hop == 0 else None,
                allow_redirects=False,
                stream=True,
                timeout=timeout,
            )
        except requests.RequestException as exc:
            raise FetchFailed(
                f"Download failed: {exc}", code="unreachable", is_retryable=True
            ) from exc
        with response:
            if response.is_redirect:
                location = response.headers.get("Location", "")
                current = urljoin(current, location)
                continue
            return _read(response, max_bytes=max_bytes, declared_type=declared_type, url=current)
    raise FetchFailed("Too many redirects.", code="too_many_redirects")


def _read(response: requests.Response, *, max_bytes: int, declared_type: str, url: str):
    if response.status_code >= 400:
        retryable = response.status_code == 429 or response.status_code >= 500
        raise FetchFailed(
            f"The provider answered {response.status_code}.",
            code=f"http_{response.status_code}",
            is_retryable=retryable,
        )
    declared_length = response.headers.get("Content-Length", "")
    if declared_length.isdigit() and int(declared_length) > max_bytes:
        raise FetchFailed(_too_large(max_bytes), code="too_large")
    spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - caller closes

    def chunks():
        received = 0
        try:
            for chunk in response.iter_content(CHUNK_BYTES):
                received += len(chunk)
                if received > max_bytes:
                    raise FetchFailed(_too_large(max_bytes), code="too_large")
                spool.write(chunk)
                yield chunk
        except requests.RequestException as exc:
            raise FetchFailed(
                f"Download interrupted: {exc}", code="interrupted", is_retryable=True
            ) from exc

    header_type = response.headers.get("Content-Type", "")
    try:
        digest = digest_chunks(chunks(), declared=declared_type or header_type)
    except FetchFailed:
        spool.close()
        raise
    spool.seek(0)
    return FetchedFile(file=spool, digest=digest, header_type=header_type, final_url=url)


def _too_large(max_bytes: int) -> str:
    return f"The file is larger than {max_bytes // (1024 * 1024)} MB."
