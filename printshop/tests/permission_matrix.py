"""Print-shop rows of the project-wide permission matrix (collected by test_permission_matrix.py).

Sending proofs needs `reply_ticket`, linking orders `change_ticket`; every staff role sees the
panel and the order API. The public proof page needs no login: an unknown token is 404 for all.
"""

EVERY_STAFF = {"Admin": 200, "Manager": 200, "Agent": 200, "Viewer": 200, "anonymous": 302}
WORKERS_CHANGE = {"Admin": 302, "Manager": 302, "Agent": 302, "Viewer": 403, "anonymous": 302}
# The permission check passes, then the empty form is a 400.
WORKERS_BAD_INPUT = {"Admin": 400, "Manager": 400, "Agent": 400, "Viewer": 403, "anonymous": 302}
EVERYONE_404 = {"Admin": 404, "Manager": 404, "Agent": 404, "Viewer": 404, "anonymous": 404}
ANON_API = [401, 403]
API_READ = {"Admin": 200, "Manager": 200, "Agent": 200, "Viewer": 200, "anonymous": ANON_API}


def row(method: str, path: str, expect: dict, data: dict | None = None, api: bool = False):
    return {"method": method, "path": path, "expect": expect, "data": data, "api": api}


ROWS = [
    row("GET", "/tickets/{ticket}/proofs/", EVERY_STAFF),
    row("POST", "/tickets/{ticket}/proofs/upload/", WORKERS_BAD_INPUT, {"order_line": "Cards"}),
    row("POST", "/tickets/{ticket}/proofs/perp/", WORKERS_BAD_INPUT, {"artwork_id": ""}),
    row(
        "POST",
        "/tickets/{ticket}/proofs/999999/send/",
        {"Admin": 404, "Manager": 404, "Agent": 404, "Viewer": 403, "anonymous": 302},
        {"message": "Hi"},
    ),
    row("POST", "/tickets/{ticket}/orders/", WORKERS_CHANGE, {"number": "#1001"}),
    row("GET", "/proofs/no-such-token/", EVERYONE_404),
    row("GET", "/proofs/no-such-token/file/", EVERYONE_404),
    row("GET", "/api/orders/1001/tickets/", API_READ, api=True),
    row("GET", "/api/tickets/{ticket}/proofs/", API_READ, api=True),
]
