"""File types from bytes, and the rules of fetching a URL someone else gave us."""

import socket

import pytest

from core.files import content_disposition, sniff_content_type
from core.media_fetch import AllowList, FetchFailed, check_destination


@pytest.mark.parametrize(
    ("head", "declared", "expected"),
    [
        (b"%PDF-1.7\n", "application/octet-stream", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "", "image/png"),
        (b"\xff\xd8\xff\xe0", "image/png", "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "", "image/webp"),
        (b"<!DOCTYPE html><html>", "application/pdf", "text/html"),
        (b"  <html><body>", "image/jpeg", "text/html"),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">',
            "image/png",
            "image/svg+xml",
        ),
        (
            b"PK\x03\x04",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (b"PK\x03\x04", "application/pdf", "application/zip"),
        (b"plain words", "text/plain", "text/plain"),
        (b"plain words", "image/png", "application/octet-stream"),
        (b"\x00\x01binary", "text/plain", "application/octet-stream"),
    ],
)
def test_type_comes_from_the_bytes(head, declared, expected):
    assert sniff_content_type(head, declared=declared) == expected


def test_content_disposition_has_an_ascii_fallback_and_the_utf8_name():
    assert content_disposition('Größe "A".pdf', inline=False) == (
        "attachment; filename=\"Gre A.pdf\"; filename*=UTF-8''Gr%C3%B6%C3%9Fe%20%22A%22.pdf"
    )


def fake_dns(monkeypatch, address: str) -> None:
    """DNS answers cannot be produced by a local server: the resolver is replaced."""
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, **kw: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))],
    )


def test_exact_host_and_port_entries():
    allowed = AllowList.parse(["127.0.0.1:8130", "api.twilio.com"])
    check_destination("http://127.0.0.1:8130/x", allowed=allowed)
    with pytest.raises(FetchFailed) as refused:
        check_destination("http://127.0.0.1:8131/x", allowed=allowed)
    assert refused.value.code == "host_not_allowed"


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://x", "http:///nohost", "ftp://api.twilio.com/"]
)
def test_only_http_urls(url):
    with pytest.raises(FetchFailed):
        check_destination(url, allowed=AllowList.parse(["api.twilio.com"]))


@pytest.mark.parametrize(
    "address", ["10.0.0.5", "127.0.0.1", "169.254.169.254", "192.168.1.1", "::1"]
)
def test_a_suffix_entry_never_reaches_a_private_address(monkeypatch, address):
    fake_dns(monkeypatch, address)
    with pytest.raises(FetchFailed) as refused:
        check_destination("https://evil.fbcdn.net/a.jpg", allowed=AllowList.parse([".fbcdn.net"]))
    assert refused.value.code == "private_address"


def test_a_suffix_entry_reaches_a_public_address(monkeypatch):
    fake_dns(monkeypatch, "157.240.1.1")
    check_destination(
        "https://scontent.xx.fbcdn.net/a.jpg", allowed=AllowList.parse([".fbcdn.net"])
    )


def test_a_lookalike_host_is_not_a_subdomain():
    with pytest.raises(FetchFailed):
        check_destination("https://evilfbcdn.net/a.jpg", allowed=AllowList.parse([".fbcdn.net"]))
