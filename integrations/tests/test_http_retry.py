"""The provider HTTP base: a timeout on every call, retries for idempotent calls, Retry-After."""

import pytest
from werkzeug import Response

from integrations.http_retry import ProviderHttpClient, ProviderUnreachable
from integrations.perp.client import PerpClient, PerpUnavailable


def perp(httpserver, retry) -> PerpClient:
    return PerpClient(base_url=httpserver.url_for("/"), api_key="k", retry=retry)


def test_retry_after_is_honoured_on_an_idempotent_call(httpserver, retry, sleeps):
    httpserver.expect_ordered_request("/health").respond_with_response(
        Response("busy", status=503, headers={"Retry-After": "2"})
    )
    httpserver.expect_ordered_request("/health").respond_with_json({"version": "1"})
    assert perp(httpserver, retry).test_connection().ok
    assert sleeps == [2.0]


def test_a_long_retry_after_is_left_to_the_task(httpserver, retry, sleeps):
    httpserver.expect_request("/customers/C1").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "120"})
    )
    with pytest.raises(PerpUnavailable, match="429"):
        perp(httpserver, retry).get_customer("C1")
    assert sleeps == [] and len(httpserver.log) == 1


def test_a_non_idempotent_call_is_sent_once(httpserver, retry, sleeps):
    httpserver.expect_request("/artwork/A1/approve", method="POST").respond_with_data(
        "down", status=503
    )
    with pytest.raises(PerpUnavailable):
        perp(httpserver, retry).approve_proof("A1", approved_by="ana")
    assert sleeps == [] and len(httpserver.log) == 1


def test_every_call_carries_the_timeout_and_transport_errors_are_typed(retry, sleeps):
    client = ProviderHttpClient(base_url="http://127.0.0.1:9", retry=retry, timeout=(1.0, 2.0))
    seen = []
    real_get = client.session.get

    def spy(url, **kwargs):
        seen.append(kwargs["timeout"])
        return real_get(url, **kwargs)

    client.session.get = spy
    with pytest.raises(ProviderUnreachable, match="ConnectionError") as caught:
        client.request("GET", "/anything", idempotent=True)  # nothing listens on port 9
    assert caught.value.code == "unreachable"
    assert seen == [(1.0, 2.0)] * 3 and sleeps == [0.5, 1.0]
