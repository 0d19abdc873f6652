"""/analytics/ page and CSV exports, and the public /csat/<token>/ survey."""

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import TeamFactory, UserFactory
from analytics.models import CustomerSatisfaction
from analytics.tests.factories import CustomerSatisfactionFactory
from comms.models import Notification
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db
RANGE = "from=2026-03-01&to=2026-03-10"


def _client_for(role):
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.ADMIN, 200), (Role.MANAGER, 200), (Role.AGENT, 403), (Role.VIEWER, 403)],
)
def test_dashboard_needs_view_reports(role, status):
    assert _client_for(role).get("/analytics/").status_code == status
    assert _client_for(role).get("/analytics/?format=csv&table=kpis").status_code == status


def test_dashboard_sends_anonymous_to_login():
    response = Client().get("/analytics/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_dashboard_shows_the_metrics(world):
    response = _client_for(Role.MANAGER).get(f"/analytics/?{RANGE}")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="analytics-charts"' in page and "chart-4.6.1.umd.min.js" in page
    assert "<script>" not in page.replace('<script id="analytics-charts"', "")
    charts = response.context["charts"]
    assert charts["csat"]["data"] == [0, 0, 0, 0, 1]
    assert [d["label"] for d in charts["volume"]["datasets"]] == ["Email", "SMS"]
    assert response.context["summary"]["tickets_created"] == 3


@pytest.mark.parametrize(
    "table", ["kpis", "volume", "agents", "backlog", "sla_breaches", "csat_answers", "heatmap"]
)
def test_csv_export_matches_the_page(world, table):
    client = _client_for(Role.MANAGER)
    page = client.get(f"/analytics/?{RANGE}")
    context_name = {"sla_breaches": "sla"}.get(table, table)
    shown = page.context[context_name]

    export = client.get(f"/analytics/?{RANGE}&format=csv&table={table}")
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0] == shown.header
    expected = [[_as_csv(cell) for cell in row] for row in shown.rows]
    assert rows[1:] == expected
    assert len(rows) > 1


def _as_csv(cell) -> str:
    if cell is None:
        return ""
    return cell.isoformat() if isinstance(cell, datetime) else str(cell)


def test_report_tables_show_times_readably_and_export_them_as_iso(world):
    client = _client_for(Role.MANAGER)
    html = client.get(f"/analytics/?{RANGE}").content.decode()
    assert not re.search(r"<td>\d{4}-\d\d-\d\dT\d\d:\d\d", html)


def test_csv_neutralises_formulas_in_customer_text(world):
    world["c"].subject = "=HYPERLINK(1)"
    world["c"].save()
    export = _client_for(Role.MANAGER).get(f"/analytics/?{RANGE}&format=csv&table=sla_breaches")
    assert "'=HYPERLINK(1)" in export.content.decode()


@pytest.mark.parametrize(
    "query", ["from=yesterday", "from=2026-03-10&to=2026-03-01", "channel=fax", "team=x"]
)
def test_bad_filters_are_a_400_page(query):
    response = _client_for(Role.MANAGER).get(f"/analytics/?{query}")
    assert response.status_code == 400
    assert response.context["error"].fields


def test_unknown_csv_table_is_a_400():
    response = _client_for(Role.MANAGER).get("/analytics/?format=csv&table=secrets")
    assert response.status_code == 400


# CSAT survey -----------------------------------------------------------------------------------


def test_survey_form_renders_without_login():
    survey = CustomerSatisfactionFactory()
    response = Client().get(f"/csat/{survey.token}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in page and 'type="radio"' in page
    assert 'name="viewport"' in page


def test_answer_is_recorded_once_and_shown_again():
    survey = CustomerSatisfactionFactory()
    client = Client(enforce_csrf_checks=True)
    client.get(f"/csat/{survey.token}/")
    token = client.cookies["csrftoken"].value
    url = f"/csat/{survey.token}/"
    response = client.post(url, {"rating": "4", "comment": "Quick!", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    survey.refresh_from_db()
    assert (survey.rating, survey.comment) == (4, "Quick!") and survey.answered_at

    again = client.post(url, {"rating": "1", "csrfmiddlewaretoken": token})
    assert again.status_code == 200 and "4 out of 5" in again.content.decode()
    survey.refresh_from_db()
    assert survey.rating == 4


def test_post_without_csrf_token_is_refused():
    survey = CustomerSatisfactionFactory()
    response = Client(enforce_csrf_checks=True).post(f"/csat/{survey.token}/", {"rating": "5"})
    assert response.status_code == 403
    assert CustomerSatisfaction.objects.get().rating is None


@pytest.mark.parametrize("rating", ["", "0", "6", "five"])
def test_bad_rating_is_a_form_error(rating):
    survey = CustomerSatisfactionFactory()
    response = Client().post(f"/csat/{survey.token}/", {"rating": rating})
    assert response.status_code == 400
    assert response.context["form"].errors["rating"]
    assert CustomerSatisfaction.objects.get().answered_at is None


def test_expired_survey_is_gone():
    survey = CustomerSatisfactionFactory(expires_at=timezone.now() - timedelta(minutes=1))
    assert Client().get(f"/csat/{survey.token}/").status_code == 410
    assert Client().post(f"/csat/{survey.token}/", {"rating": "5"}).status_code == 410
    assert CustomerSatisfaction.objects.get().rating is None


def test_unknown_token_is_404():
    assert Client().get("/csat/not-a-real-token/").status_code == 404


def test_low_score_notifies_the_team_managers():
    team = TeamFactory()
    agent = UserFactory(role=Role.AGENT)
    team.members.add(agent)
    team_manager = UserFactory(role=Role.MANAGER)
    team.members.add(team_manager)
    other_manager = UserFactory(role=Role.MANAGER)
    survey = CustomerSatisfactionFactory(ticket=TicketFactory(status="solved", assignee=agent))

    Client().post(f"/csat/{survey.token}/", {"rating": "2", "comment": "Slow"})

    notes = Notification.objects.filter(kind="csat")
    assert [n.recipient for n in notes] == [team_manager]
    assert survey.ticket.reference in notes[0].title and notes[0].body == "Slow"
    assert not Notification.objects.filter(recipient=other_manager).exists()


def test_low_score_without_team_notifies_every_manager():
    managers = {UserFactory(role=Role.MANAGER), UserFactory(role=Role.MANAGER)}
    survey = CustomerSatisfactionFactory()
    Client().post(f"/csat/{survey.token}/", {"rating": "1"})
    assert {n.recipient for n in Notification.objects.filter(kind="csat")} == managers


def test_good_score_notifies_nobody():
    UserFactory(role=Role.MANAGER)
    survey = CustomerSatisfactionFactory()
    Client().post(f"/csat/{survey.token}/", {"rating": "3"})
    assert not Notification.objects.exists()


def test_survey_is_rate_limited(time_machine):
    time_machine.move_to(timezone.now().replace(second=0), tick=False)
    survey = CustomerSatisfactionFactory()
    client = Client()
    statuses = [client.get(f"/csat/{survey.token}/").status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429


def test_page_query_count_does_not_depend_on_range(world):
    client = _client_for(Role.MANAGER)

    def queries(query: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/analytics/?{query}").status_code == 200
        return len(ctx.captured_queries)

    # The session's first request also does the once-a-minute account-security bookkeeping.
    queries("from=2026-03-02&to=2026-03-02")
    assert queries("from=2026-03-02&to=2026-03-02") == queries("from=2025-01-01&to=2026-12-31")
