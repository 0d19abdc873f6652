"""Error bodies the API fuzzing (e2e/test_api_fuzz.py) found off-schema: kept as regressions."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import UserFactory
from helpdesk.api import flatten_field_errors


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/channels/%C2%BF/messages/"),  # the slug converter refuses it
        ("get", "/api/saved-replies/-1/"),  # the int converter refuses it
        ("post", "/api/no-such-endpoint/"),
        ("get", "/api/channels/a%0Ab/messages/"),  # a newline in the path
    ],
)
def test_an_api_url_no_route_matches_answers_the_json_error(client, method, path):
    response = getattr(client, method)(path)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.django_db
def test_nested_field_errors_keep_the_documented_flat_shape():
    client = APIClient()
    client.force_authenticate(UserFactory(role=Role.ADMIN))

    response = client.post(
        "/api/tickets/bulk/", {"action": "close", "tickets": ["", "PD-1"]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"tickets.0": ["This field may not be blank."]}


def test_flatten_field_errors_names_nested_items_by_path():
    errors = {
        "items": [{}, {"qty": ["Too many."]}],
        "address": {"city": ["Required."]},
        "non_field_errors": ["Pick one."],
    }

    assert flatten_field_errors(errors) == {
        "items.1.qty": ["Too many."],
        "address.city": ["Required."],
        "non_field_errors": ["Pick one."],
    }
    assert flatten_field_errors(["Top-level problem."]) == {
        "non_field_errors": ["Top-level problem."]
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/api/auth/token/", "post", {"400", "401"}),
        ("/api/auth/token/refresh/", "post", {"400", "401", "429"}),
        ("/api/customers/{customer_id}/context/", "get", {"200", "403", "404"}),
    ],
)
def test_the_schema_documents_the_error_statuses_these_operations_answer(
    client, path, method, codes
):
    schema = client.get("/api/schema/?format=json").json()

    assert codes <= set(schema["paths"][path][method]["responses"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "body"),
    [("/api/auth/token/", {"username": "", "password": ""}), ("/api/auth/token/refresh/", {})],
)
def test_token_endpoints_answer_400_for_a_blank_form(path, body):
    response = APIClient().post(path, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
