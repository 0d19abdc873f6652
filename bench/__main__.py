"""`python -m bench`: run every benchmark and print benchmark | figure | goal | pass/fail.

Options: `--smoke` (tiny sizes, SQLite, seconds), `--only ingest,inbox,...`, `--update-readme`.
`--only two-hosts` (root only: network namespaces) is never part of a default run.
Full runs use PostgreSQL databases named from BENCH_DATABASE_URL (default pd_bench on
127.0.0.1:5432) and Redis from BENCH_REDIS_URL (default redis://127.0.0.1:6379/13).
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path

from bench.core import CORES, ROOT, SMOKE_ENV, Database, Result, Sizes, smoke_databases

# name -> module in bench/ with `run(sizes, dbs, *, log) -> list[Result]`, in running order.
BENCHMARKS = {
    "data": "bench.data",
    "ingest": "bench.ingest",
    "inbox": "bench.inbox",
    "realtime": "bench.realtime",
    "visitors": "bench.visitors",
    "search": "bench.search",
    "search-quality": "bench.search_quality",
    "peer": "bench.versus_peer",
    "queues": "bench.queues",
    "widget": "bench.widget",
    "analytics": "bench.analytics",
    "two-hosts": "bench.two_hosts",
}
# Run only when named in --only: it needs root (network namespaces), so no default run has it.
ON_REQUEST = {"two-hosts"}
DEFAULT_BENCHMARKS = [name for name in BENCHMARKS if name not in ON_REQUEST]
README = ROOT / "bench" / "README.md"
MARK_START, MARK_END = "<!-- bench:results -->", "<!-- /bench:results -->"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes on SQLite, in seconds")
    parser.add_argument("--only", default="", help=f"comma list of {', '.join(BENCHMARKS)}")
    parser.add_argument("--tickets", type=int)
    parser.add_argument("--messages-per-ticket", type=int)
    parser.add_argument("--products", type=int)
    parser.add_argument("--ws-clients", type=int, help="staff sockets (fan-out)")
    parser.add_argument("--ws-rate", type=float, help="typing frames per second (fan-out)")
    parser.add_argument("--ws-frames", type=int, help="typing frames per measurement (fan-out)")
    parser.add_argument("--visitors", type=int, help="web-chat visitor sockets")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--seconds", type=float, help="one load measurement (max 30)")
    parser.add_argument(
        "--prepare", action="store_true", help="only generate/load the data the run needs"
    )
    parser.add_argument("--update-readme", action="store_true", help="write the table to README")
    return parser.parse_args(argv)


def make_sizes(args: argparse.Namespace) -> Sizes:
    sizes = Sizes.for_smoke() if args.smoke else Sizes()
    overrides = {
        "tickets": args.tickets,
        "messages_per_ticket": args.messages_per_ticket,
        "products": args.products,
        "ws_clients": args.ws_clients,
        "ws_rate": args.ws_rate,
        "ws_frames": args.ws_frames,
        "visitors": args.visitors,
        "repeats": args.repeats,
        "seconds": min(args.seconds, 30.0) if args.seconds else None,
    }
    return Sizes(**{**sizes.__dict__, **{k: v for k, v in overrides.items() if v}})


def databases(args: argparse.Namespace, tmp: Path) -> dict[str, Database]:
    """One database per concern, so a benchmark's writes never change another's volume."""
    if args.smoke:
        names = ["main", "ingest", "realtime", "search", "quality", "analytics"]
        return smoke_databases(tmp, names) | {
            "peer": Database(f"sqlite:///{tmp / 'peer.sqlite3'}", SMOKE_ENV)
        }
    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pd_bench")
    return {
        "main": Database(base),
        # The same volume: the analytics benchmark adds logs, surveys and rollups to it, never
        # tickets or messages.
        "analytics": Database(base),
        "ingest": Database(base + "_ingest"),
        "realtime": Database(base + "_ws"),
        "search": Database(base + "_search"),
        "quality_postgres": Database(base + "_quality"),
        "peer": Database(base + "_peer"),
        "queues": Database(base + "_queues"),
        "two_hosts": Database(base + "_hosts"),
        # The embedded default runs on SQLite: a fresh file per run.
        "queues_embedded": Database(f"sqlite:///{tmp / 'queues.sqlite3'}"),
    }


def run_benchmarks(
    names: list[str], sizes: Sizes, dbs: dict[str, Database], *, log, parallel: bool = False
) -> list[Result]:
    """Run the named benchmarks; one that breaks becomes an `error` row.

    Measurements run one after another. `parallel` (smoke runs, where only "does it still work"
    matters) runs `data` first and then the rest at once, each on its own database.
    """

    def one(name: str) -> list[Result]:
        def named_log(line: str) -> None:
            log(f"[{name}] {line.strip()}" if parallel else line)

        if not parallel:
            log(f"[{name}]")
        started = time.perf_counter()
        try:
            results = import_module(BENCHMARKS[name]).run(sizes, dbs, log=named_log)
        except (RuntimeError, OSError, ValueError, subprocess.SubprocessError) as exc:
            results = [Result(name, "error", "-", False, str(exc).splitlines()[0][:200])]
            named_log(f"  error: {exc}")
        named_log(f"  ({time.perf_counter() - started:.1f}s)")
        return results

    if not parallel:
        return [result for name in names for result in one(name)]
    first = [name for name in names if name == "data"]
    rest = [name for name in names if name != "data"]
    results = [result for name in first for result in one(name)]
    with ThreadPoolExecutor(max_workers=max(1, len(rest))) as pool:
        for batch in pool.map(one, rest):
            results.extend(batch)
    return results


def table(results: list[Result]) -> str:
    rows = [("benchmark", "figure", "goal", "result")] + [
        (r.benchmark, r.figure, r.goal, r.verdict + (f" ({r.note})" if r.note else ""))
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    python = sys.version.split()[0]
    return f"{CORES} cores ({cpu}){memory}, Linux {platform.release()}, Python {python}"


def update_readme(text: str) -> None:
    readme = README.read_text()
    start, end = readme.index(MARK_START) + len(MARK_START), readme.index(MARK_END)
    README.write_text(readme[:start] + "\n" + text + "\n" + readme[end:])


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    sizes = make_sizes(args)
    chosen = [n.strip() for n in args.only.split(",") if n.strip()] or DEFAULT_BENCHMARKS
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        print(f"unknown benchmarks: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        dbs = databases(args, Path(tmp))
        if args.prepare:
            for name in chosen:
                module = import_module(BENCHMARKS[name])
                if hasattr(module, "prepare"):
                    log(f"[prepare {name}]")
                    module.prepare(sizes, dbs, log=log)
            return 0
        results = run_benchmarks(chosen, sizes, dbs, log=log, parallel=sizes.smoke)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = "smoke" if sizes.smoke else f"{sizes.tickets:,} tickets"
    header = (
        f"Run {when} ({mode}, {time.perf_counter() - started:.0f}s) on {machine()}; "
        f"load average {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end; "
        f"medians of {sizes.repeats} repeat(s)."
    )
    output = header + "\n\n" + table(results)
    print(output)
    if args.update_readme:
        update_readme(output)
    failed = [r for r in results if r.passed is False]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
