"""Run the production topology on one machine, for trying it out (`make serve-prod`).

    gunicorn (HTTP: pages, API, webhooks)      <- everything else
    N daphne (WebSocket)                       <- /ws/
    db_worker per queue (N for realtime, 1 each for default and bulk: core/queues.py)
    a small TCP router on --port standing in for nginx (deploy/nginx.conf in production)

The router reads the first request line of each connection and forwards the whole connection:
/ws/ to a daphne (round robin), anything else to gunicorn. That is exact because gunicorn's sync
workers close the connection after each response (no keep-alive), and browsers open a WebSocket
on a connection of its own. Processes share state through PostgreSQL/SQLite and Redis, so
REDIS_URL must point at a Redis. Ctrl-C stops everything.
"""

import argparse
import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def spawn(name: str, args: list[str], *, niceness: int = 0) -> subprocess.Popen:
    print(f"[serve-prod] starting {name}: {' '.join(args)}", flush=True)
    return subprocess.Popen(  # noqa: S603 (our own fixed command lines)
        args, cwd=ROOT, preexec_fn=(lambda: os.nice(niceness)) if niceness else None
    )


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


Upstream = tuple[str, int]


async def serve_router(
    listen: Upstream,
    http_upstreams: list[Upstream],
    ws_upstreams: list[Upstream],
    *,
    on_route: Callable[[Upstream, Upstream], None] | None = None,
) -> None:
    """Forward each connection on `listen` to the next upstream (round robin): /ws/ to a
    daphne, anything else to a gunicorn. `on_route(client, upstream)` hears every decision."""
    next_http, next_ws = itertools.cycle(http_upstreams), itertools.cycle(ws_upstreams)

    async def handle(client_reader, client_writer):
        try:
            first_line = await client_reader.readline()
        except ConnectionError:
            client_writer.close()
            return
        parts = first_line.split(b" ")
        path = parts[1] if len(parts) > 1 else b"/"
        upstream = next(next_ws) if path.startswith(b"/ws/") else next(next_http)
        if on_route is not None:
            on_route(client_writer.get_extra_info("peername")[:2], upstream)
        try:
            up_reader, up_writer = await asyncio.open_connection(*upstream)
        except OSError:
            client_writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            client_writer.close()
            return
        up_writer.write(first_line)
        await asyncio.gather(pipe(client_reader, up_writer), pipe(up_reader, client_writer))

    server = await asyncio.start_server(handle, *listen)
    print(f"[serve-prod] http://{listen[0]}:{listen[1]}/ (router)", flush=True)
    async with server:
        await server.serve_forever()


# The bulk worker runs at a lower CPU priority (like `Nice=` in its systemd unit): an embedding
# batch saturates every core, and the realtime worker must still get the CPU at once.
BULK_NICENESS = 10


def worker_counts(realtime: int) -> dict[str, int]:
    return {"realtime": realtime, "default": 1, "bulk": 1}


def worker_command(queue: str) -> list[str]:
    """A db_worker for one queue; realtime polls every 0.25 s (its tasks are waited on)."""
    interval = "0.25" if queue == "realtime" else "1"
    return [
        sys.executable,
        "manage.py",
        "db_worker",
        "--queue-name",
        queue,
        "--interval",
        interval,
        "--no-reload",
    ]


def _stop(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the children like Ctrl-C does


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--http-workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--daphne", type=int, default=2)
    parser.add_argument("--http-port", type=int, help="gunicorn's port (default: --port + 1)")
    parser.add_argument(
        "--ws-ports", help="comma list of daphne ports (default: --port + 10, + 11, ...)"
    )
    parser.add_argument(
        "--task-workers",
        type=int,
        default=1,
        help="db_worker processes for the realtime queue (default and bulk get one each)",
    )
    options = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("REDIS_URL is required: the processes reach each other's sockets through Redis.")

    http_port = options.http_port or options.port + 1
    ws_ports = (
        [int(p) for p in options.ws_ports.split(",")]
        if options.ws_ports
        else [options.port + 10 + i for i in range(options.daphne)]
    )
    processes = [
        spawn(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                "--config",
                "deploy/gunicorn.conf.py",
                "helpdesk.wsgi:application",
                "--bind",
                f"127.0.0.1:{http_port}",
                "--workers",
                str(options.http_workers),
            ],
        ),
        *(
            spawn(
                f"daphne {i}",
                [
                    str(BIN / "daphne"),
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(ws_port),
                    "helpdesk.asgi:application",
                ],
            )
            for i, ws_port in enumerate(ws_ports)
        ),
        *(
            spawn(
                f"db_worker {queue} {i}",
                worker_command(queue),
                niceness=BULK_NICENESS if queue == "bulk" else 0,
            )
            for queue, count in worker_counts(options.task_workers).items()
            for i in range(count)
        ),
    ]
    signal.signal(signal.SIGTERM, _stop)
    try:
        asyncio.run(
            serve_router(
                ("127.0.0.1", options.port),
                [("127.0.0.1", http_port)],
                [("127.0.0.1", port) for port in ws_ports],
            )
        )
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        # One deadline for all: a worker finishing a long bulk task must not outlive us.
        deadline = time.monotonic() + 8
        for process in processes:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
