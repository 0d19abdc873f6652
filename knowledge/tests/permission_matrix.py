"""Knowledge rows of the project-wide permission matrix (collected by test_permission_matrix.py)."""

EVERY_STAFF = {"Admin": 200, "Manager": 200, "Agent": 200, "Viewer": 200, "anonymous": 302}
EVERY_STAFF_API = {
    "Admin": 200,
    "Manager": 200,
    "Agent": 200,
    "Viewer": 200,
    "anonymous": [401, 403],
}


def row(method: str, path: str, expect: dict, data: dict | None = None, api: bool = False):
    return {"method": method, "path": path, "expect": expect, "data": data, "api": api}


ROWS = [
    row("GET", "/knowledge/", EVERY_STAFF),
    row("GET", "/knowledge/?q=business+cards&mode=lexical", EVERY_STAFF),
    row("GET", "/knowledge/suggestions/?ticket={ticket}", EVERY_STAFF),
    row("GET", "/api/knowledge/search/?q=cards&mode=lexical", EVERY_STAFF_API, api=True),
]
ROWS.append(
    # Product 0 does not exist: whoever may reply gets past the permission check to the 404.
    row(
        "POST",
        "/knowledge/suggestions/used/",
        {"Admin": 404, "Manager": 404, "Agent": 404, "Viewer": 403, "anonymous": 302},
        data={"ticket": "{ticket}", "product": "0"},
    )
)
