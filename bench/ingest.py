"""Webhook ingest: signed Twilio SMS posts under gunicorn, the real endpoint vs a ceiling view.

Both endpoints run in the same gunicorn (workers = cores) in the same run. `wrk` (another
process) posts pre-signed bodies, each with a unique MessageSid; the figure is rows stored per
second of load, counted in the database afterwards, so an answered-but-lost message cannot count.
"""

import re
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlencode

import requests
from twilio.request_validator import RequestValidator

from bench.core import (
    ROOT,
    Database,
    Result,
    Sizes,
    django_env,
    free_port,
    gunicorn_cmd,
    has_gunicorn,
    median,
    migrate,
    server,
)

NAME = "webhook ingest"
REAL_PATH = "/api/webhooks/twilio"
CEILING_PATH = "/bench/ceiling/twilio"
AUTH_TOKEN = "bench0auth0token0bench0auth0token"
ACCOUNT_SID = "AC" + "0" * 32
SHOP_NUMBER = "+15005550006"
LUA = ROOT / "bench" / "wrk_post.lua"
# Bodies per second of load prepared ahead: above the ~1,400/s ceiling measured on 2 cores.
BODIES_PER_SECOND = 4000


@dataclass
class LoadRun:
    seconds: float
    responses: int
    non_2xx: int
    socket_errors: int
    stored: int

    @property
    def rate(self) -> float:
        return self.stored / self.seconds


def sms_params(sid: str, n: int) -> dict[str, str]:
    """The form fields Twilio posts for an inbound SMS."""
    sender = f"+1555{n % 997:07d}"
    return {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "SAN FRANCISCO",
        "FromZip": "94105",
        "SmsSid": sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": f"Hi, is order #{10_000 + n % 5000} ready for pickup? Thanks!",
        "FromCountry": "US",
        "To": SHOP_NUMBER,
        "ToZip": "94105",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def write_bodies(path: Path, *, url: str, tag: str, count: int) -> None:
    """Sign every body ahead of time, as Twilio would for `url` (PUBLIC_BASE_URL + path)."""
    validator = RequestValidator(AUTH_TOKEN)
    with path.open("w") as out:
        for n in range(count):
            params = sms_params(f"SM{tag}{n:010d}", n)
            signature = validator.compute_signature(url, params)
            out.write(f"{signature}\t{urlencode(params)}\n")


def parse_wrk(output: str) -> tuple[int, float, int, int]:
    """(responses, seconds, non-2xx, socket errors) from wrk's summary."""
    match = re.search(r"(\d+) requests in ([\d.]+)(m?s)", output)
    if not match:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    seconds = float(match.group(2)) / (1000 if match.group(3) == "ms" else 1)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return (
        int(match.group(1)),
        seconds,
        int(non_2xx.group(1)) if non_2xx else 0,
        sum(int(g) for g in errors.groups()) if errors else 0,
    )


def load(db: Database, *, base: str, path: str, provider: str, sizes: Sizes, tmp: Path) -> LoadRun:
    tag = uuid.uuid4().hex[:12]
    bodies = tmp / f"{tag}.tsv"
    write_bodies(
        bodies,
        url=base + path,
        tag=tag,
        count=int(BODIES_PER_SECOND * sizes.seconds) + 1000,
    )
    threads = min(2, sizes.connections)
    done = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{sizes.connections}",
            f"-d{sizes.seconds:g}s",
            "--timeout",
            "5s",
            "-s",
            str(LUA),
            base + path,
        ],
        env={"BENCH_BODIES": str(bodies), "BENCH_THREADS": str(threads), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=sizes.seconds + 60,
    )
    bodies.unlink()
    responses, seconds, non_2xx, errors = parse_wrk(done.stdout)
    stored = db.scalar(
        "SELECT count(*) FROM integrations_webhookevent WHERE provider = %s AND event_id LIKE %s",
        [provider, f"SM{tag}%"],
    )
    return LoadRun(seconds, responses, non_2xx, errors, int(stored))


def probe(base: str, path: str) -> int:
    """Status of one correctly signed post (404 = the endpoint is not built yet)."""
    params = sms_params(f"SMprobe{uuid.uuid4().hex[:20]}", 0)
    signature = RequestValidator(AUTH_TOKEN).compute_signature(base + path, params)
    return requests.post(
        base + path, data=params, headers={"X-Twilio-Signature": signature}, timeout=10
    ).status_code


def run(sizes: Sizes, dbs: dict[str, Database], *, log) -> list[Result]:
    db = dbs["ingest"]
    if not has_gunicorn() or shutil.which("wrk") is None:
        return [Result(NAME, "not run", "≥ 0.8x ceiling", None, "needs gunicorn and wrk")]
    migrate(db)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = django_env(
        db,
        PUBLIC_BASE_URL=base,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_SMS_FROM=SHOP_NUMBER,
    )
    ceilings, reals, ratios = [], [], []
    real_status = None
    with (
        server(gunicorn_cmd(port, workers=sizes.workers), env=env, port=port),
        tempfile.TemporaryDirectory() as tmp,
    ):
        real_status = probe(base, REAL_PATH)
        targets = {"ceiling": (CEILING_PATH, "bench")}
        if real_status == 200:
            targets["real"] = (REAL_PATH, "twilio")
        warmup = replace(sizes, seconds=2.0)
        for path, provider in targets.values() if not sizes.smoke else ():
            # Every worker imports the URLconf and connects to the database before measuring.
            load(db, base=base, path=path, provider=provider, sizes=warmup, tmp=Path(tmp))
        for repeat in range(sizes.repeats):
            runs = {}
            # Alternate which side goes first: the machine's load drifts during a run.
            for kind in sorted(targets, reverse=repeat % 2 == 1):
                path, provider = targets[kind]
                runs[kind] = load(
                    db, base=base, path=path, provider=provider, sizes=sizes, tmp=Path(tmp)
                )
                log(f"  {kind:<7} #{repeat + 1}: {describe(runs[kind])}")
            ceilings.append(runs["ceiling"])
            if "real" in runs:
                reals.append(runs["real"])
                rate = runs["ceiling"].rate
                ratios.append(runs["real"].rate / rate if rate else 0.0)
    ceiling_rate = median([c.rate for c in ceilings])
    results = [
        Result(
            f"{NAME}: ceiling view (SDK verify + 1 insert)",
            f"{ceiling_rate:,.0f} msgs/s",
            "reference",
            None,
            f"gunicorn {sizes.workers} sync workers, wrk -c{sizes.connections}, {db_label(db)}",
        )
    ]
    if real_status != 200:
        results.append(
            Result(
                f"{NAME}: POST {REAL_PATH}",
                "not run",
                "≥ 0.8x ceiling",
                None,
                f"signed probe answered {real_status} (endpoint not built yet?)",
            )
        )
        return results
    ratio = median(ratios)
    lost = sum(max(0, r.responses - r.non_2xx - r.stored) for r in reals)
    rejected = sum(r.non_2xx + r.socket_errors for r in reals)
    results.append(
        Result(
            f"{NAME}: POST {REAL_PATH}",
            f"{median([r.rate for r in reals]):,.0f} msgs/s = {ratio:.2f}x ceiling",
            "≥ 0.8x ceiling, all stored",
            ratio >= 0.8 and lost == 0 and rejected == 0,
            f"lost {lost}, rejected/errors {rejected}",
        )
    )
    return results


def describe(run: LoadRun) -> str:
    return (
        f"{run.responses} responses in {run.seconds:.1f}s, {run.stored} stored "
        f"({run.rate:,.0f}/s), non-2xx {run.non_2xx}, socket errors {run.socket_errors}"
    )


def db_label(db: Database) -> str:
    return "PostgreSQL" if db.is_postgres else "SQLite-WAL"
