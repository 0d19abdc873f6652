"""Demo data gives the dashboard something to draw."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from analytics.models import ConversationLog, CustomerSatisfaction
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_seed_demo_fills_the_dashboard():
    call_command("seed_demo", customers=6, tickets=60, stdout=io.StringIO())
    solved = Ticket.objects.filter(status__in=["solved", "closed"]).count()
    assert ConversationLog.objects.filter(solved_at__isnull=False).count() == solved > 0
    assert CustomerSatisfaction.objects.filter(rating__isnull=False).exists()

    client = Client()
    client.login(username="manager", password="printdesk-demo")
    since = timezone.localdate() - timedelta(days=60)
    response = client.get(f"/analytics/?from={since}")
    assert response.context["source"].is_rollup  # seed_demo rebuilt the rollups
    charts = response.context["charts"]
    assert charts["volume"]["datasets"] and sum(charts["backlog"]["data"]) > 0
    assert sum(charts["csat"]["data"]) > 0
    assert response.context["summary"]["first_response"]["median_seconds"] > 0
