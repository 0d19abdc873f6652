"""The two-host benchmark's parts that need no root: the router's round robin over hosts, the
network plan, the database URL the hosts use, the signed burst. The run itself needs network
namespaces (root): `python -m bench --only two-hosts`, never in `make test`."""

import asyncio

import environ
from twilio.request_validator import RequestValidator

from bench import two_hosts
from bench.core import Database, Sizes, free_port
from bench.ingest import AUTH_TOKEN, REAL_PATH
from deploy.serve_prod import serve_router


async def _route_four_of_each() -> tuple[list[bytes], list[tuple]]:
    async def upstream(name: bytes):
        async def answer(reader, writer):
            await reader.readline()
            writer.write(name)
            await writer.drain()
            writer.close()

        return await asyncio.start_server(answer, "127.0.0.1", 0)

    servers = {name: await upstream(name) for name in (b"http-a", b"http-b", b"ws-a", b"ws-b")}
    port = {name: server.sockets[0].getsockname()[1] for name, server in servers.items()}
    router_port = free_port()
    decisions = []
    router = asyncio.create_task(
        serve_router(
            ("127.0.0.1", router_port),
            [("127.0.0.1", port[b"http-a"]), ("127.0.0.1", port[b"http-b"])],
            [("127.0.0.1", port[b"ws-a"]), ("127.0.0.1", port[b"ws-b"])],
            on_route=lambda client, upstream: decisions.append(upstream),
        )
    )
    answers = []
    try:
        for path in [b"/tickets/", b"/ws/staff/"] * 4:
            for _ in range(50):
                try:
                    reader, writer = await asyncio.open_connection("127.0.0.1", router_port)
                    break
                except OSError:
                    await asyncio.sleep(0.02)
            writer.write(b"GET " + path + b" HTTP/1.1\r\n\r\n")
            await writer.drain()
            answers.append(await reader.read())
            writer.close()
    finally:
        router.cancel()
        for server in servers.values():
            server.close()
    return answers, decisions


def test_the_router_spreads_requests_and_sockets_over_the_hosts_in_turn():
    answers, decisions = asyncio.run(_route_four_of_each())
    assert answers[0::2] == [b"http-a", b"http-b", b"http-a", b"http-b"]
    assert answers[1::2] == [b"ws-a", b"ws-b", b"ws-a", b"ws-b"]
    assert len(decisions) == 8


def test_each_host_gets_a_namespace_an_address_on_the_bridge_and_short_interface_names():
    hosts = two_hosts.make_hosts()
    commands = two_hosts.setup_commands(hosts)
    assert ["ip", "link", "add", two_hosts.BRIDGE, "type", "bridge"] in commands
    for host in hosts:
        assert ["ip", "netns", "add", host.namespace] in commands
        assert [
            "ip", "netns", "exec", host.namespace,
            "ip", "addr", "add", f"{host.address}/24", "dev", host.veth[:-1] + "1",
        ] in commands  # fmt: skip
    assert len({host.address for host in hosts} | {two_hosts.BRIDGE_ADDRESS}) == 3
    names = [two_hosts.BRIDGE] + [host.veth for host in hosts]
    assert all(len(name) <= 15 for name in names)  # IFNAMSIZ


def test_hosts_reach_postgresql_through_its_socket_with_the_same_database():
    url = two_hosts.socket_url(Database("postgres://postgres@127.0.0.1:5432/pdb_x_hosts"))
    config = environ.Env.db_url_config(url)
    assert config["NAME"] == "pdb_x_hosts"
    assert config["USER"] == "postgres"
    assert config["HOST"] == ""
    assert config["OPTIONS"] == {"host": two_hosts.PG_SOCKET_DIR}


def test_the_burst_is_twenty_senders_of_twenty_messages_signed_for_the_public_url():
    public = "http://127.0.0.1:8123"
    bodies = two_hosts.burst_bodies(public, "tag")
    senders = [params["From"] for params, _ in bodies]
    assert len(bodies) == 400
    assert len({params["MessageSid"] for params, _ in bodies}) == 400
    assert sorted(senders.count(sender) for sender in set(senders)) == [20] * 20
    validator = RequestValidator(AUTH_TOKEN)
    params, signature = bodies[0]
    assert validator.validate(public + REAL_PATH, params, signature)
    assert not validator.validate("http://10.226.6.3:8001" + REAL_PATH, params, signature)
    assert "#" not in params["Body"]  # no order number: each sender threads on their own


def test_the_router_log_tells_which_host_served_each_connection(tmp_path):
    log = tmp_path / "router.log"
    log.write_text(
        "[serve-prod] http://127.0.0.1:9/ (router)\n"
        "route 127.0.0.1:5001 10.226.6.2:8010\n"
        "route 127.0.0.1:5002 10.226.6.3:8001\n"
        "route 127.0.0.1:5003 10.226.6.2:8001\n"
    )
    by_client, per_upstream = two_hosts.routes(log)
    assert by_client[("127.0.0.1", 5001)] == "10.226.6.2:8010"
    assert per_upstream == {"10.226.6.2:8010": 1, "10.226.6.3:8001": 1, "10.226.6.2:8001": 1}


def test_without_root_it_reports_not_run(monkeypatch):
    monkeypatch.setattr(two_hosts.os, "geteuid", lambda: 1000)
    [result] = two_hosts.run(Sizes.for_smoke(), {}, log=print)
    assert result.figure == "not run"
    assert "root" in result.note


def test_it_is_never_part_of_a_default_run():
    from bench.__main__ import DEFAULT_BENCHMARKS, parse_args

    assert "two-hosts" not in DEFAULT_BENCHMARKS
    assert parse_args(["--only", "two-hosts"]).only == "two-hosts"
