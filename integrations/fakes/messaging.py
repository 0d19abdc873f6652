"""A loopback fake of Twilio, SendGrid and Meta's Send API that also calls back like they do.

Each accepted send is answered in the provider's wire format, then (after `callback_delay`
seconds, on a thread) the fake posts a correctly signed "delivered" status webhook to
`public_base_url`: Twilio's status callback (X-Twilio-Signature with the auth token), a SendGrid
Event Webhook batch (ECDSA; `event_public_key` goes into SENDGRID_EVENT_PUBLIC_KEY) and a Meta
delivery event (X-Hub-Signature-256 with the app secret). `sent` records every send.
"""

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from twilio.request_validator import RequestValidator


class FakeMessaging:
    def __init__(
        self,
        *,
        public_base_url: str,
        twilio_auth_token: str,
        meta_app_secret: str,
        host: str = "127.0.0.1",
        port: int = 0,
        callback_delay: float = 0.3,
    ) -> None:
        self.public_base_url = public_base_url.rstrip("/")
        self.twilio_auth_token = twilio_auth_token
        self.meta_app_secret = meta_app_secret
        self.callback_delay = callback_delay
        self.sent: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._event_key = ec.generate_private_key(ec.SECP256R1())
        self.httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def event_public_key(self) -> str:
        der = self._event_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def start(self) -> "FakeMessaging":
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # Sends ---------------------------------------------------------------------------------------

    def handle(self, path: str, query: dict, headers: dict, raw: bytes) -> tuple[int, dict, bytes]:
        if path.endswith("/Messages.json"):
            form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
            sid = "SM" + secrets.token_hex(16)
            self._record("twilio", sid, form)
            if form.get("StatusCallback"):
                self._later(self._twilio_callback, form["StatusCallback"], sid, form)
            body = {"sid": sid, "status": "queued", "to": form.get("To"), "from": form.get("From")}
            return 201, {"Content-Type": "application/json"}, json.dumps(body).encode()
        if path == "/v3/mail/send":
            mail = json.loads(raw)
            message_id = secrets.token_urlsafe(16)
            self._record("sendgrid", message_id, mail)
            self._later(self._sendgrid_events, message_id, mail)
            return 202, {"X-Message-Id": message_id}, b""
        if path.endswith("/me/messages"):
            send = json.loads(raw)
            mid = "m_" + secrets.token_urlsafe(24)
            self._record("meta", mid, send)
            self._later(self._meta_delivery, mid, send)
            body = {"recipient_id": send["recipient"]["id"], "message_id": mid}
            return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()
        return 404, {"Content-Type": "application/json"}, b'{"error": "unknown endpoint"}'

    def _record(self, provider: str, message_id: str, request: dict) -> None:
        with self._lock:
            self.sent.append({"provider": provider, "id": message_id, "request": request})

    def _later(self, callback, *args) -> None:
        def run() -> None:
            time.sleep(self.callback_delay)
            callback(*args)

        threading.Thread(target=run, daemon=True).start()

    # Status callbacks ----------------------------------------------------------------------------

    def _twilio_callback(self, url: str, sid: str, form: dict) -> None:
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": "delivered",
            "To": form.get("To", ""),
            "From": form.get("From", ""),
            "ApiVersion": "2010-04-01",
        }
        signature = RequestValidator(self.twilio_auth_token).compute_signature(url, params)
        requests.post(
            url,
            data=urlencode(params),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
            timeout=10,
        )

    def _sendgrid_events(self, message_id: str, mail: dict) -> None:
        to = mail["personalizations"][0]["to"][0]["email"]
        event = {
            "email": to,
            "timestamp": int(time.time()),
            "event": "delivered",
            "sg_event_id": secrets.token_urlsafe(16),
            "sg_message_id": f"{message_id}.filter0001.1.0",
            **mail.get("custom_args", {}),
        }
        raw = json.dumps([event]).encode()
        timestamp = str(int(time.time()))
        signature = self._event_key.sign(timestamp.encode() + raw, ec.ECDSA(hashes.SHA256()))
        requests.post(
            f"{self.public_base_url}/api/webhooks/sendgrid/events",
            data=raw,
            headers={
                "Content-Type": "application/json",
                "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
                "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
            },
            timeout=10,
        )

    def _meta_delivery(self, mid: str, send: dict) -> None:
        now = int(time.time() * 1000)
        item = {
            "sender": {"id": send["recipient"]["id"]},
            "recipient": {"id": "PAGE_ID"},
            "timestamp": now,
            "delivery": {"mids": [mid], "watermark": now},
        }
        raw = json.dumps(
            {"object": "page", "entry": [{"id": "PAGE_ID", "time": now, "messaging": [item]}]}
        )
        signature = hmac.new(
            self.meta_app_secret.encode(), raw.encode(), hashlib.sha256
        ).hexdigest()
        requests.post(
            f"{self.public_base_url}/api/webhooks/meta",
            data=raw,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": f"sha256={signature}",
            },
            timeout=10,
        )

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                status, headers, body = fake.handle(parts.path, query, dict(self.headers), raw)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
