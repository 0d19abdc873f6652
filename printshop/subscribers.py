"""How printshop reacts to tickets' events: order references in every customer message (and
its email subject) are linked to the ticket, in the transaction that stored the message.
Registered in `PrintshopConfig.ready()`."""

from core import events as bus
from printshop.services import link_order_references
from tickets import events
from tickets.models import TicketMessage


def link_orders_in_message(event: events.MessageReceived) -> None:
    message = TicketMessage.objects.select_related("ticket").get(pk=event.message_id)
    link_order_references(ticket=message.ticket, text=f"{event.subject}\n{message.body}")


def register() -> None:
    bus.subscribe(events.MessageReceived, link_orders_in_message, in_transaction=True)
