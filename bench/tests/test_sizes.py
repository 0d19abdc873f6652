"""`python -m bench.sizes`: database names per size and the figure-vs-size table."""

from bench.core import Result
from bench.sizes import database_for, size_label, size_table


def test_each_size_has_its_own_database(monkeypatch):
    monkeypatch.setenv("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pdb_x")

    assert [size_label(n) for n in (10_000, 100_000, 1_000_000, 1_500)] == [
        "10k",
        "100k",
        "1m",
        "1500",
    ]
    assert database_for(1_000_000).url.endswith("/pdb_x_1m")


def test_table_has_a_row_per_figure_and_a_column_per_size():
    default = "inbox /tickets/ (default view)"
    columns = {
        10_000: [
            Result(default, "p50 30 ms, p99 40 ms, 7 queries", "g", True, "x; app CPU p50 9.5 ms")
        ],
        1_000_000: [
            Result(default, "p50 90 ms, p99 140 ms, 7 queries", "g", False, "app CPU p50 9.9 ms"),
            Result("data generator (bench_data)", "1,000,000 tickets in 500s", "g", True),
        ],
    }

    table = size_table(columns, {10_000: (1.0, 1.5), 1_000_000: (2.0, 2.5)}).splitlines()

    assert table[0] == "| figure | 10,000 tickets | 1,000,000 tickets |"
    assert table[2] == (
        f"| {default} | p50 30 ms, p99 40 ms, 7 queries; app CPU p50 9.5 ms "
        "| p50 90 ms, p99 140 ms, 7 queries; app CPU p50 9.9 ms **FAIL** |"
    )
    assert table[3] == "| data generator (bench_data) | - | 1,000,000 tickets in 500s |"
    assert table[4] == "| load average (start → end) | 1.0 → 1.5 | 2.0 → 2.5 |"
