"""Every benchmark runs end to end at tiny sizes, so the suite cannot rot unnoticed.

This checks that each produces figures, not that goals are met (tiny sizes on a busy CI
machine say nothing about performance). Benchmarks whose tools are missing report `not run`.
"""

import os
import shutil

import pytest

from bench.__main__ import DEFAULT_BENCHMARKS, databases, parse_args, run_benchmarks
from bench.core import Sizes, has_gunicorn

pytestmark = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the smoke run uses SQLite files of its own: the SQLite pass covers it",
)


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    lines: list[str] = []
    results = run_benchmarks(
        DEFAULT_BENCHMARKS,
        Sizes.for_smoke(),
        databases(parse_args(["--smoke"]), tmp),
        log=lines.append,
    )
    return results, "\n".join(lines)


def test_no_benchmark_breaks(smoke_results):
    results, log = smoke_results
    broken = [r for r in results if r.figure == "error"]
    assert not broken, f"{broken}\n{log}"


def test_every_benchmark_reports(smoke_results):
    results, _ = smoke_results
    prefixes = {r.benchmark.split(":")[0].split(" ")[0] for r in results}
    assert {
        "data",
        "webhook",
        "inbox",
        "realtime",
        "product",
        "search",
        "peer",
        "analytics",
    } <= prefixes


@pytest.mark.skipif(not has_gunicorn() or not shutil.which("wrk"), reason="needs gunicorn+wrk")
def test_ingest_stores_what_it_accepts(smoke_results):
    results, log = smoke_results
    ceiling = next(r for r in results if r.benchmark.startswith("webhook ingest: ceiling"))
    assert ceiling.figure.endswith("msgs/s") and not ceiling.figure.startswith("0 "), log
