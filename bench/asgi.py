"""ASGI app of bench daphne processes: the production app plus the relay at /ws/relay/.

`/ws/staff/` goes through exactly the production stack (origin check, session auth, router).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from channels.routing import ProtocolTypeRouter

from bench.relay import RelayConsumer
from helpdesk.asgi import application as production

RELAY_PATH = "/ws/relay/"
relay = RelayConsumer.as_asgi()
staff = production.application_mapping["websocket"]


async def websocket(scope, receive, send):
    app = relay if scope["path"] == RELAY_PATH else staff
    return await app(scope, receive, send)


application = ProtocolTypeRouter(
    {"http": production.application_mapping["http"], "websocket": websocket}
)
