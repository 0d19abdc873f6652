"""Automation rows of the project-wide permission matrix (see accounts/tests/matrix.py).

Rules, SLA policies, calendars and webhooks are edited in Django admin (Admin role only) and on
the staff pages under /automation/
(`automation.manage_automation`: Admins and Managers; a form posted empty re-renders with its
errors, 200). The ticket's SLA panel and its API follow ticket visibility.
"""

EVERY_STAFF = {"Admin": 200, "Manager": 200, "Agent": 200, "Viewer": 200, "anonymous": 302}
NOT_FOUND = {"Admin": 404, "Manager": 404, "Agent": 404, "Viewer": 404, "anonymous": 302}
API_READ = {"Admin": 200, "Manager": 200, "Agent": 200, "Viewer": 200, "anonymous": [401, 403]}
MANAGERS = {"Admin": 200, "Manager": 200, "Agent": 403, "Viewer": 403, "anonymous": 302}
MANAGERS_NOT_FOUND = {"Admin": 404, "Manager": 404, "Agent": 403, "Viewer": 403, "anonymous": 302}
ADMIN_ONLY = {"Admin": 200, "Manager": 302, "Agent": 302, "Viewer": 302, "anonymous": 302}


def row(method: str, path: str, expect: dict, data: dict | None = None, api: bool = False):
    return {"method": method, "path": path, "expect": expect, "data": data, "api": api}


ROWS = [
    row("GET", "/tickets/{ticket}/sla/", EVERY_STAFF),
    row("GET", "/tickets/PD-0/sla/", NOT_FOUND),
    row("GET", "/api/tickets/{ticket}/sla/", API_READ, api=True),
    row("GET", "/admin/automation/rule/", ADMIN_ONLY),
    row("GET", "/admin/automation/rule/add/", ADMIN_ONLY),
    row("GET", "/admin/automation/webhookendpoint/", ADMIN_ONLY),
    row("GET", "/automation/rules/", MANAGERS),
    row("GET", "/automation/rules/new/", MANAGERS),
    row("POST", "/automation/rules/new/", MANAGERS, data={"name": ""}),
    row("GET", "/automation/rules/0/", MANAGERS_NOT_FOUND),
    row("POST", "/automation/rules/0/deactivate/", MANAGERS_NOT_FOUND, data={}),
    row("POST", "/automation/rules/0/test/", MANAGERS_NOT_FOUND, data={"reference": "{ticket}"}),
    row("GET", "/automation/sla/", MANAGERS),
    row("GET", "/automation/sla/policies/new/", MANAGERS),
    row("POST", "/automation/sla/policies/new/", MANAGERS, data={"name": ""}),
    row("GET", "/automation/sla/policies/0/", MANAGERS_NOT_FOUND),
    row("GET", "/automation/sla/calendars/new/", MANAGERS),
    row("GET", "/automation/sla/calendars/0/", MANAGERS_NOT_FOUND),
    row("GET", "/automation/webhooks/", MANAGERS),
    row("GET", "/automation/webhooks/new/", MANAGERS),
    row("POST", "/automation/webhooks/new/", MANAGERS, data={"name": ""}),
    row("GET", "/automation/webhooks/0/", MANAGERS_NOT_FOUND),
    row("POST", "/automation/webhooks/0/rotate-secret/", MANAGERS_NOT_FOUND, data={}),
    row("POST", "/automation/webhooks/0/test/", MANAGERS_NOT_FOUND, data={}),
]
