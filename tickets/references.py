"""Order references in free text: Shopify `#1001`, PERP `PD-ORD-10042`, production `job 4411`.

The patterns are data (`settings.PRINTSHOP_ORDER_PATTERNS`): each has a `source` (shopify or
perp), a `pattern` with a `number` group and a `format` that turns the group into the stored,
normalized number. Pure functions, no database.
"""

import re
from dataclasses import dataclass

from django.conf import settings

MAX_REFERENCES = 20


@dataclass(frozen=True)
class OrderReference:
    number: str
    source: str


def find_order_references(text: str) -> list[tuple[int, int, OrderReference]]:
    """Every order reference in `text` with where it stands (start, end), in text order.

    Patterns are tried in their settings order and a match overlapping an earlier pattern's is
    dropped, so "job #4411" is job 4411 and not also Shopify order #4411.
    """
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, int, OrderReference]] = []
    for spec in settings.PRINTSHOP_ORDER_PATTERNS:
        for match in re.finditer(spec["pattern"], text or ""):
            start, end = match.span()
            if any(start < other_end and other_start < end for other_start, other_end in taken):
                continue
            taken.append((start, end))
            number = spec["format"].format(number=match.group("number")).upper()
            found.append((start, end, OrderReference(number=number, source=spec["source"])))
    return sorted(found, key=lambda item: item[0])


def parse_order_references(text: str) -> list[OrderReference]:
    """Every order reference in `text`, in the order they appear, each number once."""
    unique = dict.fromkeys(ref for _, _, ref in find_order_references(text))
    return list(unique)[:MAX_REFERENCES]


def normalize_order_number(value: str) -> list[str]:
    """The stored numbers a user's input may mean: `PD-ORD-10042`, or `1001` as #1001/JOB-1001."""
    value = (value or "").replace("\x00", "").strip()[:64]
    parsed = parse_order_references(value)
    if parsed:
        return [parsed[0].number]
    if value.isdigit():
        return [f"#{value}", f"JOB-{value}"]
    return [value.upper()] if value else []
