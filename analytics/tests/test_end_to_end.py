"""Done means: solving a ticket sends a survey; answering it moves the CSAT tile."""

import pytest
from django.test import Client

from accounts.models import Role
from accounts.tests.factories import UserFactory
from analytics.models import ConversationLog, CustomerSatisfaction
from tickets.models import IdentityKind, TicketStatus
from tickets.services import change_status
from tickets.tests.factories import CustomerIdentityFactory, TicketFactory

pytestmark = pytest.mark.django_db


def test_solve_survey_answer_moves_csat(django_capture_on_commit_callbacks):
    manager = UserFactory(role=Role.MANAGER)
    ticket = TicketFactory(status=TicketStatus.OPEN)
    CustomerIdentityFactory(customer=ticket.customer, kind=IdentityKind.EMAIL, value="e@x.com")
    staff = Client()
    staff.force_login(manager)
    assert staff.get("/analytics/").context["summary"]["csat"]["score"] is None

    with django_capture_on_commit_callbacks(execute=True):
        change_status(ticket=ticket, actor=manager, status=TicketStatus.SOLVED)

    assert ConversationLog.objects.get(ticket=ticket).solved_at is not None
    survey = CustomerSatisfaction.objects.get(ticket=ticket)
    assert survey.token in ticket.messages.get(is_automated=True).body
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(f"/csat/{survey.token}/", {"rating": "5"})

    summary = staff.get("/analytics/").context["summary"]
    assert (summary["csat"]["answered"], summary["csat"]["score"]) == (1, 1.0)
