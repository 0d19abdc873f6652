"""Analytics rows of the project-wide permission matrix (collected by the Accounts test).

The public survey cannot be shown with a real token here (the matrix world has none), so the
row checks that an unknown token is a plain 404 for everyone, signed in or not; the answered,
open and expired cases are in test_views.py.
"""

REPORTS = {"Admin": 200, "Manager": 200, "Agent": 403, "Viewer": 403, "anonymous": 302}
REPORTS_API = {**REPORTS, "anonymous": 401}

ROWS = [
    {"method": "GET", "path": "/analytics/", "expect": REPORTS, "data": None, "api": False},
    {
        "method": "GET",
        "path": "/analytics/?format=csv&table=agents",
        "expect": REPORTS,
        "data": None,
        "api": False,
    },
    *(
        {
            "method": "GET",
            "path": f"/api/analytics/{endpoint}/",
            "expect": REPORTS_API,
            "data": None,
            "api": True,
        }
        for endpoint in ("summary", "agents", "sla-breaches")
    ),
    {
        "method": "GET",
        "path": "/csat/unknown-token/",
        "expect": {"Admin": 404, "Manager": 404, "Agent": 404, "Viewer": 404, "anonymous": 404},
        "data": None,
        "api": False,
    },
]
