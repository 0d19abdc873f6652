"""Data generator: `manage.py bench_data` volume per second on the benchmark database."""

from bench.core import Database, Result, Sizes, ensure_bench_data

NAME = "data generator (bench_data)"
GOAL_SECONDS = 300  # 100k tickets + 1M messages in "a few minutes"
GOAL_ROWS = 100_000 * 11


def prepare(sizes: Sizes, dbs: dict[str, Database], *, log) -> None:
    ensure_bench_data(dbs["main"], sizes, log=log)


def run(sizes: Sizes, dbs: dict[str, Database], *, log) -> list[Result]:
    db = dbs["main"]
    seconds = ensure_bench_data(db, sizes, log=log)
    rows = sizes.tickets * (1 + sizes.messages_per_ticket)
    projected = seconds * GOAL_ROWS / rows
    engine = "PostgreSQL" if db.is_postgres else "SQLite"
    return [
        Result(
            NAME,
            f"{sizes.tickets:,} tickets + {sizes.tickets * sizes.messages_per_ticket:,} msgs "
            f"in {seconds:.1f}s ({rows / seconds:,.0f} rows/s)",
            "100k tickets/1M msgs ≤ 5 min",
            projected <= GOAL_SECONDS,
            f"{engine}" + ("" if rows >= GOAL_ROWS else f", projected {projected / 60:.1f} min"),
        )
    ]
