"""Role-by-URL matrix: every app's `tests/permission_matrix.py` ROWS, each checked for every role.

The expectations are data (see accounts/tests/matrix.py); docs/permissions.md is the same
matrix in prose.
"""

import json

import pytest

from accounts.tests.matrix import ANONYMOUS, ROLES, build_world, collect_rows

ROWS = collect_rows()
CASES = [
    pytest.param(row, role, id=f"{row['app']}:{row['method']} {row['path']}:{role}")
    for row in ROWS
    for role in row["expect"]
]


def _request(client, row: dict, data):
    method = getattr(client, row["method"].lower())
    if data is None:
        return method(row["path_filled"])
    if row["api"]:
        return method(row["path_filled"], data=json.dumps(data), content_type="application/json")
    return method(row["path_filled"], data=data)


def test_rows_are_collected_and_cover_every_role():
    assert any(row["app"] == "accounts" for row in ROWS)
    for row in ROWS:
        assert set(row["expect"]) == {*ROLES, ANONYMOUS}, row


@pytest.mark.django_db
@pytest.mark.parametrize(("row", "role"), CASES)
def test_permission_matrix(client, row, role):
    world = build_world()
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    row = {**row, "path_filled": world.fill(row["path"])}
    response = _request(client, row, world.fill(row["data"]))
    expected = row["expect"][role]
    allowed = set(expected) if isinstance(expected, list | tuple | set) else {expected}
    assert response.status_code in allowed, (
        f"{role} {row['method']} {row['path_filled']}: {response.status_code}, expected {expected}"
    )
    if row["api"] and response.status_code in (401, 403):
        body = response.json()
        assert {"detail", "code"} <= set(body), body
