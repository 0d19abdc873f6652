"""Comms rows of the project-wide permission matrix (collected by the Accounts test).

Reading chat is open to every role; posting needs `comms.post_channel` (not Viewers); creating
channels needs `comms.manage_channels` (Admins and Managers). Posting redirects back to the
channel page (302).
"""

EVERYONE = {"Admin": 200, "Manager": 200, "Agent": 200, "Viewer": 200, "anonymous": 302}
EVERYONE_API = {**EVERYONE, "anonymous": 401}
POSTERS = {"Admin": 302, "Manager": 302, "Agent": 302, "Viewer": 403, "anonymous": 302}
POSTERS_API = {"Admin": 201, "Manager": 201, "Agent": 201, "Viewer": 403, "anonymous": 401}
MANAGERS = {"Admin": 200, "Manager": 200, "Agent": 403, "Viewer": 403, "anonymous": 302}
MANAGERS_API = {"Admin": 201, "Manager": 201, "Agent": 403, "Viewer": 403, "anonymous": 401}

ROWS = [
    {"method": "GET", "path": "/chat/{channel}/", "expect": EVERYONE, "data": None, "api": False},
    {"method": "GET", "path": "/notifications/", "expect": EVERYONE, "data": None, "api": False},
    {"method": "GET", "path": "/chat/new/", "expect": MANAGERS, "data": None, "api": False},
    {
        "method": "POST",
        "path": "/chat/{channel}/post/",
        "expect": POSTERS,
        "data": {"body": "Matrix says hi"},
        "api": False,
    },
    {"method": "GET", "path": "/api/channels/", "expect": EVERYONE_API, "data": None, "api": True},
    {
        "method": "GET",
        "path": "/api/channels/{channel}/messages/",
        "expect": EVERYONE_API,
        "data": None,
        "api": True,
    },
    {
        "method": "POST",
        "path": "/api/channels/{channel}/messages/",
        "expect": POSTERS_API,
        "data": {"body": "Matrix says hi"},
        "api": True,
    },
    {
        "method": "POST",
        "path": "/api/channels/create/",
        "expect": MANAGERS_API,
        "data": {"name": "Matrix room"},
        "api": True,
    },
    {
        "method": "GET",
        "path": "/api/notifications/",
        "expect": EVERYONE_API,
        "data": None,
        "api": True,
    },
]
