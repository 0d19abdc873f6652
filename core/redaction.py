"""Masking personal values out of text and JSON, for the apps' erasure services (docs/privacy.md).

An erasure hands every app the customer's personal values ("needles": name, emails, phone
numbers, platform ids). Each app finds its rows that mention one (`mentions_any`) and rewrites
them with `mask_text`/`mask_json`, so nothing personal survives while the rest of the row (counts,
times, staff wording around the name) stays.
"""

import json
import operator
import re
from collections.abc import Iterable
from functools import reduce
from typing import Any

from django.db.models import Func, Q, TextField
from django.db.models.functions import Cast
from django.db.models.lookups import IContains

ERASED = "[erased]"


def expand_needles(values: Iterable[str]) -> list[str]:
    """The values as given plus the forms other rows store them in: JSON-escaped (non-ASCII
    names in JSON columns) and, for phone numbers, the digits without `+`."""
    needles: set[str] = set()
    for value in values:
        value = (value or "").strip()
        if len(value) < 3:
            continue
        needles.add(value)
        needles.add(json.dumps(value)[1:-1])
        if value.startswith("+") and value[1:].isdigit():
            needles.add(value[1:])
    return sorted(needles, key=len, reverse=True)


class BytesAsText(Func):
    """A binary column as text, printable bytes as themselves (PostgreSQL's `encode(x, 'escape')`;
    SQLite casts the blob), so an address inside stored raw bytes can be searched for."""

    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="CAST(%(expressions)s AS TEXT)", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="encode(%(expressions)s, 'escape')")


def mentions_any(
    fields: Iterable[str], needles: Iterable[str], *, binary_fields: Iterable[str] = ()
) -> Q:
    """A filter for rows where any of `fields` (text or JSON, cast to text) or `binary_fields`
    (raw bytes) holds any needle."""
    needles = list(needles)
    expressions = [Cast(field, output_field=TextField()) for field in fields]
    expressions += [BytesAsText(field) for field in binary_fields]
    conditions = [Q(IContains(expr, needle)) for expr in expressions for needle in needles]
    return reduce(operator.or_, conditions, Q(pk__in=[]))


def _pattern(needles: Iterable[str]) -> re.Pattern[str] | None:
    """Single words (a first or last name) match whole words only, so erasing "Ann" leaves
    "Announcement" alone; addresses, numbers and full names match anywhere."""
    needles = [n for n in needles if n]
    if not needles:
        return None
    parts = [rf"\b{re.escape(n)}\b" if n.isalpha() else re.escape(n) for n in needles]
    return re.compile("|".join(parts), re.IGNORECASE)


def mask_text(text: str, needles: Iterable[str]) -> str:
    pattern = _pattern(needles)
    return pattern.sub(ERASED, text) if pattern and text else text


def mask_json(value: Any, needles: Iterable[str]) -> Any:
    """Every string (keys included) inside `value` with the needles masked."""
    needles = list(needles)
    if isinstance(value, str):
        return mask_text(value, needles)
    if isinstance(value, list):
        return [mask_json(item, needles) for item in value]
    if isinstance(value, dict):
        return {mask_text(k, needles): mask_json(v, needles) for k, v in value.items()}
    return value
