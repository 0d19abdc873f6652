"""A loopback HTTP server base for provider fakes, used by tests and `run_fake_providers`.

Fault injection for tests: `fail_next(n, status)` answers the next n requests with that status,
`is_down` answers every request 503, `requests` records (method, path, headers, body).
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class FakeResponse:
    def __init__(self, status: int, body: Any, content_type: str = "application/json") -> None:
        self.status = status
        self.body = body
        self.content_type = content_type

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class FakeProvider:
    """Subclasses implement `handle(method, path, query, headers, body) -> FakeResponse`."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.is_down = False
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeProvider":
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fail_next(self, count: int, status: int = 503) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def handle(self, method, path, query, headers, body) -> FakeResponse:  # pragma: no cover
        raise NotImplementedError

    def _dispatch(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes):
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.requests.append(
                {
                    "method": method,
                    "path": parts.path,
                    "query": query,
                    "headers": headers,
                    "body": raw.decode("utf-8", "replace"),
                }
            )
            failure = self._failures.pop(0) if self._failures else None
        if self.is_down:
            return FakeResponse(503, {"error": "service unavailable"})
        if failure is not None:
            return FakeResponse(failure, {"error": f"injected {failure}"})
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return FakeResponse(400, {"error": "invalid JSON"})
        return self.handle(method, parts.path, query, headers, body)

    def _handler_class(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                response = provider._dispatch(method, self.path, dict(self.headers), raw)
                data = response.encode()
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
