"""Our permission matrix rows hold on their own (the shared matrix test runs them too)."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from analytics.tests.permission_matrix import ROWS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("row", ROWS, ids=[row["path"] for row in ROWS])
def test_row(row):
    for role, expected in row["expect"].items():
        client = APIClient() if row["api"] else Client()
        if role != "anonymous":
            client.force_login(UserFactory(role=role))
        response = client.generic(row["method"], row["path"])
        assert response.status_code == expected, role
