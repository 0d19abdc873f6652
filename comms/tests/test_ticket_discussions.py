"""Ticket-bound staff threads (issue 23): "Discuss in #channel" from a ticket, the live ticket
card on the thread's root, the ticket page's "Team discussion" panel and its API."""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import UserFactory
from comms import live, services, subscribers
from comms.markup import render_markup
from comms.models import Channel, ChannelKind, TicketDiscussion
from comms.selectors import list_ticket_discussions
from comms.tests.factories import ChannelFactory
from core.errors import ApplicationError, PermissionDenied
from core.events import capture_events
from printshop.models import OrderSource, TicketOrder
from tickets import events as ticket_events
from tickets import services as ticket_services
from tickets.models import TicketStatus
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT, username="ana", display_name="Ana Agent")


@pytest.fixture
def colleague():
    return UserFactory(role=Role.AGENT, username="ben", display_name="Ben Agent")


@pytest.fixture
def design():
    return Channel.objects.get(slug="graphic-design")


@pytest.fixture
def ticket():
    ticket = TicketFactory(subject="Artwork at 72 dpi", status=TicketStatus.OPEN)
    TicketOrder.objects.create(ticket=ticket, number="JOB-4411", source=OrderSource.PERP)
    return ticket


@pytest.fixture
def sent(monkeypatch):
    frames = []
    monkeypatch.setattr(live, "group_send", lambda group, event: frames.append((group, event)))
    return frames


def start(ticket, channel, author, body="Is this file good enough for A2?"):
    return services.start_ticket_discussion(
        ticket=ticket, channel=channel, author=author, body=body
    )


# Service ----------------------------------------------------------------------------------------


def test_starting_a_discussion_posts_a_root_with_the_ticket_card(
    ticket, design, agent, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        discussion = start(ticket, design, agent)
    root = discussion.root_message
    assert (root.channel, root.author, root.body) == (
        design,
        agent,
        "Is this file good enough for A2?",
    )
    assert discussion.ticket == ticket and discussion.started_by == agent
    card = live.serialize_message(root)["ticket"]
    assert card == {
        "reference": ticket.reference,
        "url": f"/tickets/{ticket.reference}/",
        "subject": "Artwork at 72 dpi",
        "customer": str(ticket.customer),
        "status": "open",
        "status_label": "Open",
        "priority": ticket.priority,
        "priority_label": ticket.get_priority_display(),
        "assignee": None,
        "orders": [{"number": "JOB-4411", "source": "perp"}],
        "handoff": None,
    }
    # Its first frame already carries the card, to the channel and to the ticket's page.
    assert [group for group, _ in sent] == ["channel.graphic-design", f"ticket.{ticket.reference}"]
    assert all(frame["message"]["ticket"] == card for _, frame in sent)


def test_a_reply_in_the_thread_reaches_the_ticket_page(
    ticket, design, agent, colleague, sent, django_capture_on_commit_callbacks
):
    discussion = start(ticket, design, agent)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.post_message(
            channel=design,
            author=colleague,
            body="72 dpi at A2 is blurry",
            thread_root_id=discussion.root_message_id,
        )
    groups = [(group, frame["message"]["id"]) for group, frame in sent]
    assert ("channel.graphic-design", reply.pk) in groups
    assert (f"ticket.{ticket.reference}", reply.pk) in groups
    ticket_frame = next(
        f for g, f in sent if g.startswith("ticket.") and f["message"]["id"] == reply.pk
    )
    assert ticket_frame["type"] == "message" and ticket_frame["channel"] == "graphic-design"
    assert ticket_frame["message"]["thread_root"] == discussion.root_message_id


def test_an_ordinary_thread_reply_stays_in_the_channel(
    design, agent, sent, django_capture_on_commit_callbacks
):
    root = services.post_message(channel=design, author=agent, body="lunch?")
    with django_capture_on_commit_callbacks(execute=True):
        services.post_message(channel=design, author=agent, body="yes", thread_root_id=root.pk)
    assert {group for group, _ in sent} == {"channel.graphic-design"}


@pytest.mark.parametrize(
    "channel_kind, is_archived",
    [(ChannelKind.PRIVATE, False), (ChannelKind.DIRECT, False), (ChannelKind.PUBLIC, True)],
)
def test_only_open_team_channels_take_a_discussion(ticket, agent, channel_kind, is_archived):
    channel = ChannelFactory(kind=channel_kind, is_archived=is_archived)
    channel.memberships.create(user=agent)
    with pytest.raises(ApplicationError) as refused:
        start(ticket, channel, agent)
    assert refused.value.status == 400 and "channel" in refused.value.fields
    assert not TicketDiscussion.objects.exists()


def test_an_empty_first_message_is_refused(ticket, design, agent):
    with pytest.raises(ApplicationError) as refused:
        start(ticket, design, agent, body="   ")
    assert "body" in refused.value.fields


def test_a_viewer_cannot_start_a_discussion(ticket, design):
    with pytest.raises(PermissionDenied):
        start(ticket, design, UserFactory(role=Role.VIEWER))


def test_a_status_or_assignee_change_resends_the_card(
    ticket, design, agent, colleague, sent, django_capture_on_commit_callbacks
):
    discussion = start(ticket, design, agent)
    manager = UserFactory(role=Role.MANAGER)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.change_status(ticket=ticket, actor=manager, status=TicketStatus.PENDING)
    cards = [f["message"]["ticket"] for g, f in sent if g == "channel.graphic-design"]
    assert [(c["status"], c["status_label"]) for c in cards] == [("pending", "Pending")]
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.assign_ticket(ticket=ticket, actor=manager, assignee=colleague, team=None)
    cards = [f["message"]["ticket"] for g, f in sent if g == "channel.graphic-design"]
    assert [c["assignee"] for c in cards] == ["Ben Agent"]
    assert sent[0][1]["message"]["id"] == discussion.root_message_id


def test_the_card_subscriber_resends_every_discussion_root(
    ticket, design, agent, sent, django_capture_on_commit_callbacks
):
    first, second = (
        start(ticket, design, agent),
        start(ticket, Channel.objects.get(slug="production"), agent),
    )
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        subscribers.refresh_discussion_cards(
            ticket_events.TicketStatusChanged(
                ticket_id=ticket.pk, actor_id=None, previous="open", status="pending"
            )
        )
    roots = {(g, f["message"]["id"]) for g, f in sent if g.startswith("channel.")}
    assert roots == {
        ("channel.graphic-design", first.root_message_id),
        ("channel.production", second.root_message_id),
    }


def test_starting_a_discussion_is_on_the_analytics_trail(ticket, design, agent):
    with capture_events() as published:
        discussion = start(ticket, design, agent)
    names = [getattr(e, "name", None) for e in published]
    assert "chat.ticket_discussion_started" in names
    event = next(e for e in published if getattr(e, "name", "") == "chat.ticket_discussion_started")
    assert event.subject_id == discussion.pk and event.properties["ticket_id"] == ticket.pk


def test_the_panel_lists_several_discussions_with_their_latest_replies(
    ticket, design, agent, colleague
):
    first = start(ticket, design, agent)
    second = start(ticket, Channel.objects.get(slug="production"), agent, body="Press slot?")
    for n in range(3):
        services.post_message(
            channel=design, author=colleague, body=f"r{n}", thread_root_id=first.root_message_id
        )
    views = list_ticket_discussions(ticket=ticket, user=agent, reply_limit=2)
    assert [v.discussion for v in views] == [first, second]
    assert [r.body for r in views[0].replies] == ["r1", "r2"]
    assert (views[0].reply_count, views[0].earlier_reply_count) == (3, 1)
    assert views[1].replies == [] and views[1].channel.slug == "production"


def test_the_panel_hides_discussions_from_staff_without_chat(ticket, design, agent):
    start(ticket, design, agent)
    no_chat = UserFactory(role=Role.VIEWER)
    no_chat.groups.clear()
    assert list_ticket_discussions(ticket=ticket, user=no_chat) == []


# Markup -----------------------------------------------------------------------------------------


def test_ticket_and_perp_references_in_chat_link_to_their_tickets():
    html = render_markup("PD-1042 is job 4411 (also JOB-4412, PD-ORD-10042) not #1001")
    assert '<a href="/tickets/PD-1042/"' in html
    job = '<a href="/tickets/?view=all&amp;order=JOB-4411" rel="noopener noreferrer nofollow">'
    assert f"{job}job 4411</a>" in html
    assert 'order=JOB-4412"' in html and 'order=PD-ORD-10042"' in html
    assert "#1001</a>" not in html


def test_references_inside_urls_and_code_are_not_linked_twice():
    html = render_markup("see https://x.test/PD-1042/job-4411 and `PD-1043`")
    assert html.count("<a ") == 1 and "/tickets/PD-1042/" not in html
    assert "<code>PD-1043</code>" in html


# Pages and API ----------------------------------------------------------------------------------


@pytest.fixture
def page(agent):
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def api(agent):
    client = APIClient()
    client.force_authenticate(agent)
    return client


def test_the_ticket_page_panel_starts_a_discussion_and_shows_it(page, ticket):
    url = f"/tickets/{ticket.reference}/discussions/"
    answer = page.post(
        f"{url}start/",
        {"channel": "graphic-design", "body": "Low DPI: can we upscale?"},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200
    html = answer.content.decode()
    root = TicketDiscussion.objects.get().root_message
    assert 'id="team-discussion"' in html and "Low DPI: can we upscale?" in html
    assert f"/chat/graphic-design/?thread={root.pk}#thread-pane" in html
    assert f'data-thread-roots="{root.pk}"' in html


def test_a_plain_form_post_goes_back_to_the_ticket(page, ticket):
    answer = page.post(
        f"/tickets/{ticket.reference}/discussions/start/",
        {"channel": "graphic-design", "body": "Low DPI"},
    )
    assert answer.status_code == 302
    assert answer["Location"] == f"/tickets/{ticket.reference}/#team-discussion"


def test_the_panel_form_shows_a_refused_channel(page, ticket):
    ChannelFactory(slug="secret", kind=ChannelKind.PRIVATE)
    answer = page.post(
        f"/tickets/{ticket.reference}/discussions/start/", {"channel": "secret", "body": "x"}
    )
    assert answer.status_code == 400
    assert "Pick a public team channel" in answer.content.decode()


def test_a_viewer_gets_403_from_the_panel_form(ticket):
    client = Client()
    client.force_login(UserFactory(role=Role.VIEWER))
    answer = client.post(
        f"/tickets/{ticket.reference}/discussions/start/",
        {"channel": "graphic-design", "body": "x"},
    )
    assert answer.status_code == 403


def test_a_job_number_link_in_chat_finds_its_tickets(page, ticket, design, agent):
    other = TicketFactory(subject="Unrelated")
    message = services.post_message(channel=design, author=agent, body="is job 4411 printed?")
    href = re.search(r'href="([^"]+)"', message.body_html).group(1).replace("&amp;", "&")
    html = page.get(href).content.decode()
    assert f'id="ticket-row-{ticket.reference}"' in html
    assert f'id="ticket-row-{other.reference}"' not in html


def test_the_chat_page_shows_the_card_on_the_root(page, ticket, design, agent):
    start(ticket, design, agent)
    html = page.get("/chat/graphic-design/").content.decode()
    assert f'data-ticket-card="{ticket.reference}"' in html
    assert "JOB-4411" in html


def _discuss_with_replies(ticket, channel_slug, *, author, replier, replies=3):
    discussion = start(ticket, Channel.objects.get(slug=channel_slug), author)
    for n in range(replies):
        services.post_message(
            channel=discussion.root_message.channel,
            author=replier,
            body=f"reply {n} about job 4411",
            thread_root_id=discussion.root_message_id,
        )


def test_the_panel_renders_in_a_fixed_number_of_queries(
    page, ticket, agent, colleague, django_assert_max_num_queries
):
    """Three discussions with replies cost what one does (no query per discussion or reply)."""
    url = f"/tickets/{ticket.reference}/discussions/"
    _discuss_with_replies(ticket, "graphic-design", author=agent, replier=colleague)
    page.get(url, HTTP_HX_REQUEST="true")  # the session's first request writes its rows
    with CaptureQueriesContext(connection) as one_discussion:
        page.get(url, HTTP_HX_REQUEST="true")
    # Session, user, 2FA and permission checks are the rest; the panel itself reads the ticket
    # and its tags, the discussions, their files, order links, replies, their files, channels.
    assert len(one_discussion) <= 16
    _discuss_with_replies(ticket, "production", author=agent, replier=colleague)
    _discuss_with_replies(ticket, "sales", author=colleague, replier=agent)
    with django_assert_max_num_queries(len(one_discussion)):
        answer = page.get(url, HTTP_HX_REQUEST="true")
    assert answer.content.decode().count('class="discussion"') == 3


def test_api_creates_and_lists_discussions(api, ticket, colleague):
    created = api.post(
        f"/api/tickets/{ticket.reference}/discussions/",
        {"channel": "graphic-design", "body": "Can we fix the bleed?"},
        format="json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body["channel"] == "graphic-design" and body["ticket"] == ticket.reference
    assert body["root"]["ticket"]["reference"] == ticket.reference
    assert body["root"]["ticket"]["orders"] == [{"number": "JOB-4411", "source": "perp"}]
    services.post_message(
        channel=Channel.objects.get(slug="graphic-design"),
        author=colleague,
        body="Yes, 3 mm added",
        thread_root_id=body["root"]["id"],
    )
    listed = api.get(f"/api/tickets/{ticket.reference}/discussions/").json()
    assert [d["id"] for d in listed] == [body["id"]]
    assert listed[0]["reply_count"] == 1
    assert [r["body"] for r in listed[0]["replies"]] == ["Yes, 3 mm added"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"channel": "graphic-design"}, "body"),
        ({"body": "hi"}, "channel"),
        ({"channel": "no-such-channel", "body": "hi"}, "channel"),
        ({"channel": "general", "body": "   "}, "body"),
    ],
)
def test_api_400_names_the_field(api, ticket, payload, field):
    answer = api.post(f"/api/tickets/{ticket.reference}/discussions/", payload, format="json")
    assert answer.status_code == 400
    assert field in answer.json()["fields"]


def test_api_404_for_an_unknown_ticket(api):
    answer = api.post(
        "/api/tickets/PD-999999/discussions/", {"channel": "general", "body": "x"}, format="json"
    )
    assert answer.status_code == 404
    assert api.get("/api/tickets/PD-999999/discussions/").status_code == 404


def test_api_403_for_a_viewer_posting(ticket):
    client = APIClient()
    client.force_authenticate(UserFactory(role=Role.VIEWER))
    answer = client.post(
        f"/api/tickets/{ticket.reference}/discussions/",
        {"channel": "graphic-design", "body": "x"},
        format="json",
    )
    assert answer.status_code == 403
    assert client.get(f"/api/tickets/{ticket.reference}/discussions/").status_code == 200


def test_api_403_without_ticket_access(ticket):
    client = APIClient()
    client.force_authenticate(UserFactory(role=None))
    assert client.get(f"/api/tickets/{ticket.reference}/discussions/").status_code == 403


def test_the_schema_documents_the_discussion_endpoints(client):
    client.force_login(UserFactory(role=Role.ADMIN))
    schema = client.get("/api/schema/?format=json").json()
    operations = schema["paths"]["/api/tickets/{reference}/discussions/"]
    assert {"200", "403", "404"} <= set(operations["get"]["responses"])
    assert {"201", "400", "403", "404"} <= set(operations["post"]["responses"])
    assert operations["post"]["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    message = schema["components"]["schemas"]["ChatMessageOutput"]["properties"]
    assert "ticket" in message


def test_the_panel_form_is_empty_after_a_discussion_starts(page, ticket):
    """A filled form marks the agent busy in it and stops its live refresh (discussions.js)."""
    answer = page.post(
        f"/tickets/{ticket.reference}/discussions/start/",
        {"channel": "graphic-design", "body": "Bleed check please"},
        HTTP_HX_REQUEST="true",
    )
    html = answer.content.decode()
    assert '<textarea id="discussion-body" name="body" rows="3" maxlength="4000" required' in html
    assert re.search(r'required placeholder="[^"]*"></textarea>', html)


def test_the_demo_data_has_discussions_of_real_demo_tickets():
    call_command("seed_demo", customers=5, tickets=12)
    discussion = TicketDiscussion.objects.get(root_message__channel__slug="graphic-design")
    assert discussion.ticket.subject == "Artwork at 72 dpi: will it print OK?"
    replies = list_ticket_discussions(ticket=discussion.ticket, user=discussion.started_by)[0]
    assert [r.author.username for r in replies.replies] == ["admin", "ana"]
    assert "72 dpi" in discussion.root_message.body
    call_command("seed_demo", customers=5, tickets=12)
    assert TicketDiscussion.objects.count() == 2
