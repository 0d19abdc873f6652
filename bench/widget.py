"""The storefront widget's weight and reach: gzipped bytes of /widget.js (goal: under 30 KB) and
that the script names no host (every request it makes on load goes to the origin it was loaded
from; the shop's own /cart.js is fetched only with a first message). The live check, in a
browser, that loading it requests nothing but the page's host and ours is
e2e/test_widget.py."""

import gzip
import re

from bench.core import ROOT, Result

NAME = "storefront widget"
SCRIPT = ROOT / "static" / "js" / "widget.js"
MAX_GZIPPED_BYTES = 30 * 1024
ABSOLUTE_URL = re.compile(r"""["'`](?:https?:|wss?:)?//[^"'`\s]+""")
BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def run(sizes, dbs, *, log) -> list[Result]:
    source = SCRIPT.read_bytes()
    gzipped = len(gzip.compress(source, compresslevel=9))
    log(f"widget.js {len(source)} B, {gzipped} B gzipped")
    code = BLOCK_COMMENT.sub("", source.decode())
    hosts = sorted(set(ABSOLUTE_URL.findall(code)))
    return [
        Result(
            NAME,
            f"widget.js {gzipped:,} B gzipped ({len(source):,} B raw)",
            "≤ 30 KB gzipped",
            gzipped <= MAX_GZIPPED_BYTES,
        ),
        Result(
            NAME,
            f"hosts named in widget.js: {', '.join(hosts) or 'none'}",
            "none (only the origin it came from)",
            not hosts,
        ),
    ]
