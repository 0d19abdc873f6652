"""REST API of the analytics app (mounted under /api/)."""

urlpatterns: list = []
