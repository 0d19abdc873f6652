"""The `web` channel's "provider": an agent's reply is announced to the visitor's widget
sockets on the ticket's widget group. Each socket loads the message itself (only from its own
visitor's conversations) and acknowledges it, which moves the status to delivered, then read;
a widget without a socket finds it when it polls. Like every client it never touches the
database."""

from core.realtime import group_send, widget_ticket_group
from integrations.clients import OutboundRequest, SendResult

PROVIDER = "web"


class WebChatClient:
    provider = PROVIDER

    def send(self, request: OutboundRequest) -> SendResult:
        # `to` is the ticket reference: a web chat's address is its conversation.
        group_send(
            widget_ticket_group(request.to),
            {"type": "widget.delivery", "message_id": request.message_id},
        )
        return SendResult(
            provider=PROVIDER, provider_message_id=f"web-{request.message_id}", status="sent"
        )
