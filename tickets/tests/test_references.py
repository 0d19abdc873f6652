import pytest

from tickets.references import (
    OrderReference,
    find_order_references,
    normalize_order_number,
    parse_order_references,
)

SHOP = "shopify"
PERP = "perp"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Where is order #1001?", [("#1001", SHOP)]),
        ("Order#1002 please", [("#1002", SHOP)]),
        ("PD-ORD-10042 and pd-ord-10043", [("PD-ORD-10042", PERP), ("PD-ORD-10043", PERP)]),
        ("is job 4411 printed yet?", [("JOB-4411", PERP)]),
        (
            "Job #4412, job no. 4413, job number 4414",
            [("JOB-4412", PERP), ("JOB-4413", PERP), ("JOB-4414", PERP)],
        ),
        ("our stored form: JOB-4415", [("JOB-4415", PERP)]),
        ("#1001 then PD-ORD-10042 then #1001 again", [("#1001", SHOP), ("PD-ORD-10042", PERP)]),
        ("Re: Banner [PD-1042]", []),  # a ticket reference, not an order
        ("#12 is too short, so is PD-ORD-1234", []),
        ("HTML entity &#8211; and colour #123abc", []),
        ("job_1042_1 is an internal id", []),
        ("", []),
    ],
)
def test_order_references_are_parsed(text, expected):
    assert parse_order_references(text) == [OrderReference(n, s) for n, s in expected]


def test_references_are_found_where_they_stand():
    text = "See job 4411 and PD-ORD-10042."
    assert [(text[start:end], ref.number) for start, end, ref in find_order_references(text)] == [
        ("job 4411", "JOB-4411"),
        ("PD-ORD-10042", "PD-ORD-10042"),
    ]


def test_patterns_come_from_settings(settings):
    settings.PRINTSHOP_ORDER_PATTERNS = [
        {"source": "perp", "pattern": r"\bWO-(?P<number>\d+)\b", "format": "WO-{number}"}
    ]
    assert parse_order_references("Work order WO-77, not #1001") == [OrderReference("WO-77", PERP)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("#1001", ["#1001"]),
        ("1001", ["#1001", "JOB-1001"]),
        (" pd-ord-10042 ", ["PD-ORD-10042"]),
        ("job 4411", ["JOB-4411"]),
        ("", []),
        ("#10\x0001", ["#1001"]),
    ],
)
def test_user_input_is_normalized(value, expected):
    assert normalize_order_number(value) == expected
