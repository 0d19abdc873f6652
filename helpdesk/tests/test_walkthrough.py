"""Defects found walking through the UI as an agent (issue 23): each test failed before its fix."""

import logging
import re
import warnings
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from automation.selectors import get_sla_panel
from comms.models import ChannelMessage
from comms.tests.factories import ChannelFactory, ChannelMemberFactory, ChannelMessageFactory
from helpdesk.demo_conversations import CONVERSATIONS
from helpdesk.logging import ClientErrorFilter
from helpdesk.management.commands.runserver_embedded import use_listening_address
from printshop.models import Proof
from tickets.models import Ticket, TicketMessage, TicketStatus

pytestmark = pytest.mark.django_db

# Pictographs and dingbats: without an emoji font they render as empty boxes.
EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")


def test_seeded_chat_messages_show_their_text(client):
    agent = UserFactory(role=Role.AGENT)
    channel = ChannelFactory(slug="general", name="General")
    ChannelMemberFactory(channel=channel, user=agent)
    ChannelMessageFactory(channel=channel, author=agent, body="Proof for **PD-1042** is out")
    client.force_login(agent)
    html = client.get("/chat/general/").content.decode()
    assert '<div class="chat-body"></div>' not in html
    assert '<strong><a href="/tickets/PD-1042/"' in html  # bold, and the reference links


@pytest.mark.parametrize(
    ("host", "public_url"),
    [("127.0.0.1", "http://127.0.0.1:8100"), ("0.0.0.0", "http://127.0.0.1:8100")],
)
def test_the_embedded_server_links_to_the_port_it_listens_on(
    settings, monkeypatch, host, public_url
):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("DJANGO_CSRF_TRUSTED_ORIGINS", raising=False)
    use_listening_address(host=host, port=8100)
    assert public_url == settings.PUBLIC_BASE_URL
    assert [public_url] == settings.CSRF_TRUSTED_ORIGINS
    connect_src = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"]
    assert connect_src[1] == public_url.replace("http://", "ws://")


def test_an_explicit_public_base_url_wins_over_the_port(settings, monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://help.example.com")
    settings.PUBLIC_BASE_URL = "https://help.example.com"
    use_listening_address(host="127.0.0.1", port=8100)
    assert settings.PUBLIC_BASE_URL == "https://help.example.com"


def test_the_403_page_has_the_layout_a_way_back_and_logs_no_traceback(client, caplog):
    client.force_login(UserFactory(role=Role.AGENT))
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/staff/")
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="topbar"' in html and 'href="/tickets/"' in html
    forbidden = [r for r in caplog.records if r.name == "django.request"]
    assert forbidden and all(r.exc_info is None for r in forbidden)


def test_server_errors_keep_their_traceback():
    record = logging.LogRecord("django.request", logging.ERROR, "", 0, "boom", (), None)
    record.status_code = 500
    record.exc_info = (ValueError, ValueError("boom"), None)
    assert ClientErrorFilter().filter(record) and record.exc_info is not None


def test_templates_draw_icons_as_svg_not_emoji():
    offenders = [
        str(path.relative_to(settings.BASE_DIR))
        for path in Path(settings.BASE_DIR, "templates").rglob("*.html")
        if EMOJI.search(path.read_text())
    ]
    assert offenders == []


def test_a_request_without_collected_static_files_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Client().get("/healthz").status_code == 200


def test_demo_data_reads_like_a_print_shop_and_links_the_orders_it_names(client):
    call_command("seed_demo", customers=24, tickets=30, stdout=StringIO())
    scripted = {turn.text.split("{")[0][:30] for c in CONVERSATIONS for turn in c.turns}
    bodies = TicketMessage.objects.values_list("body", flat=True)
    assert all(any(body.startswith(start) for start in scripted) for body in bodies)
    # Every order number a customer wrote is linked, as the inbound path would have done.
    proof_ticket = Ticket.objects.filter(subject__startswith="Proof for #").latest("created_at")
    number = proof_ticket.subject.split()[2].rstrip(":")
    assert list(proof_ticket.orders.values_list("number", flat=True)) == [number]
    client.force_login(UserFactory(role=Role.MANAGER))
    html = client.get("/tickets/", {"view": "all", "order": number}).content.decode()
    assert f'id="ticket-row-{proof_ticket.reference}"' in html
    assert Proof.objects.filter(ticket=proof_ticket, decision="changes_requested").exists()
    assert not ChannelMessage.objects.filter(body_html="").exists()
    open_past_due = Ticket.objects.filter(
        status__in=TicketStatus.OPEN_STATES, due_at__lt=timezone.now()
    ).count()
    assert open_past_due < Ticket.objects.filter(status__in=TicketStatus.OPEN_STATES).count() / 2


@pytest.mark.parametrize(
    ("seeded_at", "breaching"),
    [
        ("2026-12-09 14:00:00+00:00", 4),  # a Wednesday afternoon
        ("2026-12-07 09:40:00+00:00", 4),  # a Monday morning: Friday's tickets carry over
        ("2026-12-12 22:00:00+00:00", 0),  # a Saturday night: nothing runs out before Monday
    ],
    ids=["wednesday-afternoon", "monday-morning", "saturday-night"],
)
def test_demo_sla_states_are_plausible_whenever_the_demo_is_loaded(
    seeded_at, breaching, monkeypatch
):
    """Defect 11: the demo showed "136 of 141 open past SLA". Due times come from the SLA
    policies (office hours), so most open tickets are on time, a few breach within the hour
    and a couple are overdue, on a weekday afternoon as on a Monday morning."""
    monkeypatch.setattr(
        "helpdesk.management.commands.seed_demo.Command.load_catalog", lambda self: None
    )
    with time_machine.travel(seeded_at, tick=False):
        call_command("seed_demo", customers=24, tickets=24, stdout=StringIO())
        now = timezone.now()
        open_tickets = list(Ticket.objects.filter(status__in=TicketStatus.OPEN_STATES))
        for ticket in open_tickets:
            # The one clock: what the inbox shows is the SLA panel's soonest deadline.
            assert ticket.due_at == get_sla_panel(ticket=ticket).deadlines[0].due_at
        left = [(t.due_at - now).total_seconds() / 60 for t in open_tickets]
    assert sum(minutes <= 0 for minutes in left) == 2
    assert sum(0 < minutes <= 60 for minutes in left) == breaching
    assert sum(minutes > 60 for minutes in left) >= len(open_tickets) * 0.6
