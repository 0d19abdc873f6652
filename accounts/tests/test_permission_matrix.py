"""Role-by-URL matrix: every app's `tests/permission_matrix.py` ROWS, each checked for every role.

The expectations are data (see accounts/tests/matrix.py); docs/permissions.md is the same matrix
in prose. One test per (row, role); the world is built once per run and each test rolls back to
it (TestCase.setUpTestData), which keeps hundreds of cases fast.
"""

import json
import re

from django.test import TestCase

from accounts.tests.matrix import ANONYMOUS, ROLES, build_world, collect_rows

ROWS = collect_rows()


class PermissionMatrixTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.world = build_world()

    def test_rows_are_collected_and_cover_every_role(self):
        assert any(row["app"] == "accounts" for row in ROWS)
        for row in ROWS:
            assert set(row["expect"]) == {*ROLES, ANONYMOUS}, row

    def check(self, row: dict, role: str) -> None:
        user = self.world.users[role]
        if user is not None:
            self.client.force_login(user)
        path = self.world.fill(row["path"])
        data = self.world.fill(row["data"])
        method = getattr(self.client, row["method"].lower())
        if data is None:
            response = method(path)
        elif row["api"]:
            response = method(path, data=json.dumps(data), content_type="application/json")
        else:
            response = method(path, data=data)
        expected = row["expect"][role]
        allowed = set(expected) if isinstance(expected, list | tuple | set) else {expected}
        assert response.status_code in allowed, (
            f"{role} {row['method']} {path}: got {response.status_code}, expected {expected}"
        )
        if row["api"] and response.status_code in (401, 403):
            assert {"detail", "code"} <= set(response.json()), response.content


def _add_case(index: int, row: dict, role: str) -> None:
    slug = re.sub(r"[^a-z0-9]+", "_", f"{row['method']} {row['path']}".lower()).strip("_")
    name = f"test_{row['app']}_{index:03d}_{slug}_{role.lower()}"

    def test(self):
        self.check(row, role)

    test.__name__ = name
    setattr(PermissionMatrixTests, name, test)


for _index, _row in enumerate(ROWS):
    for _role in _row["expect"]:
        _add_case(_index, _row, _role)
