"""Privacy rows of the project-wide permission matrix (see accounts/tests/matrix.py).

Exports need `tickets.export_customers` (Admin, Manager); erasure `privacy.erase_customer`
(Admin only). A POST to the erase page without the typed confirmation re-renders it (200),
which proves the permission check passed without erasing the matrix world's customer.
"""

ROWS = [
    {
        "method": "GET",
        "path": "/privacy/",
        "expect": {"Admin": 200, "Manager": 200, "Agent": 403, "Viewer": 403, "anonymous": 302},
        "data": None,
        "api": False,
    },
    {
        "method": "GET",
        "path": "/customers/{customer}/privacy/",
        "expect": {"Admin": 200, "Manager": 200, "Agent": 403, "Viewer": 403, "anonymous": 302},
        "data": None,
        "api": False,
    },
    {
        "method": "POST",
        "path": "/customers/{customer}/privacy/export/",
        "expect": {"Admin": 302, "Manager": 302, "Agent": 403, "Viewer": 403, "anonymous": 302},
        "data": None,
        "api": False,
    },
    {
        "method": "GET",
        "path": "/customers/{customer}/privacy/erase/",
        "expect": {"Admin": 200, "Manager": 403, "Agent": 403, "Viewer": 403, "anonymous": 302},
        "data": None,
        "api": False,
    },
    {
        "method": "POST",
        "path": "/customers/{customer}/privacy/erase/",
        "expect": {"Admin": 200, "Manager": 403, "Agent": 403, "Viewer": 403, "anonymous": 302},
        "data": {"confirm": "no"},
        "api": False,
    },
    {
        "method": "GET",
        "path": "/privacy/requests/0/download/",
        "expect": {"Admin": 404, "Manager": 404, "Agent": 403, "Viewer": 403, "anonymous": 302},
        "data": None,
        "api": False,
    },
]
