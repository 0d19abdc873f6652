import pytest
from django.urls import reverse

from tickets import services
from tickets.models import (
    DeliveryStatus,
    InternalNote,
    SavedReply,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from tickets.saved_replies import create_saved_reply
from tickets.tests.factories import (
    AttachmentFactory,
    OutboundMessageFactory,
    TicketFactory,
    TicketMessageFactory,
)

pytestmark = pytest.mark.django_db


def test_inbox_lists_open_tickets_with_dom_contract(client, agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    TicketFactory(status=TicketStatus.CLOSED, subject="gone away")
    client.force_login(agent)
    response = client.get("/tickets/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="inbox" class="list inbox" data-live-inbox' in html
    assert f'id="ticket-row-{ticket.reference}" data-ticket="{ticket.reference}"' in html
    assert "gone away" not in html


def test_ticket_page_renders_timeline_and_slots(client, agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    TicketMessageFactory(ticket=ticket, body="Where is my banner?")
    OutboundMessageFactory(
        ticket=ticket,
        body="Let me check",
        delivery_status=DeliveryStatus.FAILED,
        error_code="21610",
        error_message="Unsubscribed recipient",
    )
    InternalNote.objects.create(ticket=ticket, author=agent, body="VIP, be quick")
    client.force_login(agent)
    html = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert f'id="ticket-page" data-ticket="{ticket.reference}"' in html
    assert 'id="ticket-timeline"' in html
    assert f'data-typing-ticket="{ticket.reference}"' in html
    assert (
        f'id="customer-context" hx-get="/customers/{ticket.customer_id}/context/'
        f'?ticket={ticket.reference}" hx-trigger="load"'
    ) in html
    assert f'hx-get="/knowledge/suggestions/?ticket={ticket.reference}"' in html
    assert "Unsubscribed recipient" in html
    message = TicketMessage.objects.get(delivery_status=DeliveryStatus.FAILED)
    assert f"/tickets/{ticket.reference}/messages/{message.pk}/retry/" in html
    assert 'class="entry note"' in html


def test_hostile_html_is_sanitized_on_the_ticket_page(client, agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    message = TicketMessageFactory(
        ticket=ticket,
        body="plain",
        body_html=(
            '<p onclick="steal()">Hello <b>there</b></p><script>alert(1)</script>'
            '<a href="javascript:alert(2)">click</a><img src="https://evil.test/pixel.gif">'
            '<iframe src="https://evil.test"></iframe><style>body{display:none}</style>'
        ),
    )
    AttachmentFactory(message=message, filename="<script>alert(3)</script>.pdf")
    client.force_login(agent)
    html = client.get(f"/tickets/{ticket.reference}/timeline/").content.decode()
    assert "<b>there</b>" in html
    for bad in ("<script", "onclick", "javascript:", "<img", "<iframe", "<style", "evil.test"):
        assert bad not in html


def test_reply_form_posts_and_redirects(client, agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    client.force_login(agent)
    response = client.post(
        f"/tickets/{ticket.reference}/reply/",
        {"body": "On its way", "channel": "email", "set_status": "pending"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.PENDING
    assert ticket.messages.get().body == "On its way"


def test_illegal_status_from_a_form_shows_the_error_with_409(client, agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    client.force_login(agent)
    response = client.post(f"/tickets/{ticket.reference}/status/", {"status": "closed"})
    assert response.status_code == 409
    assert "cannot become closed" in response.content.decode()


def test_htmx_action_answers_200_with_the_error_inside_the_page(client, agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    client.force_login(agent)
    response = client.post(
        f"/tickets/{ticket.reference}/notes/", {"body": "  "}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_viewer_cannot_post_a_note(client, viewer):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    client.force_login(viewer)
    response = client.post(f"/tickets/{ticket.reference}/notes/", {"body": "hi"})
    assert response.status_code == 403
    assert not InternalNote.objects.exists()


def test_saved_reply_is_rendered_for_insertion(client, agent, manager):
    ticket = TicketFactory(status=TicketStatus.OPEN, subject="Where is order #10452?")
    ticket.customer.name = "Jane Doe"
    ticket.customer.save()
    reply = create_saved_reply(
        actor=manager,
        title="Order status",
        body="Hi {{customer_first_name}}, {{ order_number }} is in production "
        "({{ticket_reference}})",
    )
    client.force_login(agent)
    response = client.get(f"/tickets/{ticket.reference}/saved-replies/{reply.pk}/")
    assert response.content.decode() == (f"Hi Jane, #10452 is in production ({ticket.reference})")
    # Without JS the picker reloads the page with the text in the composer.
    html = client.get(f"/tickets/{ticket.reference}/", {"saved_reply": reply.pk}).content.decode()
    assert "Hi Jane, #10452 is in production" in html


def test_unread_marker_clears_after_viewing(client, agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    services.record_inbound_message(ticket=ticket, channel="email", sender="a@b.co", body="hi")
    client.force_login(agent)
    row = client.get(f"/tickets/{ticket.reference}/row/").content.decode()
    assert "unread" in row
    client.get(f"/tickets/{ticket.reference}/")
    row = client.get(f"/tickets/{ticket.reference}/row/").content.decode()
    assert 'class="unread' not in row and "Unread" not in row


def test_customer_page_and_search(client, agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    customer = services.find_or_create_customer(kind="email", value="findme@example.com")
    client.force_login(agent)
    html = client.get(reverse("tickets:customers"), {"q": "findme"}).content.decode()
    assert f"/customers/{customer.pk}/" in html
    html = client.get(f"/customers/{ticket.customer_id}/").content.decode()
    assert ticket.reference in html
    assert f'hx-get="/customers/{ticket.customer_id}/context/"' in html


def test_staff_open_a_ticket_from_the_new_ticket_page(client, agent):
    client.force_login(agent)
    assert client.get("/tickets/new/").status_code == 200
    response = client.post(
        "/tickets/new/",
        {
            "channel": "sms",
            "identity_value": "+44 7700 900456",
            "customer_name": "Pat",
            "subject": "Call-back request",
            "priority": "high",
        },
    )
    ticket = Ticket.objects.get(subject="Call-back request")
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.reference}/"
    assert ticket.customer.identities.get().value == "+447700900456"
    bad = client.post("/tickets/new/", {"channel": "sms", "identity_value": "123", "subject": "x"})
    assert bad.status_code == 400
    assert "identity_value" in bad.content.decode()


def test_merge_ticket_from_the_page(client, manager):
    target = TicketFactory(status=TicketStatus.OPEN)
    source = TicketFactory(status=TicketStatus.OPEN)
    client.force_login(manager)
    response = client.post(f"/tickets/{source.reference}/merge/", {"into": target.reference})
    assert response["Location"] == f"/tickets/{target.reference}/"
    source.refresh_from_db()
    assert source.merged_into == target
    # A mistyped reference is a form error on this page, not a 404 for the page itself.
    unknown = client.post(f"/tickets/{target.reference}/merge/", {"into": "PD-0"})
    assert unknown.status_code == 400
    assert "No ticket PD-0" in unknown.content.decode()


def test_take_from_an_inbox_row_returns_the_updated_row(client, agent):
    ticket = TicketFactory(status=TicketStatus.NEW)
    client.force_login(agent)
    inbox = client.get("/tickets/").content.decode()
    assert 'name="return" value="row"' in inbox
    response = client.post(
        f"/tickets/{ticket.reference}/assign/",
        {"take": "1", "return": "row"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith(f'<tr id="ticket-row-{ticket.reference}"')
    assert str(agent) in html
    ticket.refresh_from_db()
    assert ticket.assignee == agent and ticket.status == TicketStatus.OPEN


def test_saved_replies_page_manage_and_read_only(client, agent, manager):
    client.force_login(manager)
    response = client.post("/saved-replies/", {"title": "Thanks", "body": "Thanks {{nope}}"})
    assert response.status_code == 400
    assert "Unknown placeholder" in response.content.decode()
    client.post("/saved-replies/", {"title": "Thanks", "body": "Thanks {{customer_first_name}}"})
    reply = SavedReply.objects.get()
    client.post(f"/saved-replies/{reply.pk}/", {"title": "Thank you", "body": reply.body})
    reply.refresh_from_db()
    assert reply.title == "Thank you"
    client.force_login(agent)
    html = client.get("/saved-replies/").content.decode()
    assert "Thank you" in html and "New saved reply" not in html
    assert client.post(f"/saved-replies/{reply.pk}/", {"delete": "1"}).status_code == 403
    client.force_login(manager)
    client.post(f"/saved-replies/{reply.pk}/", {"delete": "1"})
    assert not SavedReply.objects.exists()
