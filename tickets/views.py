"""Inbox, ticket and customer pages. Thin: parse, check permission, call a service, render.

Every action form posts normally (works without JS); htmx posts the same forms and swaps
`#ticket-page` out of the page it is redirected to, so common actions need no full reload.
"""

from collections.abc import Callable
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import Action, can, require
from core.decorators import staff_page
from core.errors import ApplicationError, NotFound, PermissionDenied
from tickets import (
    bulk,
    consent,
    custom_fields,
    macros,
    merges,
    routing,
    saved_replies,
    saved_views,
    scheduled,
    selectors,
    services,
    snooze,
    tags,
)
from tickets.models import ChannelKind, CustomFieldTarget, Ticket, TicketPriority, TicketStatus
from tickets.policy import list_send_decisions, pick_reply_channel
from tickets.rendering import timeline_context

INBOX_PAGE_SIZE = 50


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _files(request: HttpRequest) -> dict:
    """Uploaded files and ids of the ticket's files to forward, from a composer form."""
    ids = [_int_or_none(value) for value in request.POST.getlist("forward_attachment_ids")]
    return {
        "uploads": request.FILES.getlist("attachments"),
        "forward_attachment_ids": [pk for pk in ids if pk is not None],
    }


def _inbox_filters(request: HttpRequest) -> selectors.InboxFilters:
    return selectors.parse_inbox_filters(request.GET)


@staff_page
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    filters = _inbox_filters(request)
    try:
        page = selectors.list_inbox(
            user=request.user,
            filters=filters,
            cursor=request.GET.get("cursor") or None,
            limit=INBOX_PAGE_SIZE,
        )
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "page": page,
        "filters": filters,
        "views": selectors.INBOX_VIEW_LABELS.items(),
        "sorts": selectors.INBOX_SORT_LABELS.items(),
        "statuses": TicketStatus.choices,
        "priorities": TicketPriority.choices,
        "channels": ChannelKind.choices,
        "sla_filters": selectors.SLA_FILTER_LABELS.items(),
        "tags": selectors.list_tags(),
        "saved_views": selectors.list_saved_views(user=request.user),
        "current_saved_view": _int_or_none(request.GET.get("saved")),
        "filter_pairs": [
            (name, value) for name, value in vars(filters).items() if value not in ("", None)
        ],
        "staff": selectors.list_assignable_staff(),
        "teams": selectors.list_teams(),
        "base_query": query.urlencode(),
        "can_assign": can(request.user, Action.ASSIGN_TICKET),
        "can_update": can(request.user, Action.UPDATE_TICKET),
        "can_take": can(request.user, Action.TAKE_TICKET),
    }
    return render(request, _inbox_template(request), context)


def _inbox_template(request: HttpRequest) -> str:
    if request.GET.get("pane") == "list":
        # The ticket page's left pane: the same view, compact.
        return "tickets/_conversation_list.html"
    return "tickets/_inbox_results.html" if _is_htmx(request) else "tickets/inbox.html"


@staff_page
@require_POST
def inbox_bulk(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.UPDATE_TICKET):
        raise DjangoPermissionDenied
    back = request.POST.get("next", "")
    if not back.startswith("/tickets/"):
        back = reverse("tickets:inbox")
    try:
        if request.POST.get("action") == "assign":
            services.check_can_assign(
                actor=request.user, assignee_id=_int_or_none(request.POST.get("assignee"))
            )
        bulk.bulk_update_tickets(
            tickets=selectors.list_tickets_by_reference(references=request.POST.getlist("tickets")),
            actor=request.user,
            action=request.POST.get("action", ""),
            status=request.POST.get("status") or None,
            assignee=selectors.get_staff_by_id(
                user_id=request.POST.get("assignee"), field="assignee"
            ),
            team=selectors.get_team_by_id(team_id=request.POST.get("team")),
        )
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        return render(
            request, "tickets/bulk_error.html", {"error": exc, "back": back}, status=exc.status
        )
    return redirect(back)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _ticket_context(request: HttpRequest, ticket: Ticket) -> dict:
    user = request.user
    timeline = timeline_context(ticket=ticket)
    send_decisions = list_send_decisions(ticket=ticket)
    return {
        "ticket": ticket,
        **timeline,
        # The reply form sends it back: a reply by someone else since then is a 409 collision.
        "last_message_id": max(
            (e.item.pk for e in timeline["timeline"] if e.kind == "message"), default=""
        ),
        "statuses": TicketStatus.choices,
        "priorities": TicketPriority.choices,
        "channels": ChannelKind.choices,
        "default_channel": pick_reply_channel(
            decisions=send_decisions, preferred=services.default_reply_channel(ticket)
        ),
        "opt_outs": consent.list_channel_opt_outs(ticket=ticket),
        # What a reply on each channel gets now: the composer offers only what can be sent.
        "send_decisions": send_decisions,
        "allowed_statuses": sorted(services.STATUS_TRANSITIONS[ticket.status]),
        "staff": selectors.list_assignable_staff(),
        "managers": selectors.list_managers(),
        "teams": selectors.list_teams(),
        "saved_replies": selectors.list_saved_replies(),
        "custom_fields": selectors.field_values(
            selectors.list_custom_fields(), ticket.custom_fields
        ),
        "customer_fields": selectors.field_values(
            selectors.list_custom_fields(CustomFieldTarget.CUSTOMER), ticket.customer.custom_fields
        ),
        "can_edit_customer": can(user, Action.EDIT_CUSTOMERS),
        "macros": [reply for reply in selectors.list_saved_replies() if reply.has_actions],
        "pending_handoffs": [
            (handoff, selectors.can_answer_handoff(handoff=handoff, user=user))
            for handoff in selectors.list_pending_handoffs(ticket=ticket)
        ],
        "perm": _perms(user),
    }


def _perms(user) -> dict[str, bool]:
    return {
        "reply": can(user, Action.REPLY_TICKET),
        "note": can(user, Action.NOTE_TICKET),
        "update": can(user, Action.UPDATE_TICKET),
        "assign": can(user, Action.ASSIGN_TICKET),
        "take": can(user, Action.TAKE_TICKET),
        "escalate": can(user, Action.ESCALATE_TICKET),
        "handoff": can(user, Action.HANDOFF_TICKET),
        "merge": can(user, Action.MERGE),
        # "Share to #channel" on a file (comms' page; the permissions are accounts').
        "share": can(user, Action.POST_CHAT) and can(user, Action.VIEW_CHAT),
    }


def _render_ticket(
    request: HttpRequest, ticket: Ticket, *, error: ApplicationError | None = None, draft=""
) -> HttpResponse:
    context = _ticket_context(request, ticket)
    context["error"] = error
    context["draft"] = draft
    # htmx only swaps 2xx answers; a plain form post gets the real status.
    status = 200 if error is None or _is_htmx(request) else error.status
    return render(request, "tickets/detail.html", context, status=status)


@staff_page
@require_GET
def ticket_detail(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.get_ticket_for_user(user=request.user, reference=reference)
    services.mark_ticket_viewed(ticket=ticket, user=request.user)
    draft = ""
    saved_reply_id = _int_or_none(request.GET.get("saved_reply"))
    if saved_reply_id:
        draft = saved_replies.render_saved_reply(
            saved_reply=selectors.get_saved_reply(saved_reply_id=saved_reply_id), ticket=ticket
        )
    return _render_ticket(request, ticket, draft=draft)


@staff_page
@require_GET
def ticket_timeline(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.get_ticket_for_user(user=request.user, reference=reference)
    services.mark_ticket_viewed(ticket=ticket, user=request.user)
    context = {"ticket": ticket, "perm": _perms(request.user), **timeline_context(ticket=ticket)}
    return render(request, "tickets/_timeline.html", context)


@staff_page
@require_GET
def ticket_row(request: HttpRequest, reference: str) -> HttpResponse:
    # The live inbox asks for a changed ticket with its view's filters (`in_view=1`): nothing
    # (204) when the ticket does not belong there.
    if request.GET.get("in_view") and not selectors.is_in_inbox_view(
        user=request.user, filters=_inbox_filters(request), reference=reference
    ):
        return HttpResponse(status=204)
    return _render_row(request, reference)


def _render_row(
    request: HttpRequest, reference: str, *, error: ApplicationError | None = None
) -> HttpResponse:
    ticket = selectors.get_inbox_row(user=request.user, reference=reference)
    context = {"ticket": ticket, "can_take": can(request.user, Action.TAKE_TICKET), "error": error}
    template = (
        "tickets/_conversation_item.html"
        if request.GET.get("pane") == "list"
        else "tickets/_inbox_row.html"
    )
    return render(request, template, context)


@staff_page
@require_GET
def saved_reply_render(request: HttpRequest, reference: str, saved_reply_id: int) -> HttpResponse:
    ticket = selectors.get_ticket_for_user(user=request.user, reference=reference)
    if not can(request.user, Action.REPLY_TICKET):
        raise DjangoPermissionDenied
    reply = selectors.get_saved_reply(saved_reply_id=saved_reply_id)
    text = saved_replies.render_saved_reply(saved_reply=reply, ticket=ticket)
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


def _ticket_action(
    request: HttpRequest, reference: str, perform: Callable[[Ticket], object]
) -> HttpResponse:
    """Run one service for a posted form; on success show the updated ticket (302).

    An htmx post from an inbox row (`return=row`) gets that row back instead, so the inbox
    updates in place.
    """
    ticket = selectors.get_ticket_for_user(user=request.user, reference=reference)
    wants_row = _is_htmx(request) and request.POST.get("return") == "row"
    try:
        perform(ticket)
    except (PermissionDenied, NotFound):
        raise
    except ApplicationError as exc:
        if wants_row:
            return _render_row(request, reference, error=exc)
        ticket = selectors.get_ticket_for_user(user=request.user, reference=reference)
        return _render_ticket(request, ticket, error=exc, draft=request.POST.get("body", ""))
    if wants_row:
        return _render_row(request, reference)
    return redirect(reverse("tickets:detail", args=[ticket.reference]), permanent=False)


def _send_later_at(request: HttpRequest) -> datetime | None:
    """The composer's "Send later": a quick choice, or the picked time (`send_at`, a
    `datetime-local` read in the shop's time zone); None sends now."""
    choice = request.POST.get("send_later", "")
    if not choice:
        return None
    if choice == "custom":
        picked = _local_time(request.POST.get("send_at", ""), field="send_at")
        return scheduled.check_send_at(picked)
    return scheduled.quick_send_time(choice)


def _schedule_reply(request: HttpRequest, ticket: Ticket, send_at: datetime) -> object:
    if _files(request)["uploads"] or _files(request)["forward_attachment_ids"]:
        raise ApplicationError(
            "Files cannot be scheduled: send the reply now, or schedule it without files.",
            code="invalid",
            fields={"send_at": ["Not with files."]},
        )
    return scheduled.schedule_reply(
        ticket=ticket,
        author=request.user,
        body=request.POST.get("body", ""),
        send_at=send_at,
        channel=request.POST.get("channel") or None,
        set_status=request.POST.get("set_status") or None,
        last_seen_message_id=None
        if request.POST.get("confirm_send")
        else _int_or_none(request.POST.get("last_seen_message_id")),
    )


@staff_page
@require_POST
def ticket_reply(request: HttpRequest, reference: str) -> HttpResponse:
    def perform(ticket: Ticket) -> object:
        send_at = _send_later_at(request)
        if send_at is not None:
            return _schedule_reply(request, ticket, send_at)
        return services.reply_to_ticket(
            ticket=ticket,
            author=request.user,
            body=request.POST.get("body", ""),
            channel=request.POST.get("channel") or None,
            set_status=request.POST.get("set_status") or None,
            last_seen_message_id=None
            if request.POST.get("confirm_send")
            else _int_or_none(request.POST.get("last_seen_message_id")),
            **_files(request),
        )

    return _ticket_action(request, reference, perform)


@staff_page
@require_POST
def scheduled_reply_edit(request: HttpRequest, reference: str, scheduled_reply_id: int):
    return _ticket_action(
        request,
        reference,
        lambda ticket: scheduled.edit_scheduled_reply(
            ticket=ticket,
            scheduled_reply_id=scheduled_reply_id,
            actor=request.user,
            body=request.POST.get("body"),
            send_at=_local_time(request.POST.get("send_at", ""), field="send_at"),
        ),
    )


@staff_page
@require_POST
def scheduled_reply_cancel(request: HttpRequest, reference: str, scheduled_reply_id: int):
    return _ticket_action(
        request,
        reference,
        lambda ticket: scheduled.cancel_scheduled_reply(
            ticket=ticket, scheduled_reply_id=scheduled_reply_id, actor=request.user
        ),
    )


@staff_page
@require_POST
def scheduled_reply_send_now(request: HttpRequest, reference: str, scheduled_reply_id: int):
    return _ticket_action(
        request,
        reference,
        lambda ticket: scheduled.send_scheduled_reply_now(
            ticket=ticket, scheduled_reply_id=scheduled_reply_id, actor=request.user
        ),
    )


@staff_page
@require_POST
def ticket_note(request: HttpRequest, reference: str) -> HttpResponse:
    return _ticket_action(
        request,
        reference,
        lambda ticket: services.add_internal_note(
            ticket=ticket, author=request.user, body=request.POST.get("body", ""), **_files(request)
        ),
    )


@staff_page
@require_POST
def ticket_status(request: HttpRequest, reference: str) -> HttpResponse:
    return _ticket_action(
        request,
        reference,
        lambda ticket: services.change_status(
            ticket=ticket, actor=request.user, status=request.POST.get("status", "")
        ),
    )


@staff_page
@require_POST
def ticket_priority(request: HttpRequest, reference: str) -> HttpResponse:
    return _ticket_action(
        request,
        reference,
        lambda ticket: services.change_priority(
            ticket=ticket, actor=request.user, priority=request.POST.get("priority", "")
        ),
    )


@staff_page
@require_POST
def ticket_macro(request: HttpRequest, reference: str) -> HttpResponse:
    saved_reply = selectors.get_saved_reply(
        saved_reply_id=_int_or_none(request.POST.get("saved_reply")) or 0
    )
    return _ticket_action(
        request,
        reference,
        lambda ticket: macros.apply_macro(
            ticket=ticket,
            actor=request.user,
            saved_reply=saved_reply,
            last_seen_message_id=_int_or_none(request.POST.get("last_seen_message_id")),
        ),
    )


@staff_page
@require_POST
def ticket_fields(request: HttpRequest, reference: str) -> HttpResponse:
    return _ticket_action(
        request,
        reference,
        lambda ticket: custom_fields.set_ticket_fields(
            ticket=ticket,
            actor=request.user,
            values={request.POST.get("key", ""): request.POST.get("value", "")},
        ),
    )


@staff_page
@require_POST
def ticket_tags(request: HttpRequest, reference: str) -> HttpResponse:
    return _ticket_action(
        request,
        reference,
        lambda ticket: tags.set_ticket_tags(
            ticket=ticket,
            actor=request.user,
            tags=tags.parse_tag_text(request.POST.get("tags", "")),
        ),
    )


def _local_time(value: str, *, field: str) -> datetime | None:
    """A `datetime-local` value, read in the shop's time zone; a garbled one is a 400."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ApplicationError(
            "That is not a time.", code="invalid", fields={field: ["Not a time."]}
        ) from exc
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@staff_page
@require_POST
def ticket_snooze(request: HttpRequest, reference: str) -> HttpResponse:
    return _ticket_action(
        request,
        reference,
        lambda ticket: snooze.snooze_ticket(
            ticket=ticket,
            actor=request.user,
            until=_local_time(request.POST.get("until", ""), field="until"),
            until_reply=bool(request.POST.get("until_reply")),
        ),
    )


@staff_page
@require_POST
def ticket_unsnooze(request: HttpRequest, reference: str) -> HttpResponse:
    return _ticket_action(
        request,
        reference,
        lambda ticket: snooze.unsnooze_ticket(ticket=ticket, actor=request.user),
    )


@staff_page
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    filters = selectors.parse_inbox_filters(request.POST)
    try:
        view = saved_views.create_saved_view(
            actor=request.user,
            name=request.POST.get("name", ""),
            filters=filters,
            is_shared=bool(request.POST.get("is_shared")),
        )
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("tickets:inbox"))
    return redirect(f"{reverse('tickets:inbox')}?{selectors.saved_view_query(view)}")


@staff_page
@require_GET
def saved_view_counts(request: HttpRequest) -> JsonResponse:
    """The rail's counts, refreshed live (static/js/inbox.js) when tickets change."""
    views = selectors.list_saved_views(user=request.user)
    return JsonResponse(
        {"views": [{"id": v.pk, "count": v.count, "label": v.count_label} for v in views]}
    )


@staff_page
@require_POST
def saved_view_delete(request: HttpRequest, saved_view_id: int) -> HttpResponse:
    saved_views.delete_saved_view(actor=request.user, saved_view_id=saved_view_id)
    return redirect(reverse("tickets:inbox"))


@staff_page
@require_POST
def ticket_assign(request: HttpRequest, reference: str) -> HttpResponse:
    def perform(ticket: Ticket) -> object:
        if request.POST.get("take"):
            assignee, team = request.user, ticket.team
        else:
            services.check_can_assign(
                actor=request.user, assignee_id=_int_or_none(request.POST.get("assignee"))
            )
            assignee = selectors.get_staff_by_id(
                user_id=request.POST.get("assignee"), field="assignee"
            )
            team = selectors.get_team_by_id(team_id=request.POST.get("team"))
        return services.assign_ticket(
            ticket=ticket,
            actor=request.user,
            assignee=assignee,
            team=team,
            reason=request.POST.get("reason", ""),
        )

    return _ticket_action(request, reference, perform)


@staff_page
@require_POST
def ticket_escalate(request: HttpRequest, reference: str) -> HttpResponse:
    def perform(ticket: Ticket) -> object:
        require(request.user, Action.ESCALATE_TICKET)  # before the target ids are looked up
        return routing.escalate_ticket(
            ticket=ticket,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            to_user=selectors.get_staff_by_id(user_id=request.POST.get("to_user"), field="to_user"),
            to_team=selectors.get_team_by_id(team_id=request.POST.get("to_team"), field="to_team"),
            priority=request.POST.get("priority") or None,
        )

    return _ticket_action(request, reference, perform)


@staff_page
@require_POST
def ticket_handoff(request: HttpRequest, reference: str) -> HttpResponse:
    def perform(ticket: Ticket) -> object:
        require(request.user, Action.HANDOFF_TICKET)  # before the target ids are looked up
        return routing.request_handoff(
            ticket=ticket,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            to_agent=selectors.get_staff_by_id(
                user_id=request.POST.get("to_agent"), field="to_agent"
            ),
            to_team=selectors.get_team_by_id(team_id=request.POST.get("to_team"), field="to_team"),
            context_summary=request.POST.get("context_summary", ""),
        )

    return _ticket_action(request, reference, perform)


@staff_page
@require_POST
def handoff_answer(request: HttpRequest, reference: str, handoff_id: int, answer: str):
    def perform(ticket: Ticket) -> object:
        require(request.user, Action.HANDOFF_TICKET)
        handoff = selectors.get_handoff(ticket=ticket, handoff_id=handoff_id)
        if answer == "accept":
            return routing.accept_handoff(handoff=handoff, actor=request.user)
        return routing.decline_handoff(
            handoff=handoff, actor=request.user, note=request.POST.get("note", "")
        )

    return _ticket_action(request, reference, perform)


@staff_page
@require_POST
def ticket_merge(request: HttpRequest, reference: str) -> HttpResponse:
    require(request.user, Action.MERGE)  # permission before existence (docs/permissions.md)
    ticket = selectors.get_ticket_for_user(user=request.user, reference=reference)
    into = request.POST.get("into", "").strip().upper()
    try:
        target = selectors.get_ticket_for_user(user=request.user, reference=into)
        target = merges.merge_tickets(source=ticket, target=target, actor=request.user)
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        if isinstance(exc, NotFound):
            exc = ApplicationError(exc.message, code=exc.code, fields={"into": [exc.message]})
        return _render_ticket(request, ticket, error=exc)
    return redirect(reverse("tickets:detail", args=[target.reference]))


@staff_page
@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.CREATE_TICKET):
        raise DjangoPermissionDenied
    error = None
    if request.method == "POST":
        try:
            ticket = bulk.create_ticket(
                actor=request.user,
                channel=request.POST.get("channel", ""),
                subject=request.POST.get("subject", ""),
                identity_value=request.POST.get("identity_value", ""),
                customer_name=request.POST.get("customer_name", ""),
                priority=request.POST.get("priority", "normal"),
                body=request.POST.get("body", ""),
            )
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            error = exc
        else:
            return redirect(reverse("tickets:detail", args=[ticket.reference]))
    context = {
        "error": error,
        "form": request.POST,
        "channels": ChannelKind.choices,
        "priorities": TicketPriority.choices,
    }
    return render(request, "tickets/new.html", context, status=error.status if error else 200)


# Customers -------------------------------------------------------------------------------------


@staff_page
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:200]
    field = request.GET.get("field", "")[:250]
    customers = selectors.search_customers(user=request.user, q=q, field=field)
    context = {
        "customers": customers,
        "q": q,
        "field": field,
        "customer_fields": selectors.list_custom_fields(CustomFieldTarget.CUSTOMER),
    }
    return render(request, "customers/list.html", context)


@staff_page
@require_GET
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = selectors.get_customer_for_user(user=request.user, customer_id=customer_id)
    if customer.merged_into_id is not None:
        return redirect("tickets:customer", customer_id=customer.merged_into_id)
    return render(request, "customers/detail.html", _customer_context(request, customer))


def _customer_context(request: HttpRequest, customer, *, error=None) -> dict:
    return {
        "customer": customer,
        "tickets": selectors.list_customer_tickets(customer=customer),
        "can_merge": can(request.user, Action.MERGE),
        "customer_fields": selectors.field_values(
            selectors.list_custom_fields(CustomFieldTarget.CUSTOMER), customer.custom_fields
        ),
        "can_edit_customer": can(request.user, Action.EDIT_CUSTOMERS),
        "error": error,
    }


@staff_page
@require_POST
def customer_fields(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Save one customer field from the customer page, or from a ticket's customer card
    (`ticket`: back to that ticket's page, where an error shows like any ticket action's)."""
    customer = selectors.get_customer_for_user(user=request.user, customer_id=customer_id)
    reference = request.POST.get("ticket", "")
    # Looked up before saving: only a ticket the user may see is a place to return to.
    ticket = (
        selectors.get_ticket_for_user(user=request.user, reference=reference) if reference else None
    )
    try:
        custom_fields.set_customer_fields(
            customer=customer,
            actor=request.user,
            values={request.POST.get("key", ""): request.POST.get("value", "")},
        )
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        if ticket is not None:
            return _render_ticket(request, ticket, error=exc)
        context = _customer_context(request, customer, error=exc)
        return render(request, "customers/detail.html", context, status=exc.status)
    if ticket is not None:
        return redirect(reverse("tickets:detail", args=[ticket.reference]), permanent=False)
    return redirect("tickets:customer", customer_id=customer.pk)


@staff_page
@require_POST
def customer_merge(request: HttpRequest, customer_id: int) -> HttpResponse:
    require(request.user, Action.MERGE)  # permission before existence (docs/permissions.md)
    target = selectors.get_customer_for_user(user=request.user, customer_id=customer_id)
    try:
        source = selectors.get_customer_for_user(
            user=request.user, customer_id=_int_or_none(request.POST.get("source")) or 0
        )
        merges.merge_customers(source=source, target=target, actor=request.user)
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        context = _customer_context(request, target, error=exc)
        return render(request, "customers/detail.html", context, status=exc.status)
    return redirect("tickets:customer", customer_id=target.pk)


# Saved replies ---------------------------------------------------------------------------------


def _macro_actions(request: HttpRequest) -> saved_replies.MacroActions:
    return saved_replies.MacroActions(
        set_status=request.POST.get("set_status", ""),
        set_priority=request.POST.get("set_priority", ""),
        add_tags=tags.parse_tag_text(request.POST.get("add_tags", "")),
        set_fields={
            name.removeprefix(saved_replies.SET_FIELD_PREFIX): value
            for name, value in request.POST.items()
            if name.startswith(saved_replies.SET_FIELD_PREFIX)
        },
        set_assignee=selectors.get_staff_by_id(
            user_id=request.POST.get("set_assignee"), field="set_assignee"
        ),
    )


def _saved_reply_page(request: HttpRequest, *, error=None, editing=None, status=200):
    if not can(request.user, Action.REPLY_TICKET):
        raise DjangoPermissionDenied
    context = {
        "saved_replies": selectors.list_saved_replies(),
        "can_manage": can(request.user, Action.MANAGE_SAVED_REPLIES),
        "placeholders": saved_replies.PLACEHOLDERS,
        "statuses": TicketStatus.choices,
        "priorities": TicketPriority.choices,
        "staff": selectors.list_assignable_staff(),
        "macro_fields": selectors.field_values(
            selectors.list_custom_fields(), editing.set_fields if editing else None
        ),
        "error": error,
        "editing": editing,
        "form": request.POST,
    }
    return render(request, "tickets/saved_replies.html", context, status=status)


@staff_page
@require_http_methods(["GET", "POST"])
def saved_reply_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _saved_reply_page(request)
    try:
        saved_replies.create_saved_reply(
            actor=request.user,
            title=request.POST.get("title", ""),
            body=request.POST.get("body", ""),
            actions=_macro_actions(request),
        )
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        return _saved_reply_page(request, error=exc, status=exc.status)
    return redirect("tickets:saved_replies")


@staff_page
@require_http_methods(["GET", "POST"])
def saved_reply_edit(request: HttpRequest, saved_reply_id: int) -> HttpResponse:
    reply = selectors.get_saved_reply(saved_reply_id=saved_reply_id)
    if request.method == "GET":
        return _saved_reply_page(request, editing=reply)
    try:
        if request.POST.get("delete"):
            saved_replies.delete_saved_reply(saved_reply=reply, actor=request.user)
        else:
            saved_replies.update_saved_reply(
                saved_reply=reply,
                actor=request.user,
                title=request.POST.get("title", ""),
                body=request.POST.get("body", ""),
                actions=_macro_actions(request),
            )
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        return _saved_reply_page(request, error=exc, editing=reply, status=exc.status)
    return redirect("tickets:saved_replies")
