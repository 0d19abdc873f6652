"""`python -m bench.query_scaling USERNAME`: SQL queries per inbox page at several page sizes.

The page size of `/tickets/` is a constant of the view, so it is varied in-process (patched) with
Django's test client against the benchmark database; `/api/tickets/` takes `page_size` if the API
offers it. Prints {"label": {"10": queries, "100": queries}}.
"""

import json
import sys
from unittest import mock

import django

PAGE_SIZES = (10, 100)


def count(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return len(queries)


def main(username: str) -> dict[str, dict[str, int]]:
    django.setup()
    from django.test import Client

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    out: dict[str, dict[str, int]] = {"/tickets/": {}, "/api/tickets/": {}}
    client.get("/tickets/")  # first request warms caches (permissions, content types)
    for size in PAGE_SIZES:
        with mock.patch("tickets.views.INBOX_PAGE_SIZE", size):
            out["/tickets/"][str(size)] = count(client, "/tickets/")
    if client.get("/api/tickets/").status_code == 200:
        for size in PAGE_SIZES:
            out["/api/tickets/"][str(size)] = count(client, f"/api/tickets/?page_size={size}")
    else:
        del out["/api/tickets/"]
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
