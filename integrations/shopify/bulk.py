"""Reassemble products from a bulk operation's JSONL result, one product at a time.

Shopify writes each node of a nested connection on its own line with `__parentId`, after its
parent (client.BULK_PRODUCTS_QUERY: a product line, then its variant and media lines). A product
is complete when the next product line (no `__parentId`) arrives, so the file is read once with
one product in memory. A child line whose parent is not the product being assembled is counted
in `late_lines` and skipped (Shopify's example files never do this; the sync reports it).
"""

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from integrations.shopify.types import ShopifyProduct

logger = logging.getLogger(__name__)


class BulkProductReader:
    def __init__(self, lines: Iterable[dict[str, Any]]) -> None:
        self.lines = lines
        self.late_lines = 0

    def __iter__(self) -> Iterator[ShopifyProduct]:
        current: dict[str, Any] | None = None
        for line in self.lines:
            parent = line.pop("__parentId", None)
            if parent is None:
                if current is not None:
                    yield ShopifyProduct.from_graphql(current)
                current = {**line, "variants": {"nodes": []}, "media": {"nodes": []}}
            elif current is None or parent != current["id"]:
                self.late_lines += 1
                logger.warning("shopify.bulk.late_line parent=%s", parent)
            elif str(line.get("id", "")).startswith("gid://shopify/ProductVariant/"):
                current["variants"]["nodes"].append(line)
            else:
                current["media"]["nodes"].append(line)
        if current is not None:
            yield ShopifyProduct.from_graphql(current)
