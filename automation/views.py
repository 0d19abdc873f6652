"""Automation pages: the SLA countdown and rule-log panel on the ticket page (an htmx partial)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from automation.selectors import get_sla_panel
from tickets.selectors import get_ticket_for_user
from tickets.views import staff_page


@staff_page
@require_GET
def ticket_sla_panel(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = get_ticket_for_user(user=request.user, reference=reference)
    return render(
        request,
        "automation/_ticket_sla.html",
        {"ticket": ticket, "panel": get_sla_panel(ticket=ticket)},
    )
