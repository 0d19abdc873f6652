"""Typed PERP records. Field names are the wire format (docs/perp-api.md)."""

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

# PERP order numbers: "PD-ORD-" and at least five digits, e.g. PD-ORD-10042.
ORDER_NUMBER = re.compile(r"\bPD-ORD-\d{5,}\b")


@dataclass(frozen=True)
class PerpCustomer:
    id: str
    email: str
    name: str
    phone: str = ""
    company: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class WalletTransaction:
    id: str
    amount: Decimal
    description: str
    created_at: datetime


@dataclass(frozen=True)
class VipWallet:
    customer_id: str
    tier: str
    balance: Decimal
    currency: str
    points: int = 0
    updated_at: datetime | None = None
    recent_transactions: list[WalletTransaction] = field(default_factory=list)


@dataclass(frozen=True)
class PerpOrder:
    id: str
    number: str
    customer_id: str
    status: str
    total: Decimal
    currency: str
    created_at: datetime
    shopify_order_name: str = ""
    due_at: datetime | None = None


@dataclass(frozen=True)
class ProductionJob:
    id: str
    name: str
    stage: str
    status: str
    quantity: int = 0
    updated_at: datetime | None = None
    estimated_ready_at: datetime | None = None


@dataclass(frozen=True)
class ProductionStatus:
    order_id: str
    status: str
    jobs: list[ProductionJob] = field(default_factory=list)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Artwork:
    id: str
    order_id: str
    file_name: str
    proof_status: str
    version: int = 1
    thumbnail_url: str = ""
    file_url: str = ""
    proof_url: str = ""
    note: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ArtworkFile:
    """The bytes of an artwork's print file and the type PERP declared (sniff before trusting)."""

    content: bytes
    content_type: str = ""


@dataclass(frozen=True)
class Invoice:
    id: str
    number: str
    customer_id: str
    status: str
    total: Decimal
    amount_due: Decimal
    currency: str
    issued_at: datetime
    order_id: str = ""
    due_at: datetime | None = None
    paid_at: datetime | None = None

    @property
    def is_paid(self) -> bool:
        return self.status == "paid"


@dataclass(frozen=True)
class OrderPage:
    results: list[PerpOrder]
    count: int
    limit: int
    offset: int


@dataclass(frozen=True)
class InvoicePage:
    results: list[Invoice]
    count: int
    limit: int
    offset: int


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    detail: str
    latency_ms: int = 0
