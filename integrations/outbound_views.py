"""Staff actions on outbound messages (HTML form posts)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from core.errors import ApplicationError, NotFound, PermissionDenied
from tickets.delivery import requeue_failed_message
from tickets.selectors import get_outbound_message


@login_required
@require_POST
def retry_message(request: HttpRequest, reference: str, message_id: int) -> HttpResponse:
    try:
        message = get_outbound_message(message_id=message_id)
        if message.ticket.reference != reference:
            raise NotFound("No such outbound message.", code="message_not_found")
        requeue_failed_message(message=message, actor=request.user)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The message is queued for another delivery attempt.")
    return redirect(f"/tickets/{reference}/")
