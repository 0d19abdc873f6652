"""CSAT in the storefront widget: a solved web chat's survey is a rating prompt on the CSAT
model's 1-5 scale, answered once through analytics' own service, by the visitor of that
conversation only; the emailed public page stays the offline visitor's way."""

import json

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from analytics.models import AnalyticsEvent, CustomerSatisfaction
from analytics.services import send_csat_survey_now
from integrations.tests.factories import WebChatInboxFactory
from integrations.webchat import services
from integrations.webchat.identity import new_visitor_token
from tickets.models import ChannelKind, DeliveryStatus, TicketMessage, TicketStatus
from tickets.services import change_status

pytestmark = pytest.mark.django_db

ORIGIN = "https://shop.example.com"


@pytest.fixture
def inbox():
    return WebChatInboxFactory()


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT, first_name="Ana")


def start_chat(inbox, client_id="c1", **visitor):
    visitor_id, token = new_visitor_token(inbox=inbox)
    message = services.post_visitor_message(
        visitor=services.Visitor(inbox=inbox, visitor_id=visitor_id, name="Jo", **visitor),
        body="Are my flyers printed?",
        client_message_id=client_id,
        context=services.PageContext(offline="contact_email" in visitor),
    )
    return token, message.ticket


def solve_and_survey(ticket, agent) -> CustomerSatisfaction:
    change_status(ticket=ticket, actor=agent, status=TicketStatus.SOLVED)
    return send_csat_survey_now(ticket_id=ticket.pk)


def widget(client, method, path, inbox, *, token, data=None):
    headers = {"HTTP_ORIGIN": ORIGIN, "HTTP_X_WIDGET_TOKEN": token}
    if data is None:
        return getattr(client, method)(f"/widget/{inbox.key}/{path}", **headers)
    return getattr(client, method)(
        f"/widget/{inbox.key}/{path}",
        data=json.dumps(data),
        content_type="application/json",
        **headers,
    )


def rate(client, inbox, token, survey, rating=5, comment=""):
    return widget(
        client,
        "post",
        f"surveys/{survey.pk}/answer/",
        inbox,
        token=token,
        data={"rating": rating, "comment": comment},
    )


def test_a_solved_web_chat_asks_for_its_rating_in_the_widget(client, inbox, agent):
    token, ticket = start_chat(inbox)
    assert widget(client, "get", "surveys/", inbox, token=token).json() == {"surveys": []}
    survey = solve_and_survey(ticket, agent)
    assert survey.channel == ChannelKind.WEB
    [card] = widget(client, "get", "surveys/", inbox, token=token).json()["surveys"]
    assert card["id"] == survey.pk and card["ticket"] == ticket.reference
    assert card["state"] == "open" and card["rating"] is None
    assert [option["value"] for option in card["scale"]] == [5, 4, 3, 2, 1]
    assert card["scale"][0]["label"] == "5: Very satisfied"
    assert "token" not in card


def test_the_rating_is_stored_through_the_csat_service_once(client, inbox, agent):
    token, ticket = start_chat(inbox)
    survey = solve_and_survey(ticket, agent)
    response = rate(client, inbox, token, survey, rating=4, comment="Quick, thanks")
    assert response.status_code == 200, response.content
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response.json()["survey"]["state"] == "answered"
    survey.refresh_from_db()
    assert (survey.rating, survey.comment) == (4, "Quick, thanks")
    event = AnalyticsEvent.objects.get(name="csat.answered")
    assert event.properties == {"rating": 4, "via": "web_chat"}
    again = rate(client, inbox, token, survey, rating=1)
    assert (again.status_code, again.json()["code"]) == (409, "csat_answered")
    survey.refresh_from_db()
    assert survey.rating == 4
    [card] = widget(client, "get", "surveys/", inbox, token=token).json()["surveys"]
    assert (card["state"], card["rating"]) == ("answered", 4)


@pytest.mark.parametrize("rating", [0, 6, "five", None])
def test_a_rating_outside_the_scale_is_refused(client, inbox, agent, rating):
    token, ticket = start_chat(inbox)
    survey = solve_and_survey(ticket, agent)
    response = rate(client, inbox, token, survey, rating=rating)
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_a_visitor_cannot_rate_another_ticket(client, inbox, agent):
    _, ticket = start_chat(inbox)
    survey = solve_and_survey(ticket, agent)
    stranger, _ = start_chat(inbox, client_id="c2")
    assert widget(client, "get", "surveys/", inbox, token=stranger).json() == {"surveys": []}
    response = rate(client, inbox, stranger, survey)
    assert (response.status_code, response.json()["code"]) == (404, "csat_not_found")
    assert rate(client, inbox, "forged", survey).status_code == 401
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_a_reopened_ticket_stops_asking(client, inbox, agent):
    token, ticket = start_chat(inbox)
    solve_and_survey(ticket, agent)
    change_status(ticket=ticket, actor=agent, status=TicketStatus.OPEN)
    assert widget(client, "get", "surveys/", inbox, token=token).json() == {"surveys": []}


def test_an_offline_visitor_also_gets_the_survey_page_by_email(
    client, inbox, agent, django_capture_on_commit_callbacks
):
    token, ticket = start_chat(inbox, contact_email="sam@example.com")
    # Solving schedules the survey after commit (the immediate task backend sends it now).
    with django_capture_on_commit_callbacks(execute=True):
        change_status(ticket=ticket, actor=agent, status=TicketStatus.SOLVED)
    survey = CustomerSatisfaction.objects.get(ticket=ticket)
    message = TicketMessage.objects.filter(ticket=ticket, body__contains="/csat/").get()
    assert survey.token in message.body
    assert message.channel == ChannelKind.WEB
    # The router sent the web message by email too (sandbox: no provider credentials).
    assert message.is_sandbox and message.delivery_status == DeliveryStatus.DELIVERED
    assert message.email_message_id
    assert rate(client, inbox, token, survey).status_code == 200
