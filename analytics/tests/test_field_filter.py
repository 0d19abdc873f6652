"""Reports filtered by a ticket custom field (`field=key:value`, issue 23): page, API and CSV."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import UserFactory
from analytics.tests.test_views import RANGE
from tickets.models import CustomField, CustomFieldTarget, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def banners(world):
    CustomField.objects.create(
        key="job_type", label="Job type", kind="choice", choices=["banner", "flyer"]
    )
    CustomField.objects.create(
        key="account", label="Account", kind="text", applies_to=CustomFieldTarget.CUSTOMER
    )
    Ticket.objects.filter(pk__in=[world["a"].pk, world["c"].pk]).update(
        custom_fields={"job_type": "banner"}
    )
    Ticket.objects.filter(pk=world["b"].pk).update(custom_fields={"job_type": "flyer"})
    return world


def _api():
    client = APIClient()
    client.force_authenticate(UserFactory(role=Role.MANAGER))
    return client


def test_summary_counts_only_tickets_with_the_field_value(banners):
    everything = _api().get(f"/api/analytics/summary/?{RANGE}").json()
    only = _api().get(f"/api/analytics/summary/?{RANGE}&field=job_type:banner").json()
    assert (everything["tickets_created"], only["tickets_created"]) == (3, 2)
    assert only["backlog"] == 1  # c is open, a solved
    assert only["reopens"] == {"solved": 1, "reopened": 0, "rate": 0.0}  # b (a flyer) reopened
    assert only["csat"]["answered"] == 1
    flyers = _api().get(f"/api/analytics/summary/?{RANGE}&field=job_type:flyer").json()
    assert (flyers["tickets_created"], flyers["reopens"]["reopened"]) == (1, 1)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("nope:x", "Unknown ticket field"),
        ("account:retail", "Unknown ticket field"),  # a customer field
        ("job_type:poster", "One of: banner, flyer."),
        ("job_type:", "Give a value"),
    ],
)
def test_a_bad_field_filter_is_a_400_naming_the_problem(banners, spec, message):
    response = _api().get(f"/api/analytics/summary/?{RANGE}&field={spec}")
    assert response.status_code == 400
    assert message in response.json()["fields"]["field"][0]


def test_page_and_csv_take_the_field_filter(banners):
    client = Client()
    client.force_login(UserFactory(role=Role.MANAGER))
    page = client.get(f"/analytics/?{RANGE}&field=job_type:banner")
    assert page.context["summary"]["tickets_created"] == 2
    assert 'name="field" value="job_type:banner"' in page.content.decode()
    csv = client.get(f"/analytics/?{RANGE}&field=job_type:flyer&format=csv&table=volume")
    rows = csv.content.decode().strip().splitlines()
    assert sum(int(row.rsplit(",", 1)[1]) for row in rows[1:]) == 1
    refused = client.get(f"/analytics/?{RANGE}&field=job_type:poster")
    assert refused.status_code == 400 and "One of: banner, flyer." in refused.content.decode()
