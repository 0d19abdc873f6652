from django.urls import path

from comms.consumers import StaffConsumer
from integrations.webchat.consumers import WidgetConsumer

websocket_urlpatterns = [
    path("ws/staff/", StaffConsumer.as_asgi()),
]
# The storefront widget's visitors come from the shop's own hosts, which the consumer checks per
# inbox (its allowed domains); they get no session and never reach the staff socket.
widget_websocket_urlpatterns = [
    path("ws/widget/", WidgetConsumer.as_asgi()),
]
