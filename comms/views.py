"""Team chat and notification pages. Forms post normally; chat.js and realtime.js enhance them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.permissions import Action, can
from comms import selectors, services
from comms.models import Channel, ChannelKind
from core.decorators import staff_page
from core.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from tickets.models import Attachment, Ticket
from tickets.selectors import get_attachment_for_user, get_ticket_for_user, list_ticket_files


def _require(request: HttpRequest, action: Action) -> None:
    if not can(request.user, action):
        raise DjangoPermissionDenied


def _channel(request: HttpRequest, slug: str) -> Channel:
    try:
        return selectors.get_channel_for_user(user=request.user, slug=slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _staff_member(user_id: str | int | None) -> User:
    user = (
        User.objects.filter(pk=user_id, is_active=True).first() if str(user_id).isdigit() else None
    )
    if user is None:
        raise Http404("No such staff member.")
    return user


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


@login_required
@require_GET
def chat_home(request: HttpRequest) -> HttpResponse:
    _require(request, Action.VIEW_CHAT)
    channels = list(selectors.list_channels_for_user(user=request.user))
    first = next((c for c in channels if c.slug == "general"), channels[0] if channels else None)
    if first is not None:
        return redirect("comms:channel", slug=first.slug)
    return render(request, "chat/channel.html", {"channels": channels, "channel": None})


@login_required
@require_GET
def channel_page(request: HttpRequest, slug: str) -> HttpResponse:
    channel = _channel(request, slug)
    query = request.GET.get("q", "").strip()
    thread_root = None
    if request.GET.get("thread", "").isdigit():
        try:
            thread_root = selectors.get_channel_message(
                channel=channel, message_id=int(request.GET["thread"])
            )
        except NotFound as exc:
            raise Http404(exc.message) from exc
    services.mark_channel_read(channel=channel, user=request.user)
    context = {
        "channel": channel,
        "channels": selectors.list_channels_for_user(user=request.user),
        "chat_messages": selectors.list_channel_messages(channel=channel),
        "query": query,
        "results": selectors.search_channel_messages(channel=channel, query=query)
        if query
        else None,
        "thread_root": thread_root,
        "thread_replies": selectors.list_thread_replies(root=thread_root) if thread_root else None,
        "members": selectors.list_channel_members(channel=channel),
        "staff": selectors.list_chat_staff(exclude=request.user),
        "is_member": selectors.is_channel_member(user=request.user, channel=channel),
        "can_post": can(request.user, Action.POST_CHAT) and not channel.is_archived,
        "can_manage": can(request.user, Action.MANAGE_CHANNELS)
        and channel.kind != ChannelKind.DIRECT,
    }
    return render(request, "chat/channel.html", context)


@login_required
@require_POST
def post_message(request: HttpRequest, slug: str) -> HttpResponse:
    channel = _channel(request, slug)
    root = request.POST.get("thread_root", "")
    try:
        message = services.post_message(
            channel=channel,
            author=request.user,
            body=request.POST.get("body", ""),
            thread_root_id=int(root) if root.isdigit() else None,
            uploads=request.FILES.getlist("attachments"),
        )
    except ApplicationError as exc:
        if exc.status == 403:
            raise DjangoPermissionDenied from exc
        messages.error(request, exc.message)
        return redirect("comms:channel", slug=channel.slug)
    if message.thread_id:
        return redirect(
            f"/chat/{channel.slug}/?thread={message.thread.root_message_id}#message-{message.pk}"
        )
    return redirect(f"/chat/{channel.slug}/#message-{message.pk}")


def _message_action(request: HttpRequest, slug: str, action) -> HttpResponse:
    channel = _channel(request, slug)
    try:
        action()
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ApplicationError as exc:
        if exc.status == 403:
            raise DjangoPermissionDenied from exc
        messages.error(request, exc.message)
    return _back(request, f"/chat/{channel.slug}/")


@login_required
@require_POST
def edit_message(request: HttpRequest, slug: str, message_id: int) -> HttpResponse:
    return _message_action(
        request,
        slug,
        lambda: services.edit_message(
            message_id=message_id, user=request.user, body=request.POST.get("body", "")
        ),
    )


@login_required
@require_POST
def delete_message(request: HttpRequest, slug: str, message_id: int) -> HttpResponse:
    return _message_action(
        request, slug, lambda: services.delete_message(message_id=message_id, user=request.user)
    )


@login_required
@require_POST
def join_channel(request: HttpRequest, slug: str) -> HttpResponse:
    channel = _channel(request, slug)
    return _message_action(
        request, slug, lambda: services.join_channel(channel=channel, user=request.user)
    )


@login_required
@require_POST
def leave_channel(request: HttpRequest, slug: str) -> HttpResponse:
    channel = _channel(request, slug)
    return _message_action(
        request, slug, lambda: services.leave_channel(channel=channel, user=request.user)
    )


@login_required
@require_POST
def archive_channel(request: HttpRequest, slug: str) -> HttpResponse:
    _require(request, Action.MANAGE_CHANNELS)
    channel = _channel(request, slug)
    is_archived = request.POST.get("archived", "1") == "1"
    return _message_action(
        request,
        slug,
        lambda: services.set_channel_archived(
            channel=channel, actor=request.user, is_archived=is_archived
        ),
    )


@login_required
@require_POST
def channel_members(request: HttpRequest, slug: str) -> HttpResponse:
    _require(request, Action.MANAGE_CHANNELS)
    channel = _channel(request, slug)
    member = _staff_member(request.POST.get("user"))
    change = (
        services.remove_channel_member
        if request.POST.get("action") == "remove"
        else services.add_channel_member
    )
    return _message_action(
        request, slug, lambda: change(channel=channel, actor=request.user, user=member)
    )


@login_required
def create_channel(request: HttpRequest) -> HttpResponse:
    _require(request, Action.MANAGE_CHANNELS)
    if request.method == "POST":
        try:
            channel = services.create_channel(
                actor=request.user,
                name=request.POST.get("name", ""),
                kind=request.POST.get("kind", ChannelKind.PUBLIC),
                topic=request.POST.get("topic", ""),
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            return redirect("comms:channel", slug=channel.slug)
    return render(request, "chat/new.html", {"kinds": [ChannelKind.PUBLIC, ChannelKind.PRIVATE]})


@login_required
@require_POST
def open_direct(request: HttpRequest, user_id: int) -> HttpResponse:
    _require(request, Action.VIEW_CHAT)
    other = _staff_member(user_id)
    try:
        channel = services.open_direct_channel(user=request.user, other=other)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("comms:home")
    return redirect("comms:channel", slug=channel.slug)


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    rows = selectors.list_notifications(user=request.user, unread_only=unread_only)[:100]
    return render(
        request, "comms/notifications.html", {"notifications": rows, "unread_only": unread_only}
    )


@login_required
@require_GET
def notification_bell(request: HttpRequest) -> HttpResponse:
    count = selectors.count_unread_notifications(user=request.user)
    return render(request, "comms/_bell.html", {"unread_notifications": count})


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    try:
        notification = services.mark_notification_read(
            user=request.user, notification_id=notification_id
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if request.POST.get("open") and notification.url.startswith("/"):
        return redirect(notification.url)
    return _back(request, "/notifications/")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    services.mark_all_notifications_read(user=request.user)
    return _back(request, "/notifications/")


# Ticket discussions (the ticket page's "Team discussion" panel) ----------------------------------


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _render_discussions(
    request: HttpRequest, ticket: Ticket, *, error: ApplicationError | None = None
) -> HttpResponse:
    context = {
        "ticket": ticket,
        "discussions": selectors.list_ticket_discussions(ticket=ticket, user=request.user),
        "discussion_channels": selectors.list_discussion_channels(user=request.user),
        "ticket_files": list_ticket_files(ticket=ticket),
        "error": error,
        # A refused form keeps what was typed; a started discussion leaves the form empty.
        "form": request.POST if error is not None else {},
        "checked_files": request.POST.getlist("forward_attachment_ids") if error else [],
    }
    # htmx only swaps 2xx answers; a plain form post gets the real status.
    status = 200 if error is None or _is_htmx(request) else error.status
    template = (
        "comms/_ticket_discussions.html" if _is_htmx(request) else "comms/ticket_discussions.html"
    )
    return render(request, template, context, status=status)


@staff_page
@require_GET
def ticket_discussions(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = get_ticket_for_user(user=request.user, reference=reference)
    return _render_discussions(request, ticket)


@staff_page
@require_POST
def ticket_discussion_start(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = get_ticket_for_user(user=request.user, reference=reference)
    _require(request, Action.POST_CHAT)  # before parsing the form: a Viewer gets 403, not 400
    channel = selectors.find_channel(slug=request.POST.get("channel", ""))
    try:
        services.start_ticket_discussion(
            ticket=ticket,
            channel=channel,
            author=request.user,
            body=request.POST.get("body", ""),
            forward_attachment_ids=_ids(request.POST.getlist("forward_attachment_ids")),
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _render_discussions(request, ticket, error=exc)
    if _is_htmx(request):
        return _render_discussions(request, ticket)
    return redirect(f"/tickets/{ticket.reference}/#team-discussion")


# Hand off to #channel (a choice of the ticket page's "Hand off" form) ----------------------------


def _render_channel_handoff(
    request: HttpRequest, ticket: Ticket, *, error: ApplicationError | None = None
) -> HttpResponse:
    context = {
        "ticket": ticket,
        "channels": selectors.list_discussion_channels(user=request.user),
        "error": error,
        # A refused form keeps what was typed.
        "form": request.POST if error is not None else {},
    }
    template = (
        "comms/_handoff_to_channel.html" if _is_htmx(request) else "comms/handoff_to_channel.html"
    )
    return render(request, template, context, status=error.status if error else 200)


@staff_page
@require_http_methods(["GET", "POST"])
def ticket_handoff_to_channel(request: HttpRequest, reference: str) -> HttpResponse:
    """GET: the form (loaded into the ticket page's "Hand off" section); POST: offer the
    ticket in the channel, then back to the ticket, whose banner and timeline show it."""
    ticket = get_ticket_for_user(user=request.user, reference=reference)
    _require(request, Action.HANDOFF_TICKET)
    _require(request, Action.POST_CHAT)
    if request.method == "GET":
        return _render_channel_handoff(request, ticket)
    channel = selectors.find_channel(slug=request.POST.get("channel", ""))
    try:
        discussion = services.hand_off_to_channel(
            ticket=ticket,
            channel=channel,
            author=request.user,
            reason=request.POST.get("reason", ""),
            context_summary=request.POST.get("context_summary", ""),
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _render_channel_handoff(request, ticket, error=exc)
    messages.success(request, f"Handoff offered in #{discussion.root_message.channel.slug}.")
    return redirect(f"/tickets/{ticket.reference}/")


@staff_page
@require_POST
def take_channel_handoff(request: HttpRequest, handoff_id: int) -> HttpResponse:
    """The card's "I'll take it": the ticket is the presser's, unless someone was first (409)."""
    try:
        discussion = services.take_channel_handoff(handoff_id=handoff_id, actor=request.user)
    except Conflict as exc:
        context = {"status": exc.status, "detail": exc.message}
        return render(request, "http_error.html", context, status=exc.status)
    messages.success(request, f"{discussion.ticket.reference} is yours now.")
    return redirect(f"/tickets/{discussion.ticket.reference}/")


def _ids(values: list[str]) -> list[int]:
    """Checkbox values; anything that is not an id matches no file (the service names it)."""
    return [int(value) if value.isdigit() else 0 for value in values]


# Share to #channel (a file's action on the ticket page) -------------------------------------------


def _render_share(
    request: HttpRequest, ticket: Ticket, file: Attachment, error: ApplicationError | None = None
) -> HttpResponse:
    context = {
        "ticket": ticket,
        "file": file,
        "channels": selectors.list_discussion_channels(user=request.user),
        "error": error,
        # A refused form keeps what was typed.
        "form": request.POST if error is not None else {},
    }
    status = error.status if error is not None else 200
    return render(request, "comms/share_ticket_file.html", context, status=status)


@staff_page
@require_http_methods(["GET", "POST"])
def ticket_file_share(request: HttpRequest, reference: str, attachment_id: int) -> HttpResponse:
    ticket = get_ticket_for_user(user=request.user, reference=reference)
    _require(request, Action.POST_CHAT)
    file = get_attachment_for_user(user=request.user, attachment_id=attachment_id)
    if file.ticket_id != ticket.pk or not file.is_stored:
        raise Http404("No such file on this ticket.")
    if request.method == "GET":
        return _render_share(request, ticket, file)
    try:
        message = services.share_ticket_files(
            channel=selectors.find_channel(slug=request.POST.get("channel", "")),
            author=request.user,
            body=request.POST.get("body", ""),
            attachment_ids=[file.pk],
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _render_share(request, ticket, file, error=exc)
    messages.success(request, f"Shared {file.filename} to #{message.channel.slug}.")
    return redirect(f"/tickets/{ticket.reference}/#attachment-{file.pk}")
