"""`python -m bench.query_scaling USERNAME`: SQL queries per inbox page at several page sizes.

The page size of `/tickets/` is a constant of the view, so it is varied in-process (patched) with
Django's test client against the benchmark database; `/api/tickets/` takes `limit`.
Prints {"label": {"10": queries, "100": queries}}.
"""

import json
import sys
from unittest import mock

import django

PAGE_SIZES = (10, 100)


def count(client, url: str, rows: int) -> int:
    """Queries of one GET of `url`, which must show `rows` rows (or the page size is not real)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    if response.get("Content-Type", "").startswith("application/json"):
        shown = len(response.json()["results"])
    else:
        shown = response.content.decode().count('id="ticket-row-')
    if shown != rows:
        raise RuntimeError(f"{url} showed {shown} rows, not {rows}")
    return len(queries)


def main(username: str) -> dict[str, dict[str, int]]:
    django.setup()
    from django.test import Client

    from accounts.models import User
    from bench.sessions import log_in

    client = Client()
    log_in(client, User.objects.get(username=username))
    out: dict[str, dict[str, int]] = {"/tickets/": {}, "/api/tickets/": {}}
    client.get("/tickets/")  # first request warms caches (permissions, content types)
    for size in PAGE_SIZES:
        with mock.patch("tickets.views.INBOX_PAGE_SIZE", size):
            # All tickets, so even a smoke run's data fills the largest page.
            out["/tickets/"][str(size)] = count(client, "/tickets/?view=all", size)
    if client.get("/api/tickets/").status_code == 200:
        for size in PAGE_SIZES:
            out["/api/tickets/"][str(size)] = count(client, f"/api/tickets/?limit={size}", size)
    else:
        del out["/api/tickets/"]
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
