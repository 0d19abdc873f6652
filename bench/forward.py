"""`python -m bench.forward`: the two-host benchmark's pieces in the root network namespace.

    router LISTEN --http A,B --ws A,B   deploy/serve_prod.py's router (nginx's stand-in), round
                                        robin over both hosts; prints `route CLIENT UPSTREAM` per
                                        connection so the benchmark knows which host served what
    tcp LISTEN TARGET                   a plain TCP forwarder: Redis, which listens on 127.0.0.1
                                        only, reached by the hosts on the bridge address

Addresses are HOST:PORT. Runs until SIGTERM.
"""

import argparse
import asyncio
import signal
import sys

from deploy.serve_prod import Upstream, pipe, serve_router


def address(text: str) -> Upstream:
    host, _, port = text.rpartition(":")
    return host, int(port)


def addresses(text: str) -> list[Upstream]:
    return [address(part) for part in text.split(",")]


def print_route(client: Upstream, upstream: Upstream) -> None:
    print(f"route {client[0]}:{client[1]} {upstream[0]}:{upstream[1]}", flush=True)


async def serve_tcp(listen: Upstream, target: Upstream) -> None:
    async def handle(client_reader, client_writer):
        try:
            up_reader, up_writer = await asyncio.open_connection(*target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, up_writer), pipe(up_reader, client_writer))

    server = await asyncio.start_server(handle, *listen)
    print(f"forwarding {listen[0]}:{listen[1]} -> {target[0]}:{target[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.forward", description=__doc__)
    kinds = parser.add_subparsers(dest="kind", required=True)
    router = kinds.add_parser("router")
    router.add_argument("listen", type=address)
    router.add_argument("--http", type=addresses, required=True)
    router.add_argument("--ws", type=addresses, required=True)
    tcp = kinds.add_parser("tcp")
    tcp.add_argument("listen", type=address)
    tcp.add_argument("target", type=address)
    options = parser.parse_args(argv)
    if options.kind == "router":
        serving = serve_router(options.listen, options.http, options.ws, on_route=print_route)
    else:
        serving = serve_tcp(options.listen, options.target)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    asyncio.run(serving)


if __name__ == "__main__":
    main(sys.argv[1:])
