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

# Shopify order actions from a ticket (docs/orders.md). In the matrix world Shopify is not
# configured and the customer is not linked, so a permitted call reaches the service and is
# refused there (409 not_linked; the panel shows it in place, 200), which proves the check ran.
ORDER_ACTION_ROWS = [
    {
        "method": "POST",
        "path": f"/api/tickets/{{ticket}}/orders/1001/{action}/",
        "expect": {"Admin": 409, "Manager": 409, "Agent": 403, "Viewer": 403, "anonymous": 401},
        "data": data,
        "api": True,
    }
    for action, data in (
        ("reprint", {"reason": "misprint"}),
        ("refund", {"include_shipping": True}),
        ("cancel", {"reason": "CUSTOMER"}),
        ("shipping-address", {"address": {"city": "York"}}),
    )
] + [
    {
        "method": "POST",
        "path": "/api/tickets/{ticket}/discount-codes/",
        "expect": {"Admin": 409, "Manager": 409, "Agent": 403, "Viewer": 403, "anonymous": 401},
        "data": {"reason": "late", "percentage": "10"},
        "api": True,
    },
    {
        "method": "GET",
        "path": "/tickets/{ticket}/orders/1001/actions/",
        "expect": {"Admin": 200, "Manager": 200, "Agent": 403, "Viewer": 403, "anonymous": 302},
        "data": None,
        "api": False,
    },
    {
        "method": "POST",
        "path": "/tickets/{ticket}/orders/1001/actions/refund/",
        "expect": {"Admin": 200, "Manager": 200, "Agent": 403, "Viewer": 403, "anonymous": 302},
        "data": {"include_shipping": "1"},
        "api": False,
    },
    {
        "method": "POST",
        "path": "/tickets/{ticket}/discount-code/",
        "expect": {"Admin": 200, "Manager": 200, "Agent": 403, "Viewer": 403, "anonymous": 302},
        "data": {"reason": "late", "percentage": "10"},
        "api": False,
    },
]
ROWS += ORDER_ACTION_ROWS
