"""How integrations reacts to domain events: an outbound ticket message queued by tickets is
handed to the delivery task after commit (the router sends it through its channel's provider).
Registered in `IntegrationsConfig.ready()`."""

from core import events as bus
from integrations.tasks import deliver_ticket_message
from tickets import events


def enqueue_delivery(event: events.MessageQueued) -> None:
    deliver_ticket_message.enqueue(message_id=event.message_id)


def register() -> None:
    bus.subscribe(events.MessageQueued, enqueue_delivery)
