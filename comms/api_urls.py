"""REST API of the comms app (mounted under /api/)."""

urlpatterns: list = []
