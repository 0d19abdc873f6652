"""Provider images through our origin (issue 23, defect 6): `/media-proxy/<signed>/` fetches only
URLs we signed, never a private address unless named, stores what it fetched, and answers every
failure with the placeholder; pages point their <img> at it and the CSP stays as strict."""

import io
import socket

import pytest
from django.template import Context, Template
from PIL import Image

from accounts.models import Role
from accounts.tests.factories import UserFactory
from integrations.media_proxy import PLACEHOLDER_PATH, proxied_image_url
from knowledge import services as knowledge_services
from knowledge.tests.factories import make_product

pytestmark = pytest.mark.django_db


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def image_host(httpserver, settings):
    """The fake image server on 127.0.0.1, named as a private host the proxy may reach."""
    settings.MEDIA_PROXY_PRIVATE_HOSTS = [f"{httpserver.host}:{httpserver.port}"]
    return httpserver


@pytest.fixture
def agent_client(client):
    client.force_login(UserFactory(role=Role.AGENT))
    return client


def is_placeholder(response) -> bool:
    return response.content == PLACEHOLDER_PATH.read_bytes()


def test_an_image_is_fetched_once_then_served_from_our_storage(agent_client, image_host):
    image_host.expect_request("/products/mug.png").respond_with_data(
        png_bytes(), content_type="image/png"
    )
    url = proxied_image_url(image_host.url_for("/products/mug.png"))
    assert url.startswith("/media-proxy/")

    first = agent_client.get(url)
    second = agent_client.get(url)

    assert first.status_code == second.status_code == 200
    assert first["Content-Type"] == "image/png"
    assert first.content == second.content == png_bytes()
    assert first["X-Content-Type-Options"] == "nosniff"
    assert first["Cache-Control"] == "private, max-age=604800"
    assert first["Content-Security-Policy"].startswith("sandbox")
    assert len(image_host.log) == 1


def test_an_svg_thumbnail_is_shown_by_img_but_downloaded_when_opened(agent_client, image_host):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect/></svg>'
    image_host.expect_request("/artwork/A1/thumbnail.svg").respond_with_data(
        svg, content_type="image/svg+xml"
    )
    response = agent_client.get(proxied_image_url(image_host.url_for("/artwork/A1/thumbnail.svg")))
    assert response["Content-Type"] == "image/svg+xml" and response.content == svg
    assert response["Content-Disposition"] == "attachment"
    assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "answer",
    [
        {"response_data": "gone", "status": 404},
        # HTML dressed up as an image: the bytes decide.
        {"response_data": "<html><script>alert(1)</script></html>", "content_type": "image/png"},
        {"response_data": b"\x89PNG\r\n\x1a\n" + b"0" * 4096, "content_type": "image/png"},
    ],
    ids=["404", "html-as-png", "too-large"],
)
def test_anything_but_a_real_image_is_the_placeholder_and_not_asked_again_at_once(
    agent_client, image_host, settings, answer
):
    settings.MEDIA_PROXY_MAX_BYTES = 1024
    image_host.expect_request("/broken").respond_with_data(**answer)
    url = proxied_image_url(image_host.url_for("/broken"))

    first = agent_client.get(url)
    again = agent_client.get(url)

    assert first.status_code == 200 and first["Content-Type"] == "image/svg+xml"
    assert is_placeholder(first) and is_placeholder(again)
    assert first["Cache-Control"] == "private, max-age=60"
    assert len(image_host.log) == 1


def test_an_unreachable_host_is_the_placeholder(agent_client, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.MEDIA_PROXY_PRIVATE_HOSTS = [f"127.0.0.1:{port}"]
    response = agent_client.get(proxied_image_url(f"http://127.0.0.1:{port}/offline.png"))
    assert response.status_code == 200 and is_placeholder(response)


def test_it_is_no_open_proxy(agent_client, image_host):
    image_host.expect_request("/secret.png").respond_with_data(png_bytes(), "image/png")
    target = image_host.url_for("/secret.png")
    signed = proxied_image_url("https://cdn.shopify.com/s/files/photo.png").split("/")[2]

    assert agent_client.get(f"/media-proxy/{target}/").status_code == 404
    assert agent_client.get(f"/media-proxy/x{signed}/").status_code == 404
    assert agent_client.get(f"/media-proxy/{signed[:-2]}xy/").status_code == 404
    assert image_host.log == []


def test_a_signed_url_never_reaches_a_private_address_unless_named(
    agent_client, image_host, settings
):
    image_host.expect_request("/internal.png").respond_with_data(png_bytes(), "image/png")
    settings.MEDIA_PROXY_PRIVATE_HOSTS = []
    response = agent_client.get(proxied_image_url(image_host.url_for("/internal.png")))
    assert is_placeholder(response)
    assert image_host.log == []


def test_only_staff_who_see_tickets_get_images(client, image_host):
    url = proxied_image_url(image_host.url_for("/mug.png"))
    assert client.get(url).status_code == 302  # to the sign-in page
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    assert image_host.log == []


def test_only_http_urls_are_proxied():
    assert proxied_image_url("javascript:alert(1)") == ""
    assert proxied_image_url("data:image/png;base64,AAAA") == ""
    assert proxied_image_url(None) == ""
    rendered = Template("{% load media_proxy %}{{ url|proxied_image }}").render(
        Context({"url": "https://cdn.shopify.com/a.png"})
    )
    assert rendered.startswith("/media-proxy/")


def test_product_cards_point_their_image_at_our_origin_under_the_same_csp(agent_client):
    knowledge_services.upsert_product(product=make_product(title="Ceramic Mug"))
    response = agent_client.get("/knowledge/", {"q": "ceramic mug"})
    html = response.content.decode()
    assert 'class="kn-image" src="/media-proxy/' in html
    assert "cdn.example.test" not in html
    policy = dict(d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";"))
    assert policy["img-src"] == "'self' data: https:"
