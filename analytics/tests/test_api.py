"""The analytics API: same numbers as the page, permission checks, 400 for bad filters."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import UserFactory
from analytics.tests.test_views import RANGE

pytestmark = pytest.mark.django_db
ENDPOINTS = [
    "summary",
    "volume",
    "first-response",
    "resolution",
    "reopens",
    "csat",
    "csat-answers",
    "sla-breaches",
    "backlog",
    "agents",
    "heatmap",
]


def _api(role):
    client = APIClient()
    client.force_authenticate(UserFactory(role=role))
    return client


def test_summary_has_the_page_numbers(world):
    data = _api(Role.MANAGER).get(f"/api/analytics/summary/?{RANGE}").json()
    assert data["from"] == "2026-03-01" and data["to"] == "2026-03-10"
    assert data["tickets_created"] == 3
    assert data["first_response"]["median_seconds"] == 117000
    assert data["first_response"]["business_median_seconds"] == 2700
    assert data["resolution"]["count"] == 2
    assert data["reopens"] == {"solved": 2, "reopened": 1, "rate": 0.5}
    assert (data["csat"]["score"], data["csat"]["response_rate"]) == (1.0, 0.5)
    assert data["sla"] == {"due": 3, "breached": 2, "rate": 0.6667}
    assert data["backlog"] == 1


def test_summary_equals_the_page_context(world):
    from django.test import Client

    client = Client()
    user = UserFactory(role=Role.MANAGER)
    client.force_login(user)
    page = client.get(f"/analytics/?{RANGE}").context["summary"]
    api = APIClient()
    api.force_authenticate(user)
    data = api.get(f"/api/analytics/summary/?{RANGE}").json()
    for key in ("first_response", "resolution", "reopens", "csat", "sla"):
        assert data[key] == page[key]
    assert (data["tickets_created"], data["backlog"]) == (page["tickets_created"], page["backlog"])


def test_metric_endpoints(world):
    api = _api(Role.ADMIN)
    agents = api.get(f"/api/analytics/agents/?{RANGE}").json()
    assert {row["agent"]: row["median_frt_seconds"] for row in agents} == {
        "ana": 1800,
        "ben": 232200,
    }
    heatmap = api.get(f"/api/analytics/heatmap/?{RANGE}").json()
    assert heatmap["weekdays"][0] == "Mon" and heatmap["counts"][0][9] == 1
    breaches = api.get(f"/api/analytics/sla-breaches/?{RANGE}").json()
    assert [t["reference"] for t in breaches["tickets"]] == [
        world["c"].reference,
        world["b"].reference,
    ]
    answers = api.get(f"/api/analytics/csat-answers/?{RANGE}").json()
    assert [(a["reference"], a["rating"]) for a in answers] == [(world["a"].reference, 5)]
    volume = api.get(f"/api/analytics/volume/?{RANGE}&channel=sms").json()
    assert volume == [{"day": "2026-03-06", "channel": "sms", "count": 1}]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_endpoint_checks_permission(endpoint):
    assert _api(Role.MANAGER).get(f"/api/analytics/{endpoint}/").status_code == 200
    assert _api(Role.AGENT).get(f"/api/analytics/{endpoint}/").status_code == 403
    assert APIClient().get(f"/api/analytics/{endpoint}/").status_code in (401, 403)


@pytest.mark.parametrize("query", ["from=2026-13-01", "from=2026-03-10&to=2026-03-01", "team=a"])
def test_bad_dates_are_400(query):
    response = _api(Role.MANAGER).get(f"/api/analytics/summary/?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and response.json()["fields"]


def test_schema_documents_the_endpoints():
    response = _api(Role.ADMIN).get("/api/schema/?format=json")
    paths = response.json()["paths"]
    assert "/api/analytics/summary/" in paths
    params = {p["name"] for p in paths["/api/analytics/summary/"]["get"]["parameters"]}
    assert {"from", "to", "channel", "team"} <= params
