"""Automation pages: the SLA countdown and rule-log panel on the ticket page (an htmx partial),
and the staff pages for rules, SLA policies, business calendars and outbound webhooks (Managers
and Admins, `automation.manage_automation`)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import Action, require
from automation import selectors, services
from automation.forms import (
    BusinessCalendarForm,
    HolidayFormSet,
    RuleForm,
    SlaPolicyForm,
    StaffWebhookEndpointForm,
    WorkingHoursFormSet,
)
from automation.models import BusinessCalendar, SlaPolicy, WebhookEndpoint
from automation.selectors import get_sla_panel
from automation.webhooks import send_test_event
from core.decorators import staff_page
from core.errors import ApplicationError, NotFound
from tickets.selectors import get_ticket_for_user

RECENT_RUNS = 50


@staff_page
@require_GET
def ticket_sla_panel(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = get_ticket_for_user(user=request.user, reference=reference)
    return render(
        request,
        "automation/_ticket_sla.html",
        {"ticket": ticket, "panel": get_sla_panel(ticket=ticket)},
    )


# Rules -----------------------------------------------------------------------------------------


@staff_page
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.MANAGE_AUTOMATION)
    return render(
        request,
        "automation/rule_list.html",
        {
            "rules": selectors.list_rules_with_run_stats(),
            "runs": selectors.list_recent_rule_runs(limit=RECENT_RUNS),
        },
    )


@staff_page
@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.MANAGE_AUTOMATION)
    form = RuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rule = services.save_rule(actor=request.user, rule=form.save(commit=False))
        messages.success(request, f"Created rule “{rule}”.")
        return redirect("automation:rule-edit", rule_id=rule.pk)
    return render(request, "automation/rule_form.html", {"form": form, "rule": None})


@staff_page
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    require(request.user, Action.MANAGE_AUTOMATION)
    rule = selectors.get_rule(rule_id=rule_id)
    form = RuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        services.save_rule(actor=request.user, rule=form.save(commit=False))
        messages.success(request, f"Saved rule “{rule}”.")
        return redirect("automation:rule-edit", rule_id=rule.pk)
    return render(
        request,
        "automation/rule_form.html",
        {
            "form": form,
            "rule": rule,
            "runs": selectors.list_recent_rule_runs(rule=rule, limit=RECENT_RUNS),
        },
    )


@staff_page
@require_POST
def rule_set_active(request: HttpRequest, rule_id: int, is_active: bool) -> HttpResponse:
    require(request.user, Action.MANAGE_AUTOMATION)
    rule = selectors.get_rule(rule_id=rule_id)
    services.set_rule_active(actor=request.user, rule=rule, is_active=is_active)
    messages.success(request, f"{'Activated' if is_active else 'Deactivated'} rule “{rule}”.")
    return redirect("automation:rule-list")


@staff_page
@require_POST
def rule_test(request: HttpRequest, rule_id: int) -> HttpResponse:
    """Dry run against a ticket (an htmx partial): which conditions hold, which actions would
    run. POST because a VIP condition may refresh the stored PERP context, as a run would."""
    require(request.user, Action.MANAGE_AUTOMATION)
    rule = selectors.get_rule(rule_id=rule_id)
    reference = request.POST.get("reference", "").strip().upper()
    context = {"rule": rule, "reference": reference, "result": None, "error": ""}
    try:
        ticket = get_ticket_for_user(user=request.user, reference=reference)
    except NotFound:
        context["error"] = f"No ticket “{reference}”." if reference else "Enter a ticket reference."
    else:
        context["ticket"] = ticket
        context["result"] = services.dry_run_rule(rule=rule, ticket=ticket)
    return render(request, "automation/_rule_test.html", context)


# SLA policies and business calendars -----------------------------------------------------------


@staff_page
@require_GET
def sla_overview(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.MANAGE_AUTOMATION)
    return render(
        request,
        "automation/sla_list.html",
        {"policies": selectors.list_sla_policies(), "calendars": selectors.list_calendars()},
    )


def _sla_policy_form(request: HttpRequest, policy: SlaPolicy | None) -> HttpResponse:
    form = SlaPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        saved = services.save_sla_policy(actor=request.user, policy=form.save(commit=False))
        messages.success(request, f"Saved SLA policy “{saved}”.")
        return redirect("automation:sla")
    return render(request, "automation/sla_policy_form.html", {"form": form, "policy": policy})


@staff_page
@require_http_methods(["GET", "POST"])
def sla_policy_create(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.MANAGE_AUTOMATION)
    return _sla_policy_form(request, None)


@staff_page
@require_http_methods(["GET", "POST"])
def sla_policy_edit(request: HttpRequest, policy_id: int) -> HttpResponse:
    require(request.user, Action.MANAGE_AUTOMATION)
    return _sla_policy_form(request, selectors.get_sla_policy(policy_id=policy_id))


def _calendar_form(request: HttpRequest, calendar: BusinessCalendar | None) -> HttpResponse:
    data = request.POST or None
    form = BusinessCalendarForm(data, instance=calendar)
    instance = calendar or BusinessCalendar()
    hours = WorkingHoursFormSet(data, instance=instance, prefix="hours")
    holidays = HolidayFormSet(data, instance=instance, prefix="holidays")
    if request.method == "POST" and all([form.is_valid(), hours.is_valid(), holidays.is_valid()]):
        saved = services.save_calendar(
            actor=request.user, calendar=form.save(commit=False), hours=hours, holidays=holidays
        )
        messages.success(request, f"Saved calendar “{saved}”.")
        return redirect("automation:calendar-edit", calendar_id=saved.pk)
    return render(
        request,
        "automation/calendar_form.html",
        {"form": form, "hours": hours, "holidays": holidays, "calendar": calendar},
    )


@staff_page
@require_http_methods(["GET", "POST"])
def calendar_create(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.MANAGE_AUTOMATION)
    return _calendar_form(request, None)


@staff_page
@require_http_methods(["GET", "POST"])
def calendar_edit(request: HttpRequest, calendar_id: int) -> HttpResponse:
    require(request.user, Action.MANAGE_AUTOMATION)
    return _calendar_form(request, selectors.get_calendar(calendar_id=calendar_id))


# Outbound webhooks -----------------------------------------------------------------------------


def mask_secret(secret: str) -> str:
    return f"••••••••{secret[-4:]}" if len(secret) > 8 else "••••••••"


@staff_page
@require_GET
def webhook_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.MANAGE_AUTOMATION)
    return render(
        request, "automation/webhook_list.html", {"endpoints": selectors.list_webhook_endpoints()}
    )


def _webhook_page(
    request: HttpRequest, endpoint: WebhookEndpoint, form: StaffWebhookEndpointForm, secret: str
) -> HttpResponse:
    return render(
        request,
        "automation/webhook_form.html",
        {
            "form": form,
            "endpoint": endpoint if endpoint.pk else None,
            "new_secret": secret,
            "masked_secret": mask_secret(endpoint.secret) if endpoint.pk else "",
            "deliveries": (
                selectors.list_recent_deliveries(endpoint=endpoint, limit=RECENT_RUNS)
                if endpoint.pk
                else []
            ),
        },
    )


@staff_page
@require_http_methods(["GET", "POST"])
def webhook_create(request: HttpRequest) -> HttpResponse:
    """On success the page shows the generated secret once (in this response, like API tokens)."""
    require(request.user, Action.MANAGE_AUTOMATION)
    form = StaffWebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        endpoint, secret = services.save_webhook_endpoint(
            actor=request.user, endpoint=form.save(commit=False)
        )
        messages.success(request, f"Created webhook endpoint “{endpoint}”.")
        return _webhook_page(request, endpoint, StaffWebhookEndpointForm(instance=endpoint), secret)
    return _webhook_page(request, WebhookEndpoint(), form, "")


@staff_page
@require_http_methods(["GET", "POST"])
def webhook_edit(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    require(request.user, Action.MANAGE_AUTOMATION)
    endpoint = selectors.get_webhook_endpoint(endpoint_id=endpoint_id)
    form = StaffWebhookEndpointForm(request.POST or None, instance=endpoint)
    if request.method == "POST" and form.is_valid():
        services.save_webhook_endpoint(actor=request.user, endpoint=form.save(commit=False))
        messages.success(request, f"Saved webhook endpoint “{endpoint}”.")
        return redirect("automation:webhook-edit", endpoint_id=endpoint.pk)
    return _webhook_page(request, endpoint, form, "")


@staff_page
@require_POST
def webhook_rotate_secret(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    require(request.user, Action.MANAGE_AUTOMATION)
    endpoint = selectors.get_webhook_endpoint(endpoint_id=endpoint_id)
    secret = services.rotate_webhook_secret(actor=request.user, endpoint=endpoint)
    messages.success(request, "New secret: update the receiver before the next delivery.")
    return _webhook_page(request, endpoint, StaffWebhookEndpointForm(instance=endpoint), secret)


@staff_page
@require_POST
def webhook_send_test(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    require(request.user, Action.MANAGE_AUTOMATION)
    endpoint = selectors.get_webhook_endpoint(endpoint_id=endpoint_id)
    try:
        delivery = send_test_event(actor=request.user, endpoint=endpoint)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Test event queued (delivery {delivery.pk}); its status shows below."
        )
    return redirect("automation:webhook-edit", endpoint_id=endpoint.pk)
