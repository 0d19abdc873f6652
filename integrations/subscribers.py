"""How integrations reacts to domain events: an outbound ticket message queued by tickets (or a
failed one staff send again) is handed to the delivery task after commit (the router sends it
through its channel's provider); a customer's file that only has a provider link is downloaded
by a task (integrations.media); a CSAT survey sent or answered shows (or thanks) in the
storefront widget of its ticket. Registered in `IntegrationsConfig.ready()`."""

from analytics.events import CsatAnswered, CsatSurveySent
from core import events as bus
from integrations.tasks import deliver_ticket_message, fetch_inbound_media
from integrations.webchat.services import announce_survey_card
from tickets import events


def enqueue_delivery(event: events.MessageQueued | events.MessageRequeued) -> None:
    deliver_ticket_message.enqueue(message_id=event.message_id)


def enqueue_media_download(event: events.AttachmentFetchRequested) -> None:
    fetch_inbound_media.enqueue(attachment_id=event.attachment_id)


def show_survey_in_widget(event: CsatSurveySent | CsatAnswered) -> None:
    announce_survey_card(survey_id=event.survey_id)


def register() -> None:
    bus.subscribe(events.MessageQueued, enqueue_delivery)
    bus.subscribe(events.MessageRequeued, enqueue_delivery)
    bus.subscribe(events.AttachmentFetchRequested, enqueue_media_download)
    bus.subscribe(CsatSurveySent, show_survey_in_widget)
    bus.subscribe(CsatAnswered, show_survey_in_widget)
