"""`python -m bench.visitor_setup N`: web-chat visitors for the visitor fan-out benchmark.

Each visitor is a widget token of the bench inbox with a conversation of its own, started the
way the widget starts one (`services.post_visitor_message`, what `POST /widget/<inbox>/messages/`
calls) and answered once by an agent (`tickets.services.reply_to_ticket`). Visitors are kept
between runs (their ids are in the inbox's conversations); only missing ones are created.
Prints {"inbox": key, "origin": ..., "visitors": [{"token", "ticket", "reply"}, ...]}.
Runs with bench settings against the realtime benchmark's database (set by bench.visitors).
"""

import json
import sys

import django

INBOX_KEY = "bench-widget"
SHOP_HOST = "shop.bench.example"


def main(count: int) -> dict:
    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db.models import Min

    from accounts.models import Role, User
    from integrations.models import WebChatConversation, WebChatInbox
    from integrations.webchat import identity, services
    from tickets.models import MessageDirection, TicketMessage
    from tickets.services import reply_to_ticket

    inbox, _ = WebChatInbox.objects.get_or_create(
        key=INBOX_KEY, defaults={"shop_name": "Bench Prints", "allowed_domains": SHOP_HOST}
    )
    agent, _ = User.objects.get_or_create(
        username="bench-widget-agent",
        defaults={"password": make_password(None), "first_name": "Sam"},
    )
    agent.groups.add(Group.objects.get(name=Role.AGENT))
    conversations = list(
        WebChatConversation.objects.filter(inbox=inbox)
        .select_related("ticket")
        .order_by("pk")[:count]
    )
    for _ in range(count - len(conversations)):
        visitor_id, _token = identity.new_visitor_token(inbox=inbox)
        message = services.post_visitor_message(
            visitor=services.Visitor(inbox=inbox, visitor_id=visitor_id),
            body="Hi, where is my order of business cards?",
            client_message_id="first",
        )
        conversations.append(
            WebChatConversation.objects.select_related("ticket").get(
                inbox=inbox, visitor_id=visitor_id, ticket_id=message.ticket_id
            )
        )
    replies = dict(
        TicketMessage.objects.filter(
            ticket__in=[c.ticket_id for c in conversations], direction=MessageDirection.OUTBOUND
        )
        .values("ticket_id")
        .annotate(first=Min("pk"))
        .values_list("ticket_id", "first")
    )
    visitors = []
    for conversation in conversations:
        if conversation.ticket_id not in replies:
            replies[conversation.ticket_id] = reply_to_ticket(
                ticket=conversation.ticket, author=agent, body="It ships today, tracking follows."
            ).pk
        visitors.append(
            {
                "token": identity.visitor_token(inbox=inbox, visitor_id=conversation.visitor_id),
                "ticket": conversation.ticket.reference,
                "reply": replies[conversation.ticket_id],
            }
        )
    return {"inbox": inbox.key, "origin": f"http://{SHOP_HOST}", "visitors": visitors}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
