"""Accounts rows of the project-wide permission matrix (collected by test_permission_matrix.py)."""

STAFF_PAGE = {"Admin": 200, "Manager": 200, "Agent": 403, "Viewer": 403, "anonymous": 302}
STAFF_CHANGE = {"Admin": 302, "Manager": 302, "Agent": 403, "Viewer": 403, "anonymous": 302}
ADMIN_ONLY_PAGE = {"Admin": 200, "Manager": 403, "Agent": 403, "Viewer": 403, "anonymous": 302}
ADMIN_ONLY_CHANGE = {"Admin": 302, "Manager": 403, "Agent": 403, "Viewer": 403, "anonymous": 302}
TOKENS_PAGE = {"Admin": 200, "Manager": 200, "Agent": 200, "Viewer": 403, "anonymous": 302}
EVERY_STAFF = {"Admin": 200, "Manager": 200, "Agent": 200, "Viewer": 200, "anonymous": 302}
NEW_AGENT = {"username": "newbie", "email": "newbie@printdesk.test", "roles": ["Agent"]}
NEW_ADMIN = {"username": "newboss", "email": "newboss@printdesk.test", "roles": ["Admin"]}


def row(method: str, path: str, expect: dict, data: dict | None = None, api: bool = False):
    return {"method": method, "path": path, "expect": expect, "data": data, "api": api}


ROWS = [
    row(
        "GET",
        "/accounts/login/",
        {"Admin": 302, "Manager": 302, "Agent": 302, "Viewer": 302, "anonymous": 200},
    ),
    row("GET", "/accounts/password/change/", EVERY_STAFF),
    row(
        "GET",
        "/accounts/password/reset/",
        {"Admin": 200, "Manager": 200, "Agent": 200, "Viewer": 200, "anonymous": 200},
    ),
    row("GET", "/accounts/tokens/", TOKENS_PAGE),
    row("POST", "/accounts/tokens/", TOKENS_PAGE, {"name": "matrix"}),
    row("GET", "/staff/", STAFF_PAGE),
    row("GET", "/staff/new/", STAFF_PAGE),
    row("POST", "/staff/new/", STAFF_CHANGE, NEW_AGENT),
    # Admin is not among a Manager's choices: the form comes back with an error (200).
    row(
        "POST",
        "/staff/new/",
        {"Admin": 302, "Manager": 200, "Agent": 403, "Viewer": 403, "anonymous": 302},
        NEW_ADMIN,
    ),
    row("GET", "/staff/{user}/", STAFF_PAGE),
    row(
        "POST",
        "/staff/{user}/",
        STAFF_CHANGE,
        {"email": "agent@printdesk.test", "roles": ["Agent", "Viewer"]},
    ),
    row("POST", "/staff/{user}/deactivate/", STAFF_CHANGE),
    row("POST", "/staff/{user}/reactivate/", STAFF_CHANGE),
    row("POST", "/staff/{user}/reset-password/", STAFF_CHANGE),
    row("POST", "/staff/{user}/unlock/", STAFF_CHANGE),
    row("POST", "/staff/{admin}/unlock/", ADMIN_ONLY_CHANGE),
    row("GET", "/staff/{admin}/", ADMIN_ONLY_PAGE),
    row("POST", "/staff/{admin}/deactivate/", ADMIN_ONLY_CHANGE),
    row("POST", "/staff/{admin}/reset-password/", ADMIN_ONLY_CHANGE),
    row("GET", "/api/me/", {**EVERY_STAFF, "anonymous": 401}, api=True),
    row(
        "POST",
        "/api/auth/token/",
        {"Admin": 401, "Manager": 401, "Agent": 401, "Viewer": 401, "anonymous": 401},
        {"username": "nobody", "password": "wrong"},
        api=True,
    ),
]

TOKENS_API = {**TOKENS_PAGE, "anonymous": 401}
TOKENS_API_CREATE = {"Admin": 201, "Manager": 201, "Agent": 201, "Viewer": 403, "anonymous": 401}
ROWS += [
    row("GET", "/api/tokens/", TOKENS_API, api=True),
    row("POST", "/api/tokens/", TOKENS_API_CREATE, {"name": "matrix"}, api=True),
]

# Account security (docs/security.md): every signed-in staff member manages their own 2FA and
# sessions; the audit log is read-only in the admin, for Admins only.
EVERY_STAFF_CHANGE = {"Admin": 302, "Manager": 302, "Agent": 302, "Viewer": 302, "anonymous": 302}
ROWS += [
    row("GET", "/accounts/two-factor/", EVERY_STAFF),
    # A wrong code re-renders the set-up page with the error.
    row(
        "POST",
        "/accounts/two-factor/confirm/",
        {"Admin": 400, "Manager": 400, "Agent": 400, "Viewer": 400, "anonymous": 302},
        {"code": "000000"},
    ),
    row("POST", "/accounts/two-factor/disable/", EVERY_STAFF_CHANGE, {"password": "wrong"}),
    row("POST", "/accounts/two-factor/recovery-codes/", EVERY_STAFF_CHANGE, {"password": "x"}),
    # No password step pending: back to the login page.
    row("GET", "/accounts/login/verify/", EVERY_STAFF_CHANGE),
    row("GET", "/accounts/sessions/", EVERY_STAFF),
    # The agent has no 2FA: the reset is refused with a message (302 back to the list).
    row("POST", "/staff/{user}/reset-two-factor/", STAFF_CHANGE),
    row("POST", "/staff/{admin}/reset-two-factor/", ADMIN_ONLY_CHANGE),
    row("POST", "/accounts/sessions/revoke-others/", EVERY_STAFF_CHANGE),
    row(
        "GET",
        "/admin/accounts/auditlogentry/",
        {**ADMIN_ONLY_PAGE, "Manager": 302, "Agent": 302, "Viewer": 302},
    ),
    row(
        "GET",
        "/admin/accounts/auditlogentry/add/",
        {"Admin": 403, "Manager": 302, "Agent": 302, "Viewer": 302, "anonymous": 302},
    ),
]
