"""A handoff offered to a team channel (issue 23): the ticket page's "Hand off" form can target
a channel; its card carries "I'll take it" and the first agent to press it gets the ticket."""

import pytest
from django.test import Client

from accounts.models import Role
from accounts.tests.factories import UserFactory
from comms import live, services
from comms.models import Channel, ChannelKind, TicketDiscussion
from comms.tests.factories import ChannelFactory
from core.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from tickets import routing
from tickets.models import AgentHandoff, HandoffState, HistoryKind, TicketEvent, TicketStatus
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
def ticket(agent):
    return TicketFactory(subject="Banner reprint", status=TicketStatus.OPEN, assignee=agent)


@pytest.fixture
def sent(monkeypatch):
    frames = []
    monkeypatch.setattr(live, "group_send", lambda group, event: frames.append((group, event)))
    return frames


def offer(ticket, channel, author, reason="Out from 3 pm, customer waits on a proof"):
    return services.hand_off_to_channel(
        ticket=ticket, channel=channel, author=author, reason=reason
    )


def logged_in(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


# Service ----------------------------------------------------------------------------------------


def test_offering_posts_a_root_with_the_request_and_a_take_button(
    ticket, design, agent, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        discussion = offer(ticket, design, agent)
    handoff = discussion.handoff
    assert (handoff.is_open, handoff.to_agent, handoff.to_team, handoff.state) == (
        True,
        None,
        None,
        HandoffState.PENDING,
    )
    assert handoff.ticket == ticket and handoff.from_agent == agent
    root = discussion.root_message
    assert root.channel == design
    assert root.body == "Handoff requested by Ana Agent: Out from 3 pm, customer waits on a proof"
    card_handoff = {
        "id": handoff.pk,
        "state": "pending",
        "is_pending": True,
        "taken_by": None,
        "take_url": f"/chat/handoffs/{handoff.pk}/take/",
    }
    # The first frame, to the channel and the ticket's page, already offers it.
    assert [group for group, _ in sent] == ["channel.graphic-design", f"ticket.{ticket.reference}"]
    assert all(frame["message"]["ticket"]["handoff"] == card_handoff for _, frame in sent)


def test_the_first_taker_gets_the_ticket_and_the_card_follows_live(
    ticket, design, agent, colleague, sent, django_capture_on_commit_callbacks
):
    discussion = offer(ticket, design, agent)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.take_channel_handoff(handoff_id=discussion.handoff_id, actor=colleague)
    ticket.refresh_from_db()
    handoff = AgentHandoff.objects.get()
    assert ticket.assignee == colleague
    assert (handoff.state, handoff.responded_by) == (HandoffState.ACCEPTED, colleague)
    cards = [
        f["message"]["ticket"]
        for g, f in sent
        if g == "channel.graphic-design" and f["message"]["id"] == discussion.root_message_id
    ]
    assert cards, "the root is re-sent to the channel"
    assert cards[-1]["assignee"] == "Ben Agent"
    assert cards[-1]["handoff"]["is_pending"] is False
    assert cards[-1]["handoff"]["taken_by"] == "Ben Agent"


def test_a_second_taker_gets_409_already_taken(ticket, design, agent, colleague):
    discussion = offer(ticket, design, agent)
    services.take_channel_handoff(handoff_id=discussion.handoff_id, actor=colleague)
    late = UserFactory(role=Role.AGENT)
    with pytest.raises(Conflict) as refused:
        services.take_channel_handoff(handoff_id=discussion.handoff_id, actor=late)
    assert refused.value.status == 409 and refused.value.code == "handoff_taken"
    assert refused.value.message == "Already taken by Ben Agent."
    ticket.refresh_from_db()
    assert ticket.assignee == colleague


def test_a_user_who_cannot_take_tickets_is_refused(ticket, design, agent):
    discussion = offer(ticket, design, agent)
    with pytest.raises(PermissionDenied):
        services.take_channel_handoff(
            handoff_id=discussion.handoff_id, actor=UserFactory(role=Role.VIEWER)
        )
    assert AgentHandoff.objects.get().state == HandoffState.PENDING


def test_a_handoff_not_offered_in_chat_cannot_be_taken_there(ticket, agent, colleague):
    handoff = routing.request_handoff(
        ticket=ticket, actor=agent, reason="Need a colleague", to_agent=colleague
    )
    with pytest.raises(NotFound):
        services.take_channel_handoff(handoff_id=handoff.pk, actor=UserFactory(role=Role.AGENT))


@pytest.mark.parametrize(
    "channel_kind, is_archived",
    [(ChannelKind.PRIVATE, False), (ChannelKind.DIRECT, False), (ChannelKind.PUBLIC, True)],
)
def test_only_open_team_channels_take_a_handoff(ticket, agent, channel_kind, is_archived):
    channel = ChannelFactory(kind=channel_kind, is_archived=is_archived)
    channel.memberships.create(user=agent)
    with pytest.raises(ApplicationError) as refused:
        offer(ticket, channel, agent)
    assert refused.value.status == 400 and "channel" in refused.value.fields
    assert not AgentHandoff.objects.exists() and not TicketDiscussion.objects.exists()


def test_tickets_handoff_rules_apply_to_a_channel_handoff(ticket, design, agent, colleague):
    with pytest.raises(ApplicationError) as refused:
        offer(ticket, design, agent, reason="  ")
    assert "reason" in refused.value.fields
    # Only the assignee (or a Manager) hands a ticket off.
    with pytest.raises(PermissionDenied):
        offer(ticket, design, colleague)
    offer(ticket, design, agent)
    with pytest.raises(Conflict) as pending:
        offer(ticket, Channel.objects.get(slug="production"), agent)
    assert pending.value.code == "handoff_pending"
    assert TicketDiscussion.objects.count() == 1


def test_an_open_handoff_is_not_declined_by_others_but_withdrawn_by_who_asked(
    ticket, design, agent, colleague
):
    discussion = offer(ticket, design, agent)
    with pytest.raises(Conflict):
        routing.decline_handoff(handoff=discussion.handoff, actor=colleague)
    assert AgentHandoff.objects.get().state == HandoffState.PENDING
    page = logged_in(agent).get(f"/tickets/{ticket.reference}/").content.decode()
    assert ">Withdraw</button>" in page
    assert (
        ">Withdraw</button>"
        not in logged_in(colleague).get(f"/tickets/{ticket.reference}/").content.decode()
    )
    routing.decline_handoff(handoff=discussion.handoff, actor=agent, note="Withdrawn")
    assert AgentHandoff.objects.get().state == HandoffState.DECLINED
    # Nothing pending blocks the next handoff.
    offer(ticket, design, agent, reason="Still out: anyone?")
    assert AgentHandoff.objects.filter(state=HandoffState.PENDING).count() == 1


# Timeline ----------------------------------------------------------------------------------------


def test_the_timeline_shows_the_request_and_who_took_it(ticket, design, agent, colleague):
    discussion = offer(ticket, design, agent)
    services.take_channel_handoff(handoff_id=discussion.handoff_id, actor=colleague)
    assignee_event = TicketEvent.objects.get(ticket=ticket, kind=HistoryKind.ASSIGNEE)
    assert assignee_event.actor == colleague
    html = logged_in(agent).get(f"/tickets/{ticket.reference}/").content.decode()
    assert "anyone in a team channel" in html
    assert "Out from 3 pm, customer waits on a proof" in html
    assert "Taken by Ben Agent" in html


# Views -------------------------------------------------------------------------------------------


def test_the_ticket_page_hand_off_form_loads_the_channel_choice(ticket, agent):
    page = logged_in(agent)
    html = page.get(f"/tickets/{ticket.reference}/").content.decode()
    assert f'hx-get="/tickets/{ticket.reference}/handoff-to-channel/"' in html
    form = page.get(f"/tickets/{ticket.reference}/handoff-to-channel/", HTTP_HX_REQUEST="true")
    assert form.status_code == 200
    assert '<option value="graphic-design"' in form.content.decode()


def test_the_form_offers_the_ticket_and_goes_back_to_it(ticket, agent):
    answer = logged_in(agent).post(
        f"/tickets/{ticket.reference}/handoff-to-channel/",
        {"channel": "graphic-design", "reason": "Going home"},
    )
    assert answer.status_code == 302 and answer["Location"] == f"/tickets/{ticket.reference}/"
    assert TicketDiscussion.objects.get().handoff.reason == "Going home"


def test_the_form_shows_a_second_pending_handoff_as_409(ticket, design, agent):
    offer(ticket, design, agent)
    answer = logged_in(agent).post(
        f"/tickets/{ticket.reference}/handoff-to-channel/",
        {"channel": "graphic-design", "reason": "Again"},
    )
    assert answer.status_code == 409
    assert "already has a pending handoff" in answer.content.decode()


def test_a_viewer_gets_403_from_the_form(ticket):
    viewer = logged_in(UserFactory(role=Role.VIEWER))
    url = f"/tickets/{ticket.reference}/handoff-to-channel/"
    assert viewer.get(url).status_code == 403
    assert viewer.post(url, {"channel": "graphic-design", "reason": "x"}).status_code == 403


def test_an_unknown_ticket_is_404(agent):
    assert logged_in(agent).get("/tickets/PD-999999/handoff-to-channel/").status_code == 404


def test_the_chat_card_takes_it_then_answers_409(ticket, design, agent, colleague):
    discussion = offer(ticket, design, agent)
    take_url = f"/chat/handoffs/{discussion.handoff_id}/take/"
    channel_page = logged_in(colleague).get("/chat/graphic-design/").content.decode()
    assert f'action="{take_url}"' in channel_page and "I'll take it" in channel_page
    answer = logged_in(colleague).post(take_url)
    assert answer.status_code == 302 and answer["Location"] == f"/tickets/{ticket.reference}/"
    late = logged_in(UserFactory(role=Role.AGENT)).post(take_url)
    assert late.status_code == 409 and "Already taken by Ben Agent." in late.content.decode()
    assert "Taken by Ben Agent" in logged_in(agent).get("/chat/graphic-design/").content.decode()


def test_taking_needs_the_csrf_token_and_a_login(ticket, design, agent, colleague):
    discussion = offer(ticket, design, agent)
    take_url = f"/chat/handoffs/{discussion.handoff_id}/take/"
    assert logged_in(colleague, enforce_csrf_checks=True).post(take_url).status_code == 403
    assert Client().post(take_url).status_code == 302  # to the login page
    assert logged_in(UserFactory(role=Role.VIEWER)).post(take_url).status_code == 403
    assert logged_in(colleague).post("/chat/handoffs/999999/take/").status_code == 404
    assert AgentHandoff.objects.get().state == HandoffState.PENDING
