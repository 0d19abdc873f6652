"""Files in team chat: posted from the composer or the API, stored and sniffed like ticket files,
served only to who may read the channel, and shown live over the staff socket."""

import hashlib
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import UserFactory
from comms import live, services
from comms.models import Channel, ChannelKind, ChannelMessage, ChatAttachment
from comms.tests.factories import ChannelFactory, ChannelMemberFactory
from comms.tests.test_consumers import open_socket, receive, subscribe
from core.errors import ApplicationError, NotFound
from tickets.tests.factories import image_bytes, pdf_bytes

MB = 1024 * 1024


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_files(settings) -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT, username="ana")


@pytest.fixture
def api(agent):
    client = APIClient()
    client.force_authenticate(agent)
    return client


@pytest.fixture
def design(agent):
    """A private channel (like #graphic-design) that `agent` is a member of."""
    channel = ChannelFactory(slug="design-room", kind=ChannelKind.PRIVATE)
    ChannelMemberFactory(channel=channel, user=agent)
    return channel


def api_client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_api_posts_files_with_the_message_and_lists_them(api, design):
    png, pdf = image_bytes("PNG"), pdf_bytes()
    response = api.post(
        "/api/channels/design-room/messages/",
        {"body": "Proof v2", "attachments": [upload("proof.pdf", pdf), upload("logo.png", png)]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    files = response.json()["attachments"]
    assert [
        (f["filename"], f["content_type"], f["size"], f["sha256"], f["state"]) for f in files
    ] == [
        ("proof.pdf", "application/pdf", len(pdf), hashlib.sha256(pdf).hexdigest(), "stored"),
        ("logo.png", "image/png", len(png), hashlib.sha256(png).hexdigest(), "stored"),
    ]
    assert files[0]["url"] == f"/chat/files/{files[0]['id']}/"
    listed = api.get("/api/channels/design-room/messages/").json()["results"][0]
    assert [f["id"] for f in listed["attachments"]] == [f["id"] for f in files]
    downloaded = api.get(files[1]["url"])
    assert downloaded.status_code == 200
    assert hashlib.sha256(body(downloaded)).hexdigest() == files[1]["sha256"]
    assert downloaded["Content-Type"] == "image/png"


@pytest.mark.django_db
def test_a_thread_reply_can_carry_a_file(api, design, agent):
    root = services.post_message(channel=design, author=agent, body="Which version?")
    response = api.post(
        f"/api/channels/design-room/messages/{root.pk}/thread/",
        {"attachments": [upload("v3.pdf", pdf_bytes())]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    reply = response.json()
    assert reply["thread_root"] == root.pk and reply["body"] == ""
    thread = api.get(f"/api/channels/design-room/messages/{root.pk}/thread/").json()
    assert [f["filename"] for f in thread[0]["attachments"]] == ["v3.pdf"]


@pytest.mark.django_db
def test_a_message_needs_text_or_a_file(agent, design):
    with pytest.raises(ApplicationError) as refused:
        services.post_message(channel=design, author=agent, body="  ")
    assert refused.value.code == "empty_message"
    message = services.post_message(
        channel=design, author=agent, body="", uploads=[upload("a.png", image_bytes("PNG"))]
    )
    assert message.body == "" and message.attachments.count() == 1
    # The text of a message with files may be edited away too.
    services.edit_message(message_id=message.pk, user=agent, body="")


@pytest.mark.django_db
def test_type_comes_from_the_bytes_and_html_is_never_inline(api, design):
    html = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"
    response = api.post(
        "/api/channels/design-room/messages/",
        {"attachments": [upload("proof.pdf", html, "application/pdf")]},
        format="multipart",
    )
    [file] = response.json()["attachments"]
    assert file["content_type"] == "text/html"
    assert ChatAttachment.objects.get().declared_type == "application/pdf"
    served = api.get(file["url"])
    assert served["Content-Type"] == "application/octet-stream"
    assert served["Content-Disposition"].startswith('attachment; filename="proof.pdf"')
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Security-Policy"].startswith("sandbox")


@pytest.mark.django_db
def test_files_over_the_limit_are_refused_and_nothing_is_kept(api, design, settings):
    settings.ATTACHMENT_UPLOAD_MAX_BYTES = MB
    response = api.post(
        "/api/channels/design-room/messages/",
        {"body": "big", "attachments": [upload("a.bin", b"x" * MB), upload("b.bin", b"y")]},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "files_too_large"
    assert "1 MB" in response.json()["fields"]["attachments"][0]
    assert not ChannelMessage.objects.filter(channel=design).exists()
    assert stored_files(settings) == []


@pytest.mark.django_db
def test_a_message_refused_after_its_files_were_stored_leaves_none_behind(agent, design, settings):
    with pytest.raises(NotFound):
        services.post_message(
            channel=design,
            author=agent,
            body="x",
            thread_root_id=999_999,
            uploads=[upload("a.png", image_bytes("PNG"))],
        )
    assert not ChatAttachment.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.django_db
def test_only_who_may_read_the_channel_downloads(agent, design, client):
    png = image_bytes("PNG")
    message = services.post_message(
        channel=design, author=agent, body="logo", uploads=[upload("logo.png", png)]
    )
    file = message.attachments.get()
    url = f"/chat/files/{file.pk}/"
    assert APIClient().get(url).status_code == 401
    assert client.get(url).status_code in (401, 403)
    outsider = api_client_for(UserFactory(role=Role.AGENT))
    assert outsider.get(url).status_code == 404
    assert outsider.get(f"{url}preview/").status_code == 404
    # Managers oversee private channels, as they read them.
    assert api_client_for(UserFactory(role=Role.MANAGER)).get(url).status_code == 200
    member = UserFactory(role=Role.AGENT)
    ChannelMemberFactory(channel=design, user=member)
    assert body(api_client_for(member).get(url)) == png
    services.delete_message(message_id=message.pk, user=agent)
    assert api_client_for(member).get(url).status_code == 404


@pytest.mark.django_db
def test_direct_message_files_are_for_the_two_members_only(agent):
    other = UserFactory(role=Role.AGENT)
    dm = services.open_direct_channel(user=agent, other=other)
    message = services.post_message(
        channel=dm, author=agent, body="", uploads=[upload("a.pdf", pdf_bytes())]
    )
    url = f"/chat/files/{message.attachments.get().pk}/"
    assert api_client_for(other).get(url).status_code == 200
    assert api_client_for(UserFactory(role=Role.MANAGER)).get(url).status_code == 404


@pytest.mark.django_db
def test_images_and_pdfs_get_a_thumbnail_and_the_message_is_sent_again(
    agent, design, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(live, "group_send", lambda group, event: sent.append(event))
    with django_capture_on_commit_callbacks(execute=True):
        message = services.post_message(
            channel=design,
            author=agent,
            body="",
            uploads=[upload("a.png", image_bytes("PNG", (900, 600))), upload("notes.txt", b"hi")],
        )
    png, txt = message.attachments.order_by("pk")
    png.refresh_from_db()
    assert png.preview_key and not txt.preview_key
    first, second = (event["message"]["attachments"] for event in sent)
    assert first[0]["preview_url"] is None
    assert second[0]["preview_url"] == f"/chat/files/{png.pk}/preview/"
    preview = api_client_for(agent).get(second[0]["preview_url"])
    assert preview.status_code == 200 and preview["Content-Type"] == "image/png"


@pytest.mark.django_db
def test_message_list_fetches_files_in_one_query(api, agent, django_assert_max_num_queries):
    general = Channel.objects.get(slug="general")
    for n in range(5):
        services.post_message(
            channel=general, author=agent, body=f"m{n}", uploads=[upload(f"{n}.txt", b"x")]
        )
    with django_assert_max_num_queries(6):
        results = api.get("/api/channels/general/messages/").json()["results"]
    assert [len(m["attachments"]) for m in results] == [1] * 5


@pytest.mark.django_db
def test_composer_form_uploads_files_and_the_page_links_them(client, agent, design):
    client.force_login(agent)
    response = client.post(
        "/chat/design-room/post/",
        {"body": "see file", "attachments": [upload("banner.pdf", pdf_bytes())]},
    )
    assert response.status_code == 302
    file = ChatAttachment.objects.get()
    page = client.get("/chat/design-room/").content.decode()
    assert f'href="/chat/files/{file.pk}/"' in page and "banner.pdf" in page
    assert 'enctype="multipart/form-data"' in page


@pytest.mark.django_db
def test_composer_shows_the_limit_when_files_are_too_large(client, agent, design, settings):
    settings.ATTACHMENT_UPLOAD_MAX_BYTES = MB
    client.force_login(agent)
    response = client.post(
        "/chat/design-room/post/",
        {"body": "x", "attachments": [upload("a.bin", b"x" * (MB + 1))]},
        follow=True,
    )
    assert "Files on one message are limited to 1 MB in total." in response.content.decode()
    assert not ChatAttachment.objects.exists()


@pytest.mark.django_db
def test_erasure_masks_a_customer_name_in_a_chat_file_name(agent, design):
    services.post_message(
        channel=design, author=agent, body="", uploads=[upload("Jane Roe logo.png", b"x")]
    )
    assert services.redact_chat_mentions(needles=["Jane Roe"]) == 1
    assert "Jane Roe" not in ChatAttachment.objects.get().filename


@pytest.mark.django_db(transaction=True)
@pytest.mark.anyio
async def test_the_live_frame_carries_the_files_to_members_of_a_private_channel():
    def scene():
        ana, bob = UserFactory(role=Role.AGENT), UserFactory(role=Role.AGENT)
        channel = ChannelFactory(slug="artwork", kind=ChannelKind.PRIVATE)
        ChannelMemberFactory(channel=channel, user=ana)
        ChannelMemberFactory(channel=channel, user=bob)
        return ana, bob, channel

    ana, bob, channel = await database_sync_to_async(scene)()
    socket = await open_socket(bob)
    await subscribe(socket, channel="artwork")
    png = image_bytes("PNG")
    await database_sync_to_async(services.post_message)(
        channel=channel, author=ana, body="New logo", uploads=[upload("logo.png", png)]
    )
    frame = await receive(socket)
    assert frame["type"] == "message" and frame["channel"] == "artwork"
    [file] = frame["message"]["attachments"]
    assert (file["filename"], file["content_type"], file["size"], file["sha256"]) == (
        "logo.png",
        "image/png",
        len(png),
        hashlib.sha256(png).hexdigest(),
    )
    # The thumbnail task ran and sent the message again, now with its preview.
    again = await receive(socket)
    assert again["message"]["id"] == frame["message"]["id"]
    assert again["message"]["attachments"][0]["preview_url"].endswith("/preview/")
    await socket.disconnect()
