"""Share to #channel (issue 19): a ticket's file posted in a team channel, from the ticket page,
the chat API (`forward_attachment_ids`) or a ticket discussion's first message. The chat row
points at the ticket file's stored bytes (no copy), shows like any chat file and links its
ticket; an erasure of the ticket's customer takes the shared file out of chat too."""

import hashlib
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import UserFactory
from comms import live, services
from comms.models import Channel, ChannelKind, ChatAttachment
from comms.tests.factories import ChannelFactory, ChannelMemberFactory
from core.errors import NotFound, PermissionDenied
from privacy.services import erase_customer
from tickets.models import Attachment
from tickets.tests.factories import (
    AttachmentFactory,
    TicketFactory,
    TicketMessageFactory,
    image_bytes,
    pdf_bytes,
)

pytestmark = pytest.mark.django_db


def stored_files(settings) -> set[Path]:
    return {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def api_client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT, username="ana")


@pytest.fixture
def design():
    return Channel.objects.get(slug="graphic-design")


@pytest.fixture
def ticket():
    return TicketFactory(subject="Banner artwork")


@pytest.fixture
def png():
    return image_bytes("PNG", (400, 300))


@pytest.fixture
def artwork(ticket, png):
    """The customer's PNG on the ticket, with its thumbnail already made."""
    preview = default_storage.save("previews/artwork.png", ContentFile(image_bytes("PNG")))
    return AttachmentFactory(
        message__ticket=ticket,
        filename="banner.png",
        content_type="image/png",
        data=png,
        preview_key=preview,
    )


def share(api, slug, ids, text="Can we print this at A1?"):
    return api.post(
        f"/api/channels/{slug}/messages/",
        {"body": text, "forward_attachment_ids": ids},
        format="json",
    )


# API --------------------------------------------------------------------------------------------


def test_api_shares_a_ticket_file_without_copying_its_bytes(
    agent, design, ticket, artwork, png, settings
):
    api = api_client_for(agent)
    before = stored_files(settings)
    response = share(api, "graphic-design", [artwork.pk])
    assert response.status_code == 201, response.content
    message = response.json()
    assert message["body"] == "Can we print this at A1?"
    [file] = message["attachments"]
    assert (
        file["filename"],
        file["content_type"],
        file["size"],
        file["sha256"],
        file["state"],
    ) == (
        "banner.png",
        "image/png",
        len(png),
        hashlib.sha256(png).hexdigest(),
        "stored",
    )
    assert file["ticket"] == {"reference": ticket.reference, "url": f"/tickets/{ticket.reference}/"}
    # The same stored bytes and thumbnail: nothing new in storage.
    row = ChatAttachment.objects.get(pk=file["id"])
    assert (row.storage_key, row.preview_key, row.source_attachment) == (
        artwork.storage_key,
        artwork.preview_key,
        artwork,
    )
    assert stored_files(settings) == before
    # Shown like any chat file: inline (a PNG), with its thumbnail.
    downloaded = api.get(file["url"])
    assert downloaded.status_code == 200 and body(downloaded) == png
    assert downloaded["Content-Disposition"].startswith("inline")
    assert file["preview_url"] == f"/chat/files/{file['id']}/preview/"
    assert api.get(file["preview_url"]).status_code == 200
    listed = api.get("/api/channels/graphic-design/messages/").json()["results"][0]
    assert listed["attachments"][0]["ticket"]["reference"] == ticket.reference


def test_a_pdf_without_a_thumbnail_gets_its_own_in_chat(
    agent, design, ticket, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(live, "group_send", lambda group, event: None)
    pdf = AttachmentFactory(
        message__ticket=ticket,
        filename="proof.pdf",
        content_type="application/pdf",
        data=pdf_bytes(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = services.post_message(
            channel=design, author=agent, body="", forward_attachment_ids=[pdf.pk]
        )
    row = message.attachments.get()
    assert row.preview_key and row.storage_key == pdf.storage_key
    pdf.refresh_from_db()
    assert pdf.preview_key == ""  # chat's thumbnail is chat's own


def test_a_thread_reply_can_share_a_ticket_file(agent, design, artwork):
    api = api_client_for(agent)
    root = services.post_message(channel=design, author=agent, body="Artwork check")
    response = api.post(
        f"/api/channels/graphic-design/messages/{root.pk}/thread/",
        {"forward_attachment_ids": [artwork.pk]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    reply = response.json()
    assert reply["thread_root"] == root.pk and reply["body"] == ""
    assert [f["filename"] for f in reply["attachments"]] == ["banner.png"]


def test_errors_are_400_per_field_403_and_404(agent, design, artwork):
    api = api_client_for(agent)
    unknown = share(api, "graphic-design", [artwork.pk, 999_999])
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "unknown_attachment"
    assert unknown.json()["fields"] == {"forward_attachment_ids": ["Unknown: 999999."]}
    not_an_id = share(api, "graphic-design", ["banner.png"])
    assert not_an_id.status_code == 400
    assert list(not_an_id.json()["fields"]) == ["forward_attachment_ids.0"]

    private = ChannelFactory(slug="design-room", kind=ChannelKind.PRIVATE)
    ChannelMemberFactory(channel=private, user=agent)
    refused = share(api, "design-room", [artwork.pk])
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_share_channel"
    assert list(refused.json()["fields"]) == ["forward_attachment_ids"]
    dm = services.open_direct_channel(user=agent, other=UserFactory(role=Role.AGENT))
    assert share(api, dm.slug, [artwork.pk]).status_code == 400

    assert share(api, "no-such-channel", [artwork.pk]).status_code == 404
    viewer = api_client_for(UserFactory(role=Role.VIEWER))
    assert share(viewer, "graphic-design", [artwork.pk]).status_code == 403
    assert not ChatAttachment.objects.exists()


def test_who_may_not_see_tickets_may_not_share_their_files(design, artwork):
    chat_only = UserFactory()
    chat_only.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="comms", codename__in=["view_channel", "post_channel"]
        )
    )
    api = api_client_for(chat_only)
    assert (
        api.post(
            "/api/channels/graphic-design/messages/", {"body": "hi"}, format="json"
        ).status_code
        == 201
    )
    response = share(api, "graphic-design", [artwork.pk])
    assert response.status_code == 403
    assert not ChatAttachment.objects.exists()


def test_a_refused_message_leaves_the_ticket_file_in_place(agent, design, artwork, settings):
    before = stored_files(settings)
    with pytest.raises(NotFound):
        services.post_message(
            channel=design,
            author=agent,
            body="x",
            thread_root_id=999_999,
            forward_attachment_ids=[artwork.pk],
        )
    assert stored_files(settings) == before
    assert default_storage.exists(artwork.storage_key)


def test_a_migrated_file_without_its_digest_is_read_for_it(agent, design, ticket, png):
    """A row of migration 0006 not backfilled yet: the share reads the bytes for the type."""
    key = default_storage.save("inbound/email/3f2a/attachment1-sign.png", ContentFile(png))
    legacy = Attachment.objects.create(
        ticket=ticket,
        message=TicketMessageFactory(ticket=ticket),
        filename="sign.png",
        declared_type="image/png",
        storage_key=key,
        state="stored",
    )
    message = services.post_message(
        channel=design, author=agent, body="", forward_attachment_ids=[legacy.pk]
    )
    row = message.attachments.get()
    assert (row.content_type, row.size, row.sha256) == (
        "image/png",
        len(png),
        hashlib.sha256(png).hexdigest(),
    )


def test_the_live_frame_carries_the_file_and_its_ticket(
    agent, design, ticket, artwork, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(live, "group_send", lambda group, event: sent.append((group, event)))
    with django_capture_on_commit_callbacks(execute=True):
        services.share_ticket_files(
            channel=design, author=agent, body="", attachment_ids=[artwork.pk]
        )
    [(group, frame)] = sent
    assert group == "channel.graphic-design"
    [file] = frame["message"]["attachments"]
    assert file["ticket"]["reference"] == ticket.reference and file["preview_url"]


def test_message_list_with_shared_files_stays_at_a_fixed_query_count(
    agent, design, ticket, django_assert_max_num_queries
):
    for n in range(5):
        file = AttachmentFactory(message__ticket=TicketFactory(), filename=f"{n}.jpg")
        services.post_message(
            channel=design, author=agent, body="", forward_attachment_ids=[file.pk]
        )
    with django_assert_max_num_queries(6):
        results = api_client_for(agent).get("/api/channels/graphic-design/messages/").json()
    assert len({m["attachments"][0]["ticket"]["reference"] for m in results["results"]}) == 5


# The ticket page -------------------------------------------------------------------------------


def test_share_from_the_ticket_page(client, agent, design, ticket, artwork):
    client.force_login(agent)
    page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    share_url = f"/tickets/{ticket.reference}/files/{artwork.pk}/share/"
    assert f'href="{share_url}"' in page and "Share to #channel" in page

    form = client.get(share_url)
    assert form.status_code == 200
    html = form.content.decode()
    assert 'value="graphic-design"' in html and "banner.png" in html
    assert 'value="managers"' not in html  # private channels are not offered

    response = client.post(share_url, {"channel": "graphic-design", "body": "Check the bleed"})
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.reference}/#attachment-{artwork.pk}"
    row = ChatAttachment.objects.get()
    assert row.message.body == "Check the bleed" and row.message.channel == design
    assert (
        "Shared banner.png to #graphic-design." in client.get(response["Location"]).content.decode()
    )

    chat = client.get("/chat/graphic-design/").content.decode()
    assert f'href="/chat/files/{row.pk}/"' in chat
    assert f'from <a href="/tickets/{ticket.reference}/">{ticket.reference}</a>' in chat


def test_the_share_page_refuses_what_it_must(client, agent, ticket, artwork):
    client.force_login(agent)
    url = f"/tickets/{ticket.reference}/files/{artwork.pk}/share/"
    refused = client.post(url, {"channel": "managers", "body": ""})
    assert refused.status_code == 400
    assert "Pick an open team channel." in refused.content.decode()
    other = AttachmentFactory(message__ticket=TicketFactory())
    assert client.get(f"/tickets/{ticket.reference}/files/{other.pk}/share/").status_code == 404
    assert not ChatAttachment.objects.exists()

    viewer = UserFactory(role=Role.VIEWER)
    client.force_login(viewer)
    assert "Share to #channel" not in client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert client.get(url).status_code == 403
    assert client.post(url, {"channel": "graphic-design"}).status_code == 403


# Ticket discussions ----------------------------------------------------------------------------


def test_a_discussion_can_start_with_files_of_its_ticket(agent, design, ticket, artwork):
    api = api_client_for(agent)
    response = api.post(
        f"/api/tickets/{ticket.reference}/discussions/",
        {
            "channel": "graphic-design",
            "body": "Good enough?",
            "forward_attachment_ids": [artwork.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    root = response.json()["root"]
    assert root["ticket"]["reference"] == ticket.reference
    assert [f["filename"] for f in root["attachments"]] == ["banner.png"]
    assert ChatAttachment.objects.get().storage_key == artwork.storage_key

    other = AttachmentFactory(message__ticket=TicketFactory())
    refused = api.post(
        f"/api/tickets/{ticket.reference}/discussions/",
        {"channel": "graphic-design", "body": "And this?", "forward_attachment_ids": [other.pk]},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["fields"] == {"forward_attachment_ids": [f"Unknown: {other.pk}."]}


def test_the_discussion_form_offers_the_ticket_files(client, agent, design, ticket, artwork):
    client.force_login(agent)
    panel = client.get(f"/tickets/{ticket.reference}/discussions/").content.decode()
    assert f'name="forward_attachment_ids" value="{artwork.pk}"' in panel
    response = client.post(
        f"/tickets/{ticket.reference}/discussions/start/",
        {"channel": "graphic-design", "body": "Look", "forward_attachment_ids": [str(artwork.pk)]},
    )
    assert response.status_code == 302
    assert ChatAttachment.objects.get().source_attachment == artwork


def test_a_discussion_with_files_needs_a_viewer_of_tickets(design, ticket, artwork):
    with pytest.raises(PermissionDenied):
        services.start_ticket_discussion(
            ticket=ticket,
            channel=design,
            author=UserFactory(role=Role.VIEWER),
            body="x",
            forward_attachment_ids=[artwork.pk],
        )


# Erasure ---------------------------------------------------------------------------------------


def test_erasing_the_customer_takes_the_shared_file_out_of_chat(
    agent, design, ticket, artwork, settings, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(live, "group_send", lambda group, event: None)
    pdf = AttachmentFactory(
        message__ticket=ticket,
        filename="proof.pdf",
        content_type="application/pdf",
        data=pdf_bytes(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = services.post_message(
            channel=design, author=agent, body="both", forward_attachment_ids=[artwork.pk, pdf.pk]
        )
    chat_preview = message.attachments.get(source_attachment=pdf).preview_key
    with django_capture_on_commit_callbacks(execute=True):
        request = erase_customer(customer=ticket.customer, actor=None)
    assert request.summary["shared_chat_files"] == 2
    assert not ChatAttachment.objects.exists()
    for key in (artwork.storage_key, artwork.preview_key, pdf.storage_key, chat_preview):
        assert not default_storage.exists(key)


def test_erasing_chat_shares_alone_keeps_the_ticket_files(
    agent, design, ticket, artwork, django_capture_on_commit_callbacks
):
    """The ticket file's bytes go only when no ticket file points at them any more."""
    services.post_message(
        channel=design, author=agent, body="", forward_attachment_ids=[artwork.pk]
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.erase_shared_ticket_files(ticket_ids=[ticket.pk]) == 1
    assert not ChatAttachment.objects.exists()
    assert default_storage.exists(artwork.storage_key)
    assert default_storage.exists(artwork.preview_key)
