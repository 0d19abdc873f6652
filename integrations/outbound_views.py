"""Staff actions on outbound messages (HTML form posts)."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from core.errors import ApplicationError, NotFound, PermissionDenied
from integrations import message_templates
from tickets.delivery import requeue_failed_message
from tickets.selectors import get_outbound_message, get_ticket_for_user


def _form_action(
    request: HttpRequest, reference: str, perform: Callable[[], object], done: str
) -> HttpResponse:
    """Run a staff form post on a ticket, then show the ticket with the outcome as a message."""
    try:
        perform()
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(f"/tickets/{reference}/")


@login_required
@require_POST
def retry_message(request: HttpRequest, reference: str, message_id: int) -> HttpResponse:
    def perform() -> None:
        message = get_outbound_message(message_id=message_id)
        if message.ticket.reference != reference:
            raise NotFound("No such outbound message.", code="message_not_found")
        requeue_failed_message(message=message, actor=request.user)

    return _form_action(
        request, reference, perform, "The message is queued for another delivery attempt."
    )


@login_required
@require_POST
def send_whatsapp_template(request: HttpRequest, reference: str) -> HttpResponse:
    """The composer's template picker: `template` and one `var_<name>` per variable."""
    variables = {
        key.removeprefix("var_"): value
        for key, value in request.POST.items()
        if key.startswith("var_")
    }
    raw = request.POST.get("template", "")

    def perform() -> None:
        message_templates.send_template_reply(
            ticket=get_ticket_for_user(user=request.user, reference=reference),
            author=request.user,
            # Not a number: no template has that id, so the service answers "no such template".
            template_id=int(raw) if raw.isdigit() else 0,
            variables=variables,
        )

    return _form_action(request, reference, perform, "The template is queued for WhatsApp.")
