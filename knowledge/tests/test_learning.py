"""Learning from use: an inserted suggestion is recorded and boosts similar future questions."""

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from knowledge import services
from knowledge.models import SuggestionUse
from knowledge.selectors import search_products
from knowledge.tests.factories import make_product
from tickets.tests.factories import TicketFactory, TicketMessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def banners():
    vinyl = make_product(
        title="Vinyl Banners",
        description_html="<p>Outdoor vinyl banner with grommets, for any railing or fence.</p>",
    )
    mesh = make_product(
        title="Mesh Banners", description_html="<p>Lets air through on gusty sites.</p>"
    )
    return {p.title: services.upsert_product(product=p) for p in (vinyl, mesh)}


@pytest.fixture
def agent_client(client):
    agent = UserFactory(role=Role.AGENT)
    client.force_login(agent)
    client.agent = agent
    return client


def _ask(text: str) -> list[str]:
    return [p.title for p in search_products(query=text, mode="lexical").products]


def test_inserting_a_suggestion_records_the_pair(agent_client, banners):
    ticket = TicketFactory()
    TicketMessageFactory(ticket=ticket, body="banner for the bridge railing keeps tearing")
    data = {"ticket": ticket.reference, "product": banners["Mesh Banners"].pk}
    response = agent_client.post("/knowledge/suggestions/used/", data)
    assert response.status_code == 204
    agent_client.post("/knowledge/suggestions/used/", data)  # a second insert is not a new pair
    use = SuggestionUse.objects.get()
    assert (use.ticket, use.product, use.user) == (
        ticket,
        banners["Mesh Banners"],
        agent_client.agent,
    )
    assert use.question == "banner for the bridge railing keeps tearing"


def test_a_recorded_pair_boosts_the_product_for_a_similar_question(agent_client, banners):
    question = "banner for the bridge railing keeps tearing"
    assert _ask("our banner on the bridge railing keeps tearing")[0] == "Vinyl Banners"
    ticket = TicketFactory()
    TicketMessageFactory(ticket=ticket, body=question)
    agent_client.post(
        "/knowledge/suggestions/used/",
        {"ticket": ticket.reference, "product": banners["Mesh Banners"].pk},
    )
    assert _ask("our banner on the bridge railing keeps tearing")[0] == "Mesh Banners"
    # An unrelated question is not affected.
    assert _ask("vinyl banner with grommets")[0] == "Vinyl Banners"


def test_a_boost_never_brings_back_an_archived_product(agent_client, banners):
    ticket = TicketFactory()
    TicketMessageFactory(ticket=ticket, body="banner for the bridge railing keeps tearing")
    agent_client.post(
        "/knowledge/suggestions/used/",
        {"ticket": ticket.reference, "product": banners["Mesh Banners"].pk},
    )
    services.upsert_product(
        product=make_product(
            title="Mesh Banners",
            shopify_id=banners["Mesh Banners"].shopify_id,
            description_html="<p>Lets air through on gusty sites.</p>",
            status="archived",
        )
    )
    assert _ask("our banner on the bridge railing keeps tearing") == ["Vinyl Banners"]


def test_recording_needs_a_real_product_and_a_reply_permission(client, agent_client, banners):
    ticket = TicketFactory()
    TicketMessageFactory(ticket=ticket, body="banners?")
    url = "/knowledge/suggestions/used/"
    assert agent_client.post(url, {"ticket": ticket.reference, "product": "x"}).status_code == 400
    assert agent_client.post(url, {"ticket": ticket.reference, "product": 0}).status_code == 404
    assert agent_client.post(url, {"ticket": "PD-999999", "product": 1}).status_code == 404
    client.force_login(UserFactory(role=Role.VIEWER))
    data = {"ticket": ticket.reference, "product": banners["Mesh Banners"].pk}
    assert client.post(url, data).status_code == 403
    assert not SuggestionUse.objects.exists()
