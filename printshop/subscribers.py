"""How printshop reacts to other apps' events: order references in every customer message (and
its email subject) and in the subject a ticket opens with are linked to the ticket, in the
transaction that stored them; a reprint's new Shopify order is linked to the ticket it was made
from.
Registered in `PrintshopConfig.ready()`."""

from core import events as bus
from integrations.events import ShopifyOrderActionCompleted
from printshop.services import link_order_references, link_reprint_order
from tickets import events
from tickets.models import Ticket, TicketMessage


def link_orders_in_message(event: events.MessageReceived) -> None:
    message = TicketMessage.objects.select_related("ticket").get(pk=event.message_id)
    link_order_references(ticket=message.ticket, text=f"{event.subject}\n{message.body}")


def link_orders_in_subject(event: events.TicketCreated) -> None:
    # A ticket staff open ("Invoice for order #1088") has no inbound message to read them from.
    ticket = Ticket.objects.get(pk=event.ticket_id)
    link_order_references(ticket=ticket, text=ticket.subject)


def register() -> None:
    bus.subscribe(events.TicketCreated, link_orders_in_subject, in_transaction=True)
    bus.subscribe(events.MessageReceived, link_orders_in_message, in_transaction=True)
    bus.subscribe(ShopifyOrderActionCompleted, link_reprint_order)
