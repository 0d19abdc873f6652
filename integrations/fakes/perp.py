"""A fake PERP REST server implementing docs/perp-api.md over the demo data.

Proof approvals and rejections are kept in memory, so a demo can approve a proof and see it.
"""

import re
from typing import Any

from integrations.fakes import demo_data
from integrations.fakes.server import FakeProvider, FakeResponse


def _page(items: list[Any], query: dict[str, str]) -> dict[str, Any]:
    try:
        limit = max(1, min(int(query.get("limit", 10)), 100))
        offset = max(0, int(query.get("offset", 0)))
    except ValueError:
        limit, offset = 10, 0
    return {
        "results": items[offset : offset + limit],
        "count": len(items),
        "limit": limit,
        "offset": offset,
    }


def _number_from_id(value: str, prefix: str) -> int | None:
    match = re.fullmatch(rf"{prefix}(\d+)", value)
    if match and demo_data.owner_of_order(int(match.group(1))):
        return int(match.group(1))
    return None


def _customer_from_id(value: str) -> int | None:
    match = re.fullmatch(r"CUST-(\d{5})", value)
    n = int(match.group(1)) if match else 0
    return n if 1 <= n <= demo_data.MAX_CUSTOMERS else None


class FakePerp(FakeProvider):
    def __init__(self, *, api_key: str = "perp_test", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_key = api_key
        self.proof_overrides: dict[str, dict[str, Any]] = {}
        self.routes = [
            ("GET", r"/health", self.health),
            ("GET", r"/customers", self.search_customers),
            ("GET", r"/customers/(?P<cid>[^/]+)", self.customer),
            ("GET", r"/customers/(?P<cid>[^/]+)/wallet", self.wallet),
            ("GET", r"/customers/(?P<cid>[^/]+)/orders", self.customer_orders),
            ("GET", r"/customers/(?P<cid>[^/]+)/invoices", self.customer_invoices),
            ("GET", r"/orders", self.search_orders),
            ("GET", r"/orders/(?P<oid>[^/]+)", self.order),
            ("GET", r"/orders/(?P<oid>[^/]+)/production", self.production),
            ("GET", r"/orders/(?P<oid>[^/]+)/artwork", self.order_artwork),
            ("GET", r"/artwork/(?P<aid>[^/]+)", self.artwork),
            ("GET", r"/artwork/(?P<aid>[^/]+)/thumbnail.svg", self.thumbnail),
            ("GET", r"/artwork/(?P<aid>[^/]+)/file(?:\.pdf)?", self.artwork_file),
            ("POST", r"/artwork/(?P<aid>[^/]+)/approve", self.approve),
            ("POST", r"/artwork/(?P<aid>[^/]+)/reject", self.reject),
            ("GET", r"/invoices", self.search_invoices),
            ("GET", r"/invoices/(?P<iid>[^/]+)", self.invoice),
        ]

    def handle(self, method, path, query, headers, body) -> FakeResponse:
        for route_method, pattern, view in self.routes:
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                # Thumbnails and file.pdf are what file_url/thumbnail_url hand to browsers.
                if not path.endswith(("thumbnail.svg", "file.pdf")) and (
                    headers.get("Authorization") != f"Bearer {self.api_key}"
                ):
                    return FakeResponse(401, {"error": "invalid API key"})
                return view(query=query, body=body, **match.groupdict())
        return FakeResponse(404, {"error": "not found"})

    def not_found(self) -> FakeResponse:
        return FakeResponse(404, {"error": "not found"})

    # Views ---------------------------------------------------------------------------------

    def health(self, **_):
        return FakeResponse(200, {"status": "ok", "version": "fake-1.0"})

    def search_customers(self, *, query, **_):
        n = demo_data.customer_number(email=query.get("email", ""), phone=query.get("phone", ""))
        return FakeResponse(200, {"results": [demo_data.perp_customer(n)] if n else []})

    def customer(self, *, cid, **_):
        n = _customer_from_id(cid)
        return FakeResponse(200, demo_data.perp_customer(n)) if n else self.not_found()

    def wallet(self, *, cid, **_):
        n = _customer_from_id(cid)
        return FakeResponse(200, demo_data.perp_wallet(n)) if n else self.not_found()

    def customer_orders(self, *, cid, query, **_):
        n = _customer_from_id(cid)
        if not n:
            return self.not_found()
        orders = [demo_data.perp_order(x) for x in demo_data.order_numbers(n)]
        return FakeResponse(200, _page(orders, query))

    def customer_invoices(self, *, cid, query, **_):
        n = _customer_from_id(cid)
        if not n:
            return self.not_found()
        invoices = [demo_data.perp_invoice(x) for x in demo_data.order_numbers(n)]
        return FakeResponse(200, _page(invoices, query))

    def search_orders(self, *, query, **_):
        number = demo_data.perp_number_to_shopify(query.get("number", ""))
        found = number is not None and demo_data.owner_of_order(number)
        return FakeResponse(200, {"results": [demo_data.perp_order(number)] if found else []})

    def order(self, *, oid, **_):
        number = _number_from_id(oid, "ord_")
        return FakeResponse(200, demo_data.perp_order(number)) if number else self.not_found()

    def production(self, *, oid, **_):
        number = _number_from_id(oid, "ord_")
        return FakeResponse(200, demo_data.perp_production(number)) if number else self.not_found()

    def _artwork_for(self, number: int) -> list[dict[str, Any]]:
        items = demo_data.perp_artwork_list(number, self.url)
        return [{**a, **self.proof_overrides.get(a["id"], {})} for a in items]

    def order_artwork(self, *, oid, **_):
        number = _number_from_id(oid, "ord_")
        if not number:
            return self.not_found()
        return FakeResponse(200, {"results": self._artwork_for(number)})

    def _find_artwork(self, aid: str) -> dict[str, Any] | None:
        match = re.fullmatch(r"art_(\d+)_(\d+)", aid)
        if not match or not demo_data.owner_of_order(int(match.group(1))):
            return None
        return next((a for a in self._artwork_for(int(match.group(1))) if a["id"] == aid), None)

    def artwork(self, *, aid, **_):
        found = self._find_artwork(aid)
        return FakeResponse(200, found) if found else self.not_found()

    def thumbnail(self, *, aid, **_):
        if not self._find_artwork(aid):
            return self.not_found()
        return FakeResponse(200, demo_data.thumbnail_svg(aid), content_type="image/svg+xml")

    def artwork_file(self, *, aid, **_):
        if not self._find_artwork(aid):
            return self.not_found()
        return FakeResponse(200, demo_data.artwork_pdf(aid), content_type="application/pdf")

    def approve(self, *, aid, body, **_):
        if not self._find_artwork(aid):
            return self.not_found()
        if not isinstance(body, dict) or not body.get("approved_by"):
            return FakeResponse(422, {"error": "approved_by is required"})
        self.proof_overrides[aid] = {"proof_status": "approved", "note": body.get("note", "")}
        return FakeResponse(200, self._find_artwork(aid))

    def reject(self, *, aid, body, **_):
        if not self._find_artwork(aid):
            return self.not_found()
        if not isinstance(body, dict) or not body.get("reason") or not body.get("rejected_by"):
            return FakeResponse(422, {"error": "rejected_by and reason are required"})
        self.proof_overrides[aid] = {"proof_status": "changes_requested", "note": body["reason"]}
        return FakeResponse(200, self._find_artwork(aid))

    def search_invoices(self, *, query, **_):
        match = re.fullmatch(r"INV-(\d+)", query.get("number", ""))
        number = int(match.group(1)) if match else 0
        found = demo_data.owner_of_order(number)
        return FakeResponse(200, {"results": [demo_data.perp_invoice(number)] if found else []})

    def invoice(self, *, iid, **_):
        number = _number_from_id(iid, "inv_")
        return FakeResponse(200, demo_data.perp_invoice(number)) if number else self.not_found()
