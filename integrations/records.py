"""Dataclass <-> JSON for provider records.

The same conversion serves three places: parsing PERP responses (its wire format is our field
names, docs/perp-api.md), the customer-context cache and `Customer.external_data` snapshots, and
the JSON API. Unknown keys are ignored; a missing required key or a bad value raises
`RecordError`.
"""

import dataclasses
import types
import typing
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, TypeVar

from django.utils.dateparse import parse_date, parse_datetime

T = TypeVar("T")


class RecordError(ValueError):
    pass


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_jsonable(cls: type[T], data: Any) -> T:
    """Build `cls` (a dataclass) from JSON data, converting nested records, dates and money."""
    return _convert(cls, data, cls.__name__)


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(args[0], value, where)
    if origin is list:
        if not isinstance(value, list):
            raise RecordError(f"{where}: expected a list")
        (item_type,) = typing.get_args(tp) or (Any,)
        return [_convert(item_type, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise RecordError(f"{where}: expected an object")
        return dict(value)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise RecordError(f"{where}: expected an object")
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in value:
                kwargs[f.name] = _convert(_hints(tp)[f.name], value[f.name], f"{where}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise RecordError(f"{where}: missing '{f.name}'")
        return tp(**kwargs)
    if value is None:
        raise RecordError(f"{where}: must not be null")
    if tp is datetime:
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            raise RecordError(f"{where}: not a date-time")
        return parsed
    if tp is date:
        parsed = parse_date(value) if isinstance(value, str) else None
        if parsed is None:
            raise RecordError(f"{where}: not a date")
        return parsed
    if tp is Decimal:
        try:
            return Decimal(str(value))
        except InvalidOperation as exc:
            raise RecordError(f"{where}: not a number") from exc
    if tp in (str, int, bool, float):
        if tp is str:
            return str(value)
        if tp is bool and not isinstance(value, bool):
            raise RecordError(f"{where}: expected true/false")
        try:
            return tp(value)
        except (TypeError, ValueError) as exc:
            raise RecordError(f"{where}: expected {tp.__name__}") from exc
    return value
