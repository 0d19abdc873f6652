"""The inbound path under a burst: concurrent webhooks from many numbers (PostgreSQL only)."""

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import requests
from twilio.request_validator import RequestValidator

from integrations.models import WebhookEvent
from integrations.tests import channels
from tickets.models import Customer, CustomerIdentity, Ticket, TicketMessage

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NUMBERS = [f"+1555100{n:04d}" for n in range(20)]


def test_400_concurrent_messages_from_20_numbers(live_server, settings):
    settings.TWILIO_AUTH_TOKEN = channels.TWILIO_TOKEN
    settings.PUBLIC_BASE_URL = live_server.url
    url = f"{live_server.url}/api/webhooks/twilio"
    validator = RequestValidator(channels.TWILIO_TOKEN)
    bodies = []
    for n in range(400):
        params = channels.twilio_sms(sid=f"SM{n:032d}", sender=NUMBERS[n % 20], body=f"msg {n}")
        bodies.append((urlencode(params), validator.compute_signature(url, params)))

    def post(item):
        body, signature = item
        response = requests.post(
            url,
            data=body,
            headers={"Content-Type": channels.FORM, "X-Twilio-Signature": signature},
            timeout=30,
        )
        return response.status_code

    def burst():
        with ThreadPoolExecutor(max_workers=16) as pool:
            return list(pool.map(post, bodies))

    assert set(burst()) == {200}
    counts = (Ticket.objects.count(), TicketMessage.objects.count(), Customer.objects.count())
    assert counts == (20, 400, 20)
    assert CustomerIdentity.objects.count() == 20
    for ticket in Ticket.objects.all():
        assert ticket.messages.count() == 20

    assert set(burst()) == {200}  # providers retry: every replay is a no-op
    assert (Ticket.objects.count(), TicketMessage.objects.count(), Customer.objects.count()) == (
        20,
        400,
        20,
    )
    assert WebhookEvent.objects.count() == 400
