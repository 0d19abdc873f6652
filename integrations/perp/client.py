"""PERP (the shop's production ERP) REST client. The contract is docs/perp-api.md.

No database access here; callers decide what to store.
"""

import logging
import time
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from django.conf import settings

from integrations.clients import ProviderUnavailable
from integrations.http_retry import (
    CodedProviderError,
    ProviderHttpClient,
    ProviderNotConfigured,
    RetryPolicy,
)
from integrations.perp.types import (
    Artwork,
    ArtworkFile,
    ConnectionCheck,
    Invoice,
    InvoicePage,
    OrderPage,
    PerpCustomer,
    PerpOrder,
    ProductionStatus,
    VipWallet,
)
from integrations.records import RecordError, from_jsonable

logger = logging.getLogger(__name__)
T = TypeVar("T")


class PerpError(CodedProviderError):
    provider = "perp"


class PerpUnavailable(PerpError, ProviderUnavailable):
    """Retryable: timeout, connection refused, 429 or 5xx after the retries."""

    default_code = "unavailable"


class PerpNotConfigured(PerpError, ProviderNotConfigured):
    pass


class PerpNotFound(PerpError):
    default_code = "not_found"


class PerpAuthFailed(PerpError):
    default_code = "auth_failed"


class PerpBadResponse(PerpError):
    """PERP answered something we cannot use: a 4xx we did not expect, bad JSON, wrong shape."""

    default_code = "bad_response"


class PerpClient(ProviderHttpClient):
    timeout = (3.05, 10)
    unavailable = PerpUnavailable

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> None:
        if not base_url:
            raise PerpNotConfigured("PERP is not configured (PERP_API_URL is empty).")
        headers = {"Accept": "application/json", "User-Agent": "Printdesk/1.0"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        super().__init__(base_url=base_url, headers=headers, retry=retry, timeout=timeout)

    @classmethod
    def from_settings(
        cls, *, retry: RetryPolicy | None = None, timeout: tuple[float, float] | None = None
    ) -> "PerpClient":
        return cls(
            base_url=settings.PERP_API_URL,
            api_key=settings.PERP_API_KEY,
            retry=retry,
            timeout=timeout,
        )

    @staticmethod
    def is_configured() -> bool:
        return bool(settings.PERP_API_URL)

    # Customers -----------------------------------------------------------------------------

    def search_customer_by_email(self, email: str) -> PerpCustomer | None:
        return self._first(PerpCustomer, self._get("/customers", params={"email": email}))

    def search_customer_by_phone(self, phone: str) -> PerpCustomer | None:
        return self._first(PerpCustomer, self._get("/customers", params={"phone": phone}))

    def get_customer(self, customer_id: str) -> PerpCustomer:
        return self._parse(PerpCustomer, self._get(f"/customers/{_seg(customer_id)}"))

    def get_vip_wallet(self, customer_id: str) -> VipWallet:
        return self._parse(VipWallet, self._get(f"/customers/{_seg(customer_id)}/wallet"))

    # Orders and production -----------------------------------------------------------------

    def get_order(self, order_id: str) -> PerpOrder:
        return self._parse(PerpOrder, self._get(f"/orders/{_seg(order_id)}"))

    def search_order_by_number(self, number: str) -> PerpOrder | None:
        return self._first(PerpOrder, self._get("/orders", params={"number": number}))

    def get_customer_orders(
        self, customer_id: str, *, limit: int = 10, offset: int = 0
    ) -> OrderPage:
        data = self._get(
            f"/customers/{_seg(customer_id)}/orders", params={"limit": limit, "offset": offset}
        )
        return self._parse(OrderPage, data)

    def get_production_status(self, order_id: str) -> ProductionStatus:
        return self._parse(ProductionStatus, self._get(f"/orders/{_seg(order_id)}/production"))

    def get_artwork(self, artwork_id: str) -> Artwork:
        return self._parse(Artwork, self._get(f"/artwork/{_seg(artwork_id)}"))

    def get_order_artwork(self, order_id: str) -> list[Artwork]:
        data = self._get(f"/orders/{_seg(order_id)}/artwork")
        return [self._parse(Artwork, item) for item in self._results(data)]

    def get_artwork_file(self, artwork_id: str, *, max_bytes: int) -> ArtworkFile:
        """The artwork's print file (PDF/PNG/JPEG bytes); larger than `max_bytes` is refused."""
        path = f"/artwork/{_seg(artwork_id)}/file"
        response = self.request(
            "GET",
            path,
            idempotent=True,
            headers={"Accept": "application/pdf, image/*"},
            stream=True,
        )
        with response:
            if response.status_code >= 400:
                self._json(response, path)
            content = bytearray()
            try:
                for chunk in response.iter_content(chunk_size=64 * 1024):
                    content += chunk
                    if len(content) > max_bytes:
                        raise PerpBadResponse(f"The artwork file is over {max_bytes} bytes.")
            except requests.RequestException as exc:
                raise PerpUnavailable(f"The artwork download broke off on {path}.") from exc
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return ArtworkFile(content=bytes(content), content_type=content_type)

    def approve_proof(self, artwork_id: str, *, approved_by: str, note: str = "") -> Artwork:
        """Not retried: a POST that timed out may have been applied; the caller decides."""
        data = self._post(
            f"/artwork/{_seg(artwork_id)}/approve", {"approved_by": approved_by, "note": note}
        )
        return self._parse(Artwork, data)

    def reject_proof(self, artwork_id: str, *, rejected_by: str, reason: str) -> Artwork:
        data = self._post(
            f"/artwork/{_seg(artwork_id)}/reject", {"rejected_by": rejected_by, "reason": reason}
        )
        return self._parse(Artwork, data)

    # Invoices ------------------------------------------------------------------------------

    def get_invoice(self, invoice_id: str) -> Invoice:
        return self._parse(Invoice, self._get(f"/invoices/{_seg(invoice_id)}"))

    def search_invoice_by_number(self, number: str) -> Invoice | None:
        return self._first(Invoice, self._get("/invoices", params={"number": number}))

    def get_customer_invoices(
        self, customer_id: str, *, limit: int = 10, offset: int = 0
    ) -> InvoicePage:
        data = self._get(
            f"/customers/{_seg(customer_id)}/invoices", params={"limit": limit, "offset": offset}
        )
        return self._parse(InvoicePage, data)

    # Health --------------------------------------------------------------------------------

    def test_connection(self) -> ConnectionCheck:
        """Never raises for provider trouble: the admin shows the result as it is."""
        started = time.monotonic()
        try:
            data = self._get("/health")
        except PerpError as exc:
            return ConnectionCheck(ok=False, detail=f"{exc.code}: {exc}")
        latency = int((time.monotonic() - started) * 1000)
        version = data.get("version", "?") if isinstance(data, dict) else "?"
        return ConnectionCheck(ok=True, detail=f"PERP {version}", latency_ms=latency)

    # Transport -----------------------------------------------------------------------------

    def _get(self, path: str, *, params: dict[str, Any] | None = None) -> Any:
        return self._json(self.request("GET", path, idempotent=True, params=params), path)

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        return self._json(self.request("POST", path, idempotent=False, json=payload), path)

    @staticmethod
    def _json(response: requests.Response, path: str) -> Any:
        status = response.status_code
        if status in (401, 403):
            raise PerpAuthFailed(f"PERP refused the API key ({status}) on {path}.")
        if status == 404:
            raise PerpNotFound(f"PERP has no {path}.")
        if status == 429 or status >= 500:
            raise PerpUnavailable(f"PERP answered {status} on {path}.")
        if status >= 400:
            raise PerpBadResponse(f"PERP answered {status} on {path}: {response.text[:200]}")
        try:
            return response.json()
        except ValueError as exc:
            raise PerpBadResponse(f"PERP sent invalid JSON on {path}.") from exc

    @staticmethod
    def _parse(cls: type[T], data: Any) -> T:
        try:
            return from_jsonable(cls, data)
        except RecordError as exc:
            raise PerpBadResponse(f"Unexpected PERP payload: {exc}") from exc

    def _results(self, data: Any) -> list[Any]:
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise PerpBadResponse("Expected an object with a 'results' list.")
        return data["results"]

    def _first(self, cls: type[T], data: Any) -> T | None:
        results = self._results(data)
        return self._parse(cls, results[0]) if results else None


def _seg(value: str) -> str:
    """One URL path segment: ids come from data we do not control."""
    return quote(str(value), safe="")
