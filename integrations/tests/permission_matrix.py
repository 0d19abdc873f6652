"""Integrations rows of the project-wide permission matrix (see accounts/tests/matrix.py).

{message} is a sent outbound message: retrying it passes the permission check and is then refused
as not failed (a redirect back to the ticket with an error message), which proves the check ran.
"""

ROWS = [
    {
        "method": "POST",
        "path": "/tickets/{ticket}/messages/{message}/retry/",
        "expect": {"Admin": 302, "Manager": 302, "Agent": 302, "Viewer": 403, "anonymous": 302},
        "data": None,
        "api": False,
    },
    {
        "method": "POST",
        "path": "/tickets/PD-0/messages/{message}/retry/",
        "expect": {"Admin": 404, "Manager": 404, "Agent": 404, "Viewer": 404, "anonymous": 302},
        "data": None,
        "api": False,
    },
    # Customer 360 (Shopify/PERP sidebar). Providers are unconfigured in the matrix world, so
    # the pages render their "not configured" state without network calls.
    {
        "method": "GET",
        "path": "/customers/{customer}/context/?refresh=1&ticket={ticket}",
        "expect": {"Admin": 200, "Manager": 200, "Agent": 200, "Viewer": 200, "anonymous": 302},
        "data": None,
        "api": False,
    },
    {
        "method": "GET",
        "path": "/customers/{customer}/context/order/?number=%231001",
        "expect": {"Admin": 200, "Manager": 200, "Agent": 200, "Viewer": 200, "anonymous": 302},
        "data": None,
        "api": False,
    },
    {
        "method": "GET",
        "path": "/customers/0/context/",
        "expect": {"Admin": 404, "Manager": 404, "Agent": 404, "Viewer": 404, "anonymous": 302},
        "data": None,
        "api": False,
    },
    {
        "method": "POST",
        "path": "/customers/{customer}/context/link/",
        "expect": {"Admin": 302, "Manager": 302, "Agent": 302, "Viewer": 403, "anonymous": 302},
        "data": {"provider": "perp", "external_id": ""},
        "api": False,
    },
    {
        "method": "GET",
        "path": "/api/customers/{customer}/context/",
        "expect": {
            "Admin": 200,
            "Manager": 200,
            "Agent": 200,
            "Viewer": 200,
            "anonymous": [401, 403],
        },
        "data": None,
        "api": True,
    },
    {
        "method": "POST",
        "path": "/api/webhooks/shopify",
        "expect": {"Admin": 401, "Manager": 401, "Agent": 401, "Viewer": 401, "anonymous": 401},
        "data": {"id": 1},
        "api": True,
    },
]
