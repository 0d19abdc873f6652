"""Data generator: `manage.py bench_data` volume per second on the benchmark database."""

import json

from bench.core import Database, Result, Sizes, ensure_bench_data, volume_record

NAME = "data generator (bench_data)"
GOAL_SECONDS = 600  # 1M tickets + 10M messages (issue 26)
GOAL_ROWS = 1_000_000 * 11


def prepare(sizes: Sizes, dbs: dict[str, Database], *, log) -> None:
    ensure_bench_data(dbs["main"], sizes, log=log)


def run(sizes: Sizes, dbs: dict[str, Database], *, log) -> list[Result]:
    db = dbs["main"]
    seconds = ensure_bench_data(db, sizes, log=log)
    rows = sizes.tickets * (1 + sizes.messages_per_ticket)
    projected = seconds * GOAL_ROWS / rows
    engine = "PostgreSQL" if db.is_postgres else "SQLite"
    record = json.loads(volume_record(db).read_text())
    disk = f", {record['disk_bytes'] / 2**30:.2f} GiB on disk" if "disk_bytes" in record else ""
    return [
        Result(
            NAME,
            f"{sizes.tickets:,} tickets + {sizes.tickets * sizes.messages_per_ticket:,} msgs "
            f"in {seconds:.1f}s ({rows / seconds:,.0f} rows/s){disk}",
            "1M tickets/10M msgs ≤ 10 min",
            projected <= GOAL_SECONDS,
            f"{engine}" + ("" if rows >= GOAL_ROWS else f", projected {projected / 60:.1f} min"),
        )
    ]
