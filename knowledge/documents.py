"""What the search indexes see of a product.

The keyword index gets three weighted fields (title > keywords > body). The sentence model gets
several short passages per product instead of one long text: a question about one detail ("opens
flat on the counter") matches the passage that says it, not an average of the whole page, and a
product's score is its best passage (max-sim).
"""

import re
from dataclasses import dataclass

from knowledge.models import ProductKnowledge

PASSAGE_WORDS = 60  # all-MiniLM-L6-v2 reads 256 word pieces; shorter passages stay focused
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class ProductDocument:
    title: str
    keywords: str  # type, tags and vendor
    body: str  # description, variant options, SKUs and staff notes
    passages: tuple[str, ...]

    @property
    def search_text(self) -> str:
        return "\n".join(p for p in (self.title, self.keywords, self.body) if p)


def _option_values(product: ProductKnowledge) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for variant in product.variants:
        for name, value in (variant.get("options") or {}).items():
            seen = values.setdefault(name, [])
            if value not in seen:
                seen.append(value)
    return values


def _chunks(text: str) -> list[str]:
    """Paragraphs, long ones cut at sentence ends into pieces of about PASSAGE_WORDS words."""
    chunks = []
    for paragraph in (line.strip() for line in text.splitlines()):
        current: list[str] = []
        for sentence in _SENTENCE_RE.split(paragraph):
            if current and len(" ".join([*current, sentence]).split()) > PASSAGE_WORDS:
                chunks.append(" ".join(current))
                current = []
            current.append(sentence)
        if current and " ".join(current).strip():
            chunks.append(" ".join(current))
    return chunks


def build_document(*, product: ProductKnowledge, notes: list[str]) -> ProductDocument:
    options = _option_values(product)
    option_text = "\n".join(f"{name}: {', '.join(values)}" for name, values in options.items())
    keywords = "\n".join(
        p for p in (product.product_type, ", ".join(product.tags), product.vendor) if p
    )
    skus = " ".join(v.get("sku") or "" for v in product.variants).strip()
    body = "\n".join(p for p in (product.description_text, option_text, skus, *notes) if p)
    headline = " - ".join(p for p in (product.title, product.product_type) if p)
    passages = [headline + (f". Good for: {', '.join(product.tags)}." if product.tags else ".")]
    passages += [f"{product.title}: {chunk}" for chunk in _chunks(product.description_text)]
    if option_text:
        passages.append(f"{product.title} options. " + option_text.replace("\n", ". "))
    passages += [f"{product.title}: {chunk}" for note in notes for chunk in _chunks(note)]
    return ProductDocument(
        title=product.title,
        keywords=keywords,
        body=body,
        passages=tuple(passages),
    )
