"""How integrations reacts to domain events: an outbound ticket message queued by tickets (or a
failed one staff send again) is handed to the delivery task after commit (the router sends it
through its channel's provider); a customer's file that only has a provider link is downloaded
by a task (integrations.media). Registered in `IntegrationsConfig.ready()`."""

from core import events as bus
from integrations.tasks import deliver_ticket_message, fetch_inbound_media
from tickets import events


def enqueue_delivery(event: events.MessageQueued | events.MessageRequeued) -> None:
    deliver_ticket_message.enqueue(message_id=event.message_id)


def enqueue_media_download(event: events.AttachmentFetchRequested) -> None:
    fetch_inbound_media.enqueue(attachment_id=event.attachment_id)


def register() -> None:
    bus.subscribe(events.MessageQueued, enqueue_delivery)
    bus.subscribe(events.MessageRequeued, enqueue_delivery)
    bus.subscribe(events.AttachmentFetchRequested, enqueue_media_download)
