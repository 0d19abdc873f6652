"""`python -m bench.profile PATH [--user U] [--requests N]`: where one page spends its time.

For a benchmark that misses its goal: runs PATH in-process with Django's test client against the
benchmark database (BENCH_DATABASE_URL, default pd_bench) under pyinstrument, and lists the
slowest SQL statements (`--explain`: the plan of the slowest).
Example: `python -m bench.profile "/tickets/?view=all&q=ana" --explain`.
"""

import argparse
import os
import time

import django

from bench.inbox import USERNAME


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("path")
    parser.add_argument("--user", default=USERNAME)
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--htmx", action="store_true", help="send HX-Request: true")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest SQL")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault(
        "DATABASE_URL",
        os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pd_bench"),
    )
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    from accounts.models import User
    from bench.sessions import log_in

    client = Client(headers={"HX-Request": "true"} if args.htmx else None)
    log_in(client, User.objects.get(username=args.user))
    client.get(args.path)  # warm-up
    profiler = Profiler(interval=0.0005)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        profiler.start()
        for _ in range(args.requests):
            status = client.get(args.path).status_code
        profiler.stop()
        elapsed = (time.perf_counter() - started) * 1000 / args.requests
    print(f"{args.path}: {status}, {elapsed:.1f} ms per request, ", end="")
    print(f"{len(queries) // args.requests} queries per request")
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:5]
    for query in slowest:
        print(f"{float(query['time']) * 1000:8.1f} ms  {query['sql'][:400]}")
    if args.explain and slowest and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + slowest[0]["sql"])
            for (line,) in cursor.fetchall():
                print(line[:200])


if __name__ == "__main__":
    main()
