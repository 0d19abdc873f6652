"""Deterministic demo data behind the fake providers.

Demo customer N is `demo.customer.N@example.com` / `+4477009NNNNN` (helpdesk seed_demo). Each
has 1-3 Shopify orders named #1001.. (three numbers reserved per customer), the same orders in
PERP as PD-ORD-10001.., production jobs per line item, artwork with proof states, an invoice per
order and a VIP wallet. Everything derives from N, so tests and demos see the same data.
"""

import io
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from pypdf import PdfWriter
from pypdf.generic import RectangleObject

MAX_CUSTOMERS = 500
EMAIL = re.compile(r"^demo\.customer\.(\d+)@example\.com$", re.IGNORECASE)
PHONE = re.compile(r"^\+4477009(\d{5})$")
STAGES = ["prepress", "printing", "finishing", "packing", "shipped"]
TIERS = ["Silver", "Gold", "Platinum"]


@cache
def catalog() -> list[dict[str, Any]]:
    path = Path(settings.BASE_DIR) / "fixtures" / "shopify-products.json"
    return json.loads(path.read_text())["products"]


def large_catalog(size: int) -> list[dict[str, Any]]:
    """`size` distinct products (REST shape) cycling through the demo catalog, two variants and
    one image each: a big shop for bulk-sync tests without a big fixture file."""
    base = catalog()
    products = []
    for i in range(size):
        model = base[i % len(base)]
        pid = 8_800_000_000_000 + i
        products.append(
            {
                **model,
                "id": pid,
                "title": f"{model['title']} #{i}",
                "handle": f"{model['handle']}-{i}",
                "variants": [
                    {**v, "id": pid * 10 + k, "sku": f"{v.get('sku') or 'SKU'}-{i}"}
                    for k, v in enumerate(model["variants"][:2])
                ],
                "images": [
                    {**img, "id": pid * 10 + k} for k, img in enumerate(model["images"][:1])
                ],
            }
        )
    return products


def anchor() -> datetime:
    """Midnight UTC today: dates stay 'recent' and are stable within a day."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def customer_number(*, email: str = "", phone: str = "") -> int | None:
    match = EMAIL.match(email.strip()) if email else PHONE.match(phone.strip()) if phone else None
    if match is None:
        return None
    n = int(match.group(1))
    return n if 1 <= n <= MAX_CUSTOMERS else None


def order_count(n: int) -> int:
    return 1 + n % 3


def order_numbers(n: int) -> list[int]:
    """Newest first."""
    first = 1001 + 3 * (n - 1)
    return [first + k for k in reversed(range(order_count(n)))]


def owner_of_order(number: int) -> int | None:
    n = (number - 1001) // 3 + 1
    if 1 <= n <= MAX_CUSTOMERS and number in order_numbers(n):
        return n
    return None


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def line_items(number: int) -> list[dict[str, Any]]:
    products = catalog()
    items = []
    for i in range(1 + number % 2):
        product = products[(number * 7 + i * 13) % len(products)]
        variant = product["variants"][(number + i) % len(product["variants"])]
        items.append(
            {
                "title": product["title"],
                "quantity": 1 + (number + i) % 3,
                "sku": variant.get("sku") or "",
                "variant_title": variant.get("title") or "",
                "price": Decimal(str(variant["price"])),
            }
        )
    return items


def order_facts(number: int) -> dict[str, Any]:
    """The shared truth about one order, from which both providers' shapes are built."""
    n = owner_of_order(number)
    assert n is not None
    k = order_numbers(n).index(number)  # 0 = newest
    created = anchor() - timedelta(days=2 + 9 * k + n % 5, hours=number % 12)
    items = line_items(number)
    total = sum((i["price"] * i["quantity"] for i in items), Decimal("0"))
    # The newest order is somewhere before "shipped"; older ones have shipped.
    stage = STAGES[n % 4] if k == 0 else "shipped"
    return {
        "n": n,
        "k": k,
        "number": number,
        "created_at": created,
        "items": items,
        "total": total,
        "stage": stage,
        "is_paid": k > 0 or n % 4 == 1,
        "is_overdue": k == 0 and n % 4 == 0,
        "tracking": f"1Z999AA1{number:010d}" if stage == "shipped" else "",
    }


# Shopify (Admin GraphQL shapes) ------------------------------------------------------------------


def shopify_customer_id(n: int) -> int:
    return 6_000_000_000 + n


def shopify_customer(n: int) -> dict[str, Any]:
    numbers = order_numbers(n)
    spent = sum((order_facts(x)["total"] for x in numbers), Decimal("0"))
    return {
        "id": f"gid://shopify/Customer/{shopify_customer_id(n)}",
        "displayName": f"Demo Customer {n}",
        "firstName": "Demo",
        "lastName": f"Customer {n}",
        "state": "ENABLED",
        "tags": ["vip"] if n % 3 == 2 else [],
        "createdAt": _iso(anchor() - timedelta(days=400 + n)),
        "updatedAt": _iso(anchor() - timedelta(days=n % 30)),
        "numberOfOrders": str(len(numbers)),
        "defaultEmailAddress": {"emailAddress": f"demo.customer.{n}@example.com"},
        "defaultPhoneNumber": {"phoneNumber": f"+4477009{n:05d}"},
        "amountSpent": {"amount": str(spent), "currencyCode": "USD"},
    }


def shopify_order(number: int) -> dict[str, Any]:
    f = order_facts(number)
    shipped = f["stage"] == "shipped"
    return {
        "id": f"gid://shopify/Order/{5_000_000_000 + number}",
        "name": f"#{number}",
        "createdAt": _iso(f["created_at"]),
        "updatedAt": _iso(f["created_at"] + timedelta(days=1)),
        "cancelledAt": None,
        "statusPageUrl": f"https://printdesk-demo.myshopify.com/orders/{number}/status",
        "displayFinancialStatus": "PAID" if f["is_paid"] else "PENDING",
        "displayFulfillmentStatus": "FULFILLED" if shipped else "UNFULFILLED",
        "customer": {"id": f"gid://shopify/Customer/{shopify_customer_id(f['n'])}"},
        "totalPriceSet": {"shopMoney": {"amount": str(f["total"]), "currencyCode": "USD"}},
        "lineItems": {
            "nodes": [
                {
                    "title": i["title"],
                    "quantity": i["quantity"],
                    "sku": i["sku"],
                    "variantTitle": i["variant_title"],
                }
                for i in f["items"]
            ]
        },
        "fulfillments": [
            {
                "status": "SUCCESS",
                "trackingInfo": [
                    {
                        "company": "UPS",
                        "number": f["tracking"],
                        "url": f"https://www.ups.com/track?tracknum={f['tracking']}",
                    }
                ],
            }
        ]
        if shipped
        else [],
    }


def shopify_product(product: dict[str, Any]) -> dict[str, Any]:
    """A catalog product (REST shape) as the Admin GraphQL `Product` node."""
    names = [o["name"] for o in product.get("options") or []]
    return {
        "id": f"gid://shopify/Product/{product['id']}",
        "title": product["title"],
        "handle": product["handle"],
        "productType": product.get("product_type") or "",
        "vendor": product.get("vendor") or "",
        "tags": [t.strip() for t in (product.get("tags") or "").split(",") if t.strip()],
        "descriptionHtml": product.get("body_html") or "",
        "status": (product.get("status") or "active").upper(),
        "updatedAt": product.get("updated_at"),
        "variants": {
            "nodes": [
                {
                    "id": f"gid://shopify/ProductVariant/{v['id']}",
                    "title": v.get("title") or "",
                    "sku": v.get("sku") or "",
                    "price": str(v.get("price") or ""),
                    "selectedOptions": [
                        {"name": name, "value": v.get(f"option{i + 1}")}
                        for i, name in enumerate(names)
                        if v.get(f"option{i + 1}")
                    ],
                }
                for v in product.get("variants") or []
            ]
        },
        "media": {
            "nodes": [
                {
                    "__typename": "MediaImage",
                    "id": f"gid://shopify/MediaImage/{i['id']}",
                    "image": {"url": i.get("src") or "", "altText": i.get("alt")},
                }
                for i in product.get("images") or []
            ]
        },
    }


# PERP (docs/perp-api.md shapes) ------------------------------------------------------------------


def perp_customer_id(n: int) -> str:
    return f"CUST-{n:05d}"


def perp_order_id(number: int) -> str:
    return f"ord_{number}"


def perp_order_number(number: int) -> str:
    return f"PD-ORD-{10000 + number - 1000}"


def perp_number_to_shopify(perp_number: str) -> int | None:
    match = re.fullmatch(r"PD-ORD-(\d{5,})", perp_number)
    return int(match.group(1)) - 9000 if match else None


def perp_customer(n: int) -> dict[str, Any]:
    return {
        "id": perp_customer_id(n),
        "email": f"demo.customer.{n}@example.com",
        "phone": f"+4477009{n:05d}",
        "name": f"Demo Customer {n}",
        "company": f"Demo Co {n}" if n % 2 else "",
        "created_at": _iso(anchor() - timedelta(days=400 + n)),
    }


def perp_wallet(n: int) -> dict[str, Any]:
    return {
        "customer_id": perp_customer_id(n),
        "tier": TIERS[n % 3],
        "balance": f"{(n * 37) % 250}.50",
        "currency": "USD",
        "points": n * 120,
        "updated_at": _iso(anchor() - timedelta(days=n % 7)),
        "recent_transactions": [
            {
                "id": f"wtx_{n}_1",
                "amount": "-15.00",
                "description": f"Applied to {perp_order_number(order_numbers(n)[-1])}",
                "created_at": _iso(anchor() - timedelta(days=20 + n % 5)),
            }
        ],
    }


def perp_order(number: int) -> dict[str, Any]:
    f = order_facts(number)
    status = "completed" if f["stage"] == "shipped" else "in_production"
    return {
        "id": perp_order_id(number),
        "number": perp_order_number(number),
        "customer_id": perp_customer_id(f["n"]),
        "status": status,
        "total": str(f["total"]),
        "currency": "USD",
        "created_at": _iso(f["created_at"]),
        "due_at": _iso(f["created_at"] + timedelta(days=7)),
        "shopify_order_name": f"#{number}",
    }


def perp_production(number: int) -> dict[str, Any]:
    f = order_facts(number)
    jobs = []
    for i, item in enumerate(f["items"]):
        stage = f["stage"] if i == 0 else STAGES[max(STAGES.index(f["stage"]) - 1, 0)]
        jobs.append(
            {
                "id": f"job_{number}_{i + 1}",
                "name": item["title"],
                "stage": stage,
                "status": "done" if stage == "shipped" else "in_progress",
                "quantity": item["quantity"],
                "updated_at": _iso(f["created_at"] + timedelta(days=1)),
                "estimated_ready_at": _iso(f["created_at"] + timedelta(days=5)),
            }
        )
    return {
        "order_id": perp_order_id(number),
        "status": f["stage"],
        "jobs": jobs,
        "updated_at": _iso(f["created_at"] + timedelta(days=1)),
    }


def perp_artwork_list(number: int, base_url: str) -> list[dict[str, Any]]:
    f = order_facts(number)
    artwork = []
    for i, item in enumerate(f["items"]):
        art_id = f"art_{number}_{i + 1}"
        pending = f["k"] == 0 and f["stage"] == "prepress"
        state = "pending" if pending else "changes_requested" if f["n"] % 7 == 0 else "approved"
        artwork.append(
            {
                "id": art_id,
                "order_id": perp_order_id(number),
                "file_name": f"{item['sku'] or 'artwork'}-v{1 + i}.pdf",
                "proof_status": state,
                "version": 1 + i,
                "thumbnail_url": f"{base_url}/artwork/{art_id}/thumbnail.svg",
                "file_url": f"{base_url}/artwork/{art_id}/file.pdf",
                "proof_url": f"{base_url}/artwork/{art_id}/proof",
                "note": "Please enlarge the logo." if state == "changes_requested" else "",
                "updated_at": _iso(f["created_at"] + timedelta(hours=6)),
            }
        )
    return artwork


def perp_invoice(number: int) -> dict[str, Any]:
    f = order_facts(number)
    issued = f["created_at"] + timedelta(hours=1)
    if f["is_paid"]:
        status, due, paid_at = "paid", Decimal("0"), _iso(issued + timedelta(days=1))
    else:
        status, due, paid_at = ("overdue" if f["is_overdue"] else "open"), f["total"], None
    due_at = issued + (timedelta(days=-1) if f["is_overdue"] else timedelta(days=14))
    return {
        "id": f"inv_{number}",
        "number": f"INV-{number}",
        "customer_id": perp_customer_id(f["n"]),
        "order_id": perp_order_id(number),
        "status": status,
        "total": str(f["total"]),
        "amount_due": str(due),
        "currency": "USD",
        "issued_at": _iso(issued),
        "due_at": _iso(due_at),
        "paid_at": paid_at,
    }


def thumbnail_svg(artwork_id: str) -> str:
    hue = sum(artwork_id.encode()) % 360
    label = artwork_id.replace("&", "").replace("<", "")[:18]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="64" viewBox="0 0 96 64">'
        f'<rect width="96" height="64" fill="hsl({hue},60%,80%)"/>'
        f'<text x="48" y="36" font-size="9" text-anchor="middle" font-family="sans-serif">'
        f"{label}</text></svg>"
    )


@cache
def artwork_pdf(artwork_id: str) -> bytes:
    """A one-page A5 print file with 3 mm bleed (TrimBox inside the MediaBox), as PERP sends."""
    mm = 72 / 25.4
    bleed, width, height = 3 * mm, 148 * mm, 210 * mm
    writer = PdfWriter()
    page = writer.add_blank_page(width=width + 2 * bleed, height=height + 2 * bleed)
    page.trimbox = RectangleObject([bleed, bleed, bleed + width, bleed + height])
    page.bleedbox = page.mediabox
    writer.add_metadata({"/Title": f"Artwork {artwork_id}"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
