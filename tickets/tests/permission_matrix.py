"""Tickets and customers rows of the project-wide permission matrix (see accounts/tests/matrix.py).

{ticket} is an unassigned open email ticket; {user} is the matrix Agent, so an Agent's handoff
"to {user}" is a handoff to themselves (400), and everyone else's is a valid one.
"""

from datetime import timedelta

from django.utils import timezone

EVERY_STAFF = {"Admin": 200, "Manager": 200, "Agent": 200, "Viewer": 200, "anonymous": 302}
WORKERS_CHANGE = {"Admin": 302, "Manager": 302, "Agent": 302, "Viewer": 403, "anonymous": 302}
NOT_FOUND = {"Admin": 404, "Manager": 404, "Agent": 404, "Viewer": 404, "anonymous": 302}
ANON_API = [401, 403]
API_READ = {"Admin": 200, "Manager": 200, "Agent": 200, "Viewer": 200, "anonymous": ANON_API}
API_WORK = {"Admin": 200, "Manager": 200, "Agent": 200, "Viewer": 403, "anonymous": ANON_API}
API_CREATE = {"Admin": 201, "Manager": 201, "Agent": 201, "Viewer": 403, "anonymous": ANON_API}
# Merging needs `merge_ticket`; merging something into itself is then a 400, which proves the
# permission check passed.
API_MERGE_SELF = {"Admin": 400, "Manager": 400, "Agent": 403, "Viewer": 403, "anonymous": ANON_API}


# A scheduled reply's time: a day after the matrix runs (a past one would be a 400).
TOMORROW = (timezone.now() + timedelta(days=1)).isoformat()
API_SCHEDULE = {"Admin": 202, "Manager": 202, "Agent": 202, "Viewer": 403, "anonymous": ANON_API}
# Changing a scheduled reply: no such reply (404) once the permission check passed.
NO_SUCH_SCHEDULED = {"Admin": 404, "Manager": 404, "Agent": 404, "Viewer": 403, "anonymous": 302}
API_NO_SUCH_SCHEDULED = {**NO_SUCH_SCHEDULED, "anonymous": ANON_API}


def row(method: str, path: str, expect: dict, data: dict | None = None, api: bool = False):
    return {"method": method, "path": path, "expect": expect, "data": data, "api": api}


ROWS = [
    # Files: every staff member may open one (this one has no bytes: 404 after the permission
    # check); retrying a failed download is work.
    row(
        "GET",
        "/attachments/{attachment}/",
        {"Admin": 404, "Manager": 404, "Agent": 404, "Viewer": 404, "anonymous": ANON_API},
        api=True,
    ),
    row(
        "GET",
        "/attachments/{attachment}/preview/",
        {"Admin": 404, "Manager": 404, "Agent": 404, "Viewer": 404, "anonymous": ANON_API},
        api=True,
    ),
    row("POST", "/attachments/{attachment}/retry/", WORKERS_CHANGE),
    # Pages
    row("GET", "/tickets/", EVERY_STAFF),
    row("GET", "/tickets/?view=mine&status=open&q=banner&sort=created", EVERY_STAFF),
    row("GET", "/tickets/{ticket}/", EVERY_STAFF),
    row("GET", "/tickets/{ticket}/timeline/", EVERY_STAFF),
    row("GET", "/tickets/{ticket}/row/", EVERY_STAFF),
    row("GET", "/tickets/PD-0/", NOT_FOUND),
    row(
        "GET",
        "/tickets/{ticket}/saved-replies/999999/",
        {"Admin": 404, "Manager": 404, "Agent": 404, "Viewer": 403, "anonymous": 302},
    ),
    row("POST", "/tickets/{ticket}/reply/", WORKERS_CHANGE, {"body": "Hi", "channel": "email"}),
    row(
        "POST",
        "/tickets/{ticket}/reply/",
        WORKERS_CHANGE,
        {"body": "Later", "channel": "email", "send_later": "in_1h"},
    ),
    row("POST", "/tickets/{ticket}/scheduled/999999/edit/", NO_SUCH_SCHEDULED, {"body": "x"}),
    row("POST", "/tickets/{ticket}/scheduled/999999/cancel/", NO_SUCH_SCHEDULED),
    row("POST", "/tickets/{ticket}/scheduled/999999/send-now/", NO_SUCH_SCHEDULED),
    row("GET", "/tickets/views/counts/", EVERY_STAFF),
    row("POST", "/tickets/{ticket}/notes/", WORKERS_CHANGE, {"body": "Internal"}),
    row("POST", "/tickets/{ticket}/status/", WORKERS_CHANGE, {"status": "pending"}),
    row("POST", "/tickets/{ticket}/priority/", WORKERS_CHANGE, {"priority": "high"}),
    row("POST", "/tickets/{ticket}/assign/", WORKERS_CHANGE, {"take": "1"}),
    row(
        "POST",
        "/tickets/{ticket}/handoffs/",
        {"Admin": 302, "Manager": 302, "Agent": 400, "Viewer": 403, "anonymous": 302},
        {"to_agent": "{user}", "reason": "Shift ends"},
    ),
    row(
        "POST",
        "/tickets/{ticket}/escalate/",
        {"Admin": 400, "Manager": 400, "Agent": 400, "Viewer": 403, "anonymous": 302},
        {"reason": "No target given"},
    ),
    row(
        "POST",
        "/tickets/bulk/",
        WORKERS_CHANGE,
        {"tickets": "{ticket}", "action": "status", "status": "pending"},
    ),
    row(
        "GET",
        "/tickets/new/",
        {"Admin": 200, "Manager": 200, "Agent": 200, "Viewer": 403, "anonymous": 302},
    ),
    row(
        "POST",
        "/tickets/new/",
        WORKERS_CHANGE,
        {"channel": "email", "identity_value": "matrix@example.com", "subject": "Matrix"},
    ),
    row(
        "POST",
        "/tickets/{ticket}/merge/",
        {"Admin": 400, "Manager": 400, "Agent": 403, "Viewer": 403, "anonymous": 302},
        {"into": "{ticket}"},
    ),
    row(
        "GET",
        "/saved-replies/",
        {"Admin": 200, "Manager": 200, "Agent": 200, "Viewer": 403, "anonymous": 302},
    ),
    row(
        "POST",
        "/saved-replies/",
        {"Admin": 302, "Manager": 302, "Agent": 403, "Viewer": 403, "anonymous": 302},
        {"title": "Matrix", "body": "Hello {{customer_first_name}}"},
    ),
    row("GET", "/customers/", EVERY_STAFF),
    row("GET", "/customers/?q=example", EVERY_STAFF),
    row("GET", "/customers/{customer}/", EVERY_STAFF),
    row(
        "POST",
        "/customers/{customer}/merge/",
        {"Admin": 400, "Manager": 400, "Agent": 403, "Viewer": 403, "anonymous": 302},
        {"source": "{customer}"},
    ),
    # API
    row("GET", "/api/tickets/", API_READ, api=True),
    row(
        "POST",
        "/api/tickets/",
        API_CREATE,
        {"channel": "email", "subject": "Matrix", "identity_value": "matrix@example.com"},
        api=True,
    ),
    row("GET", "/api/tickets/{ticket}/", API_READ, api=True),
    row("PATCH", "/api/tickets/{ticket}/", API_WORK, {"status": "pending"}, api=True),
    row("GET", "/api/tickets/{ticket}/messages/", API_READ, api=True),
    row("POST", "/api/tickets/{ticket}/messages/", API_CREATE, {"body": "Hello"}, api=True),
    row(
        "POST",
        "/api/tickets/{ticket}/messages/",
        API_SCHEDULE,
        {"body": "Later", "send_at": TOMORROW},
        api=True,
    ),
    row("GET", "/api/tickets/{ticket}/scheduled-replies/", API_READ, api=True),
    row(
        "PATCH",
        "/api/tickets/{ticket}/scheduled-replies/999999/",
        API_NO_SUCH_SCHEDULED,
        {"body": "x"},
        api=True,
    ),
    row(
        "DELETE",
        "/api/tickets/{ticket}/scheduled-replies/999999/",
        API_NO_SUCH_SCHEDULED,
        api=True,
    ),
    row(
        "POST",
        "/api/tickets/{ticket}/scheduled-replies/999999/send-now/",
        API_NO_SUCH_SCHEDULED,
        api=True,
    ),
    row("GET", "/api/tickets/{ticket}/notes/", API_READ, api=True),
    row("POST", "/api/tickets/{ticket}/notes/", API_CREATE, {"body": "Internal"}, api=True),
    row("POST", "/api/tickets/{ticket}/assign/", API_WORK, {"assignee": "{user}"}, api=True),
    row(
        "POST",
        "/api/tickets/{ticket}/escalate/",
        {"Admin": 400, "Manager": 400, "Agent": 400, "Viewer": 403, "anonymous": ANON_API},
        {"reason": "No target given"},
        api=True,
    ),
    row("GET", "/api/tickets/{ticket}/handoffs/", API_READ, api=True),
    row(
        "POST",
        "/api/tickets/{ticket}/handoffs/",
        {"Admin": 201, "Manager": 201, "Agent": 400, "Viewer": 403, "anonymous": ANON_API},
        {"to_agent": "{user}", "reason": "Shift ends"},
        api=True,
    ),
    row("POST", "/api/tickets/{ticket}/merge/", API_MERGE_SELF, {"into": "{ticket}"}, api=True),
    row(
        "POST",
        "/api/tickets/bulk/",
        API_WORK,
        {"tickets": ["{ticket}"], "action": "status", "status": "pending"},
        api=True,
    ),
    row("GET", "/api/customers/?q=example", API_READ, api=True),
    row("GET", "/api/customers/{customer}/", API_READ, api=True),
    row(
        "POST",
        "/api/customers/{customer}/merge/",
        API_MERGE_SELF,
        {"source": "{customer}"},
        api=True,
    ),
    row("GET", "/api/saved-replies/", API_WORK, api=True),
    row(
        "POST",
        "/api/saved-replies/",
        {"Admin": 201, "Manager": 201, "Agent": 403, "Viewer": 403, "anonymous": ANON_API},
        {"title": "Matrix", "body": "Hi {{customer_first_name}}"},
        api=True,
    ),
]
