"""A loopback fake of Twilio, SendGrid and Meta's Send API that also calls back like they do.

Each accepted send is answered in the provider's wire format, then (after `callback_delay`
seconds, on a thread) the fake posts a correctly signed "delivered" status webhook to
`public_base_url`: Twilio's status callback (X-Twilio-Signature with the auth token), a SendGrid
Event Webhook batch (ECDSA; `event_public_key` goes into SENDGRID_EVENT_PUBLIC_KEY) and a Meta
delivery event (X-Hub-Signature-256 with the app secret). `sent` records every send.

Files, with the providers' rules (docs/channels.md "Attachments"):
- Twilio media (`add_twilio_media`): GET needs HTTP basic auth (account SID + auth token, else
  401 like Twilio), then 307-redirects to a signed CDN URL that refuses a request still carrying
  an Authorization header (as S3 does). On send, each `MediaUrl` is fetched (HEAD, then GET):
  the Content-Type header must match the bytes; MMS total 5 MB, WhatsApp 16 MB (images 5 MB) and
  only WhatsApp's media types; a violation answers 400 with Twilio's error code.
- Meta CDN links (`add_meta_media`) are public. The Send API takes a multipart `filedata` upload
  of at most 25 MB.

Meta's Graph API, as documented (docs/channels.md "Meta"): errors are `{"error": {"message",
"type", "code", "error_subcode", "is_transient", "fbtrace_id"}}` with HTTP 400, rate limits
included (`fail_meta_sends` queues them: 613, 4, 17, 32 or a permanent 10/2018278); the User
Profile API (`GET /{version}/{id}?fields=...`) answers the profiles added with `add_meta_profile`
and refuses fields the platform does not have (Messenger: first_name, last_name, profile_pic;
Instagram: name, profile_pic) with code 100; every send is echoed back (`is_echo`, with the
send's `metadata` and our app id) when `meta_echoes` is on; `post_meta_event` signs and posts
any messaging item (a postback, a quick reply, an echo typed in Meta's inbox).
- SendGrid `attachments` must be valid base64 with a filename; the whole mail at most 30 MB.
`fetches` records every GET/HEAD the fake served, `sent[i]["files"]` what each send carried.

Messaging windows, as the providers enforce them (docs/channels.md "Messaging windows"): the fake
knows when each customer last wrote from `customer_wrote()` (what the provider saw inbound).
- Twilio WhatsApp: a free-form `Body` more than 24 hours after the customer's last message is
  accepted (201, queued) and then fails: the status callback says `failed` with `ErrorCode`
  63016, as Twilio reports it. A `ContentSid` (an approved template of the fake Content API,
  `add_content`) goes out at any time; an unknown one is refused at once (400, 21655).
- Meta Send API: more than 24 hours after the person's last message, only
  `messaging_type=MESSAGE_TAG` with `tag=HUMAN_AGENT` is accepted, and only within 7 days;
  anything else is refused (400, error code 10, subcode 2018278).
Twilio's Content API (`GET /v1/Content`, `GET /v1/Content/<sid>/ApprovalRequests`, HTTP basic
auth) lists the templates added with `add_content`, paged like Twilio (`meta.next_page_url`).
"""

import base64
import binascii
import email.parser
import email.policy
import email.utils
import hashlib
import hmac
import json
import re
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

from core.files import sniff_content_type

# The providers' documented limits, written out here rather than imported from tickets.attachments:
# the fake stands for the provider, so a wrong limit in our code must not be mirrored by it.
MB = 1024 * 1024
MMS_MAX_BYTES = 5 * MB
WHATSAPP_MAX_BYTES = 16 * MB
WHATSAPP_IMAGE_MAX_BYTES = 5 * MB
WHATSAPP_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "audio/ogg",
        "audio/amr",
        "audio/3gpp",
        "audio/aac",
        "audio/mpeg",
        "video/mp4",
        "video/3gpp",
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "text/vcard",
    }
)
SENDGRID_MAX_BYTES = 30 * MB
META_MAX_BYTES = 25 * MB
# Twilio: a Body over 1,600 characters fails with 21617; a number that texted an opt-out keyword
# (the whole body, any case) gets 21610 until it texts an opt-in one (help.twilio.com/articles/
# 223134027, 360033806753; the Advanced Opt-Out tutorial).
TWILIO_MAX_BODY_CHARS = 1600
TWILIO_OPT_OUT = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
TWILIO_OPT_IN = frozenset({"START", "YES", "UNSTOP"})
TWILIO_HELP = frozenset({"HELP", "INFO"})
WHATSAPP_WINDOW_SECONDS = 24 * 3600
META_STANDARD_WINDOW_SECONDS = 24 * 3600
META_HUMAN_AGENT_WINDOW_SECONDS = 7 * 24 * 3600
CONTENT_PAGE_SIZE = 50
META_PROFILE_FIELDS = {
    "facebook": frozenset({"first_name", "last_name", "profile_pic", "locale", "timezone"}),
    "instagram": frozenset({"name", "username", "profile_pic", "follower_count"}),
}
META_PROFILE_PATH = re.compile(r"^/v\d+\.\d+/(\d+)$")
META_APP_ID = "1517776481860111"


class Rejected(Exception):
    def __init__(self, status: int, body: dict) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


class FakeMessaging:
    def __init__(
        self,
        *,
        public_base_url: str,
        twilio_auth_token: str,
        meta_app_secret: str,
        twilio_account_sid: str = "AC" + "0" * 32,
        host: str = "127.0.0.1",
        port: int = 0,
        callback_delay: float = 0.3,
    ) -> None:
        self.public_base_url = public_base_url.rstrip("/")
        self.twilio_auth_token = twilio_auth_token
        self.twilio_account_sid = twilio_account_sid
        self.media: dict[str, tuple[str, bytes]] = {}  # path -> (content type, bytes)
        self.redirects: dict[str, str] = {}  # Twilio media path -> Location
        self._cdn: dict[str, str] = {}  # signed CDN token -> media path
        self.fetches: list[dict[str, Any]] = []
        self.media_failures = 0  # answer the next n media requests 503
        self.meta_app_secret = meta_app_secret
        self.meta_access_token = ""  # when set, Graph calls must carry it (else code 190)
        self.meta_errors: list[dict] = []  # answered, in order, to the next Meta sends
        self.meta_profiles: dict[str, tuple[str, dict]] = {}  # id -> (platform, fields)
        self.meta_echoes = False
        self.callback_delay = callback_delay
        self.sent: list[dict[str, Any]] = []
        self.opted_out: set[str] = set()  # Twilio `To` values that texted STOP
        self.inbound_at: dict[str, float] = {}  # "whatsapp:+1…" or a Meta PSID -> epoch seconds
        self.contents: dict[str, dict[str, Any]] = {}  # Content API: HX sid -> resource
        # The fates of the next sends: "drop" (accepted, then the connection closes before the
        # answer: a reset after the request left), "hang" (accepted, answered `hang_seconds`
        # late: a client timeout) or "lose" (the connection closes and nothing was accepted).
        self.fail_after_accept: list[str] = []
        self.hang_seconds = 2.0
        self._lock = threading.Lock()
        self._callbacks: list[threading.Thread] = []
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
        # A status callback still in flight would write to the database while the test's
        # teardown truncates it (a deadlock on PostgreSQL): let every callback land first.
        for callback in self._callbacks:
            callback.join(timeout=10)
        self.httpd.shutdown()
        self.httpd.server_close()

    # What the provider saw inbound, and its templates --------------------------------------------

    def customer_wrote(self, address: str, *, at: float | None = None) -> None:
        """The customer at `address` ("whatsapp:+1…" or a Meta PSID) wrote at `at` (epoch s)."""
        with self._lock:
            self.inbound_at[address] = time.time() if at is None else at

    def _seconds_since_inbound(self, address: str) -> float | None:
        with self._lock:
            at = self.inbound_at.get(address)
        return None if at is None else time.time() - at

    def add_content(
        self,
        *,
        friendly_name: str,
        body: str,
        variables: dict[str, str] | None = None,
        language: str = "en",
        approval: str = "approved",
        category: str = "UTILITY",
    ) -> str:
        """A `twilio/text` content template with its WhatsApp approval status; returns its sid."""
        sid = "HX" + secrets.token_hex(16)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.contents[sid] = {
            "sid": sid,
            "account_sid": self.twilio_account_sid,
            "friendly_name": friendly_name,
            "language": language,
            "variables": variables or {},
            "types": {"twilio/text": {"body": body}},
            "date_created": now,
            "date_updated": now,
            "url": f"{self.url}/v1/Content/{sid}",
            "links": {
                "approval_fetch": f"{self.url}/v1/Content/{sid}/ApprovalRequests",
                "approval_create": f"{self.url}/v1/Content/{sid}/ApprovalRequests/whatsapp",
            },
            "_approval": {
                "type": "whatsapp",
                "name": friendly_name.lower().replace(" ", "_"),
                "category": category,
                "content_type": "twilio/text",
                "status": approval,
                "rejection_reason": "" if approval != "rejected" else "Invalid format",
                "allow_category_change": True,
            },
        }
        return sid

    # Sends ---------------------------------------------------------------------------------------

    def handle(self, path: str, query: dict, headers: dict, raw: bytes) -> tuple[int, dict, bytes]:
        try:
            return self._handle_send(path, query, headers, raw)
        except Rejected as exc:
            return exc.status, {"Content-Type": "application/json"}, json.dumps(exc.body).encode()

    def _handle_send(
        self, path: str, query: dict, headers: dict, raw: bytes
    ) -> tuple[int, dict, bytes]:
        if path.endswith("/Messages.json"):
            lists = parse_qs(raw.decode())
            form = {k: v[-1] for k, v in lists.items()}
            if len(form.get("Body", "")) > TWILIO_MAX_BODY_CHARS:
                raise Rejected(
                    400,
                    _twilio_error(
                        21617, "The concatenated message body exceeds the 1600 character limit"
                    ),
                )
            if form.get("To", "") in self.opted_out:
                error = _twilio_error(21610, "Attempt to send to unsubscribed recipient")
                raise Rejected(400, error)
            files = self._twilio_media(lists.get("MediaUrl", []), form.get("To", ""))
            error_code = self._whatsapp_window_error(form)
            sid = ("MM" if files else "SM") + secrets.token_hex(16)
            self._record("twilio", sid, form, files, error_code=error_code)
            if form.get("StatusCallback"):
                self._later(self._twilio_callback, form["StatusCallback"], sid, form, error_code)
            body = {"sid": sid, "status": "queued", "to": form.get("To"), "from": form.get("From")}
            body["num_media"] = str(len(files))
            return 201, {"Content-Type": "application/json"}, json.dumps(body).encode()
        if path == "/v3/mail/send":
            mail = json.loads(raw)
            files = self._sendgrid_attachments(mail, size=len(raw))
            message_id = secrets.token_urlsafe(16)
            self._record("sendgrid", message_id, mail, files)
            self._later(self._sendgrid_events, message_id, mail)
            return 202, {"X-Message-Id": message_id}, b""
        if path.endswith("/me/messages"):
            self._check_meta_token(query)
            if self.meta_errors:
                raise Rejected(400, {"error": self.meta_errors.pop(0)})
            send, files = self._meta_send(headers, raw)
            self._check_meta_window(send)
            mid = "m_" + secrets.token_urlsafe(24)
            self._record("meta", mid, send, files)
            self._later(self._meta_delivery, mid, send)
            if self.meta_echoes:
                self._later(self._meta_echo, mid, send)
            body = {"recipient_id": send["recipient"]["id"], "message_id": mid}
            if files:
                body["attachment_id"] = secrets.token_hex(8)
            return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()
        return 404, {"Content-Type": "application/json"}, b'{"error": "unknown endpoint"}'

    # Messaging windows ---------------------------------------------------------------------------

    def _whatsapp_window_error(self, form: dict) -> int | None:
        """Twilio accepts the request and fails the message later (63016) when a free-form body
        goes outside the customer-service window; an approved template may always go."""
        if not form.get("To", "").startswith("whatsapp:"):
            return None
        content_sid = form.get("ContentSid")
        if content_sid:
            content = self.contents.get(content_sid)
            if content is None:
                raise Rejected(400, _twilio_error(21655, "The ContentSid is Invalid"))
            try:
                json.loads(form.get("ContentVariables") or "{}")
            except ValueError as exc:
                raise Rejected(
                    400, _twilio_error(21656, "The ContentVariables Parameter is invalid")
                ) from exc
            if content["_approval"]["status"] == "approved":
                return None
        since = self._seconds_since_inbound(form["To"])
        if since is None or since > WHATSAPP_WINDOW_SECONDS:
            return 63016
        return None

    def _check_meta_window(self, send: dict) -> None:
        since = self._seconds_since_inbound(str(send.get("recipient", {}).get("id", "")))
        if since is not None and since <= META_STANDARD_WINDOW_SECONDS:
            return
        tagged = send.get("messaging_type") == "MESSAGE_TAG" and send.get("tag") == "HUMAN_AGENT"
        if tagged and since is not None and since <= META_HUMAN_AGENT_WINDOW_SECONDS:
            return
        raise Rejected(
            400,
            {
                "error": meta_error(
                    10, "(#10) This message is sent outside of allowed window.", subcode=2018278
                )
            },
        )

    # Files on sends ------------------------------------------------------------------------------

    def _twilio_media(self, urls: list[str], to: str) -> list[dict]:
        is_whatsapp = to.startswith("whatsapp:")
        files = []
        for url in urls:
            head = requests.head(url, timeout=10)
            response = requests.get(url, timeout=10)
            if head.status_code != 200 or response.status_code != 200:
                raise Rejected(400, _twilio_error(11200, f"HTTP retrieval failure: {url}"))
            declared = response.headers.get("Content-Type", "").split(";")[0].strip()
            if declared != sniff_content_type(response.content[:512], declared=declared):
                raise Rejected(400, _twilio_error(12300, f"Invalid Content-Type: {declared}"))
            if is_whatsapp and declared not in WHATSAPP_TYPES:
                raise Rejected(400, _twilio_error(63019, f"Unsupported WhatsApp media {declared}"))
            if (
                is_whatsapp
                and declared.startswith("image/")
                and len(response.content) > (WHATSAPP_IMAGE_MAX_BYTES)
            ):
                raise Rejected(400, _twilio_error(11751, "WhatsApp images are limited to 5 MB"))
            files.append(_file_record(url=url, content_type=declared, data=response.content))
        limit = WHATSAPP_MAX_BYTES if is_whatsapp else MMS_MAX_BYTES
        if sum(f["size"] for f in files) > limit:
            raise Rejected(400, _twilio_error(11751, "Media exceeds messaging provider size limit"))
        return files

    def _sendgrid_attachments(self, mail: dict, *, size: int) -> list[dict]:
        if size > SENDGRID_MAX_BYTES:
            raise Rejected(413, _sendgrid_error("The mail exceeds 30 MB.", "attachments"))
        files = []
        for item in mail.get("attachments") or []:
            if not item.get("filename"):
                raise Rejected(400, _sendgrid_error("filename is required", "attachments"))
            try:
                data = base64.b64decode(item.get("content", ""), validate=True)
            except binascii.Error as exc:
                raise Rejected(
                    400, _sendgrid_error("content must be base64", "attachments")
                ) from exc
            files.append(
                _file_record(url="", content_type=item.get("type", ""), data=data)
                | {"filename": item["filename"], "disposition": item.get("disposition", "")}
            )
        return files

    def _meta_send(self, headers: dict, raw: bytes) -> tuple[dict, list[dict]]:
        content_type = headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            return json.loads(raw), []
        parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        fields, files = {}, []
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True) or b""
            if name == "filedata":
                if len(data) > META_MAX_BYTES:
                    raise Rejected(400, {"error": {"message": "File exceeds 25 MB", "code": 100}})
                files.append(
                    _file_record(url="", content_type=part.get_content_type(), data=data)
                    | {"filename": part.get_filename() or ""}
                )
            else:
                fields[name] = data.decode()
        if not files:
            raise Rejected(400, {"error": {"message": "filedata is required", "code": 100}})
        try:
            send = {
                "recipient": json.loads(fields["recipient"]),
                "message": json.loads(fields["message"]),
                **{k: fields[k] for k in ("messaging_type", "tag") if k in fields},
            }
        except (KeyError, ValueError) as exc:
            raise Rejected(
                400, {"error": {"message": "recipient and message are JSON", "code": 100}}
            ) from exc
        return send, files

    # Customers writing in ------------------------------------------------------------------------

    def customer_texts(
        self, *, from_: str, body: str, to: str = "+15559990000", advanced_opt_out: bool = True
    ) -> requests.Response:
        """A customer's SMS (or WhatsApp, `from_="whatsapp:+…"`) reaching Twilio: keywords update
        Twilio's opt-out list as Twilio does, then the signed incoming-message webhook is posted,
        with `OptOutType` when the sender uses Advanced Opt-Out."""
        keyword = body.strip().upper()
        opt_out_type = ""
        to_address = to if not from_.startswith("whatsapp:") else f"whatsapp:{to}"
        if keyword in TWILIO_OPT_OUT:
            self.opted_out.add(from_)
            opt_out_type = "STOP"
        elif keyword in TWILIO_OPT_IN:
            self.opted_out.discard(from_)
            opt_out_type = "START"
        elif keyword in TWILIO_HELP:
            opt_out_type = "HELP"
        params = {
            "MessageSid": "SM" + secrets.token_hex(16),
            "AccountSid": self.twilio_account_sid,
            "From": from_,
            "To": to_address,
            "Body": body,
            "NumMedia": "0",
            "ApiVersion": "2010-04-01",
        }
        if advanced_opt_out and opt_out_type:
            params["OptOutType"] = opt_out_type
        url = f"{self.public_base_url}/api/webhooks/twilio"
        signature = RequestValidator(self.twilio_auth_token).compute_signature(url, params)
        return requests.post(
            url,
            data=urlencode(params),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
            timeout=10,
        )

    # Media the fake hosts ------------------------------------------------------------------------

    def add_twilio_media(self, *, message_sid: str, content_type: str, data: bytes) -> str:
        path = self._twilio_media_path(message_sid)
        self.media[path] = (content_type, data)
        return self.url + path

    def _twilio_media_path(self, message_sid: str) -> str:
        return (
            f"/2010-04-01/Accounts/{self.twilio_account_sid}/Messages/{message_sid}"
            f"/Media/ME{secrets.token_hex(16)}"
        )

    def add_twilio_redirect(self, *, message_sid: str, location: str) -> str:
        """A Twilio media URL whose (authenticated) answer redirects to `location`."""
        path = self._twilio_media_path(message_sid)
        self.redirects[path] = location
        return self.url + path

    def add_meta_media(self, *, name: str, content_type: str, data: bytes) -> str:
        path = f"/meta-cdn/v/t1.15752-9/{name}"
        self.media[path] = (content_type, data)
        return f"{self.url}{path}?_nc_cat=1&oh=00_{secrets.token_hex(8)}&oe=67A0B1C2"

    # Meta Graph API ------------------------------------------------------------------------------

    def fail_meta_sends(self, *errors: dict) -> None:
        """Answer the next Meta sends with these Graph errors (see `meta_error`)."""
        self.meta_errors.extend(errors)

    def add_meta_profile(self, *, user_id: str, platform: str, **fields: str) -> None:
        self.meta_profiles[user_id] = (platform, fields)

    def _check_meta_token(self, query: dict) -> None:
        if self.meta_access_token and query.get("access_token") != self.meta_access_token:
            raise Rejected(
                400,
                {"error": meta_error(190, "Invalid OAuth access token.", kind="OAuthException")},
            )

    def _meta_profile(self, user_id: str, query: dict) -> tuple[int, dict, bytes]:
        try:
            self._check_meta_token(query)
            if user_id not in self.meta_profiles:
                raise Rejected(
                    400,
                    {
                        "error": meta_error(
                            100,
                            f"Unsupported get request. Object with ID '{user_id}' does not "
                            "exist, cannot be loaded due to missing permissions, or does not "
                            "support this operation.",
                            subcode=33,
                            kind="GraphMethodException",
                        )
                    },
                )
            platform, profile = self.meta_profiles[user_id]
            fields = [f for f in query.get("fields", "").split(",") if f]
            unknown = [f for f in fields if f not in META_PROFILE_FIELDS[platform]]
            if unknown:
                raise Rejected(
                    400,
                    {
                        "error": meta_error(
                            100, f"(#100) Tried accessing nonexisting field ({unknown[0]})"
                        )
                    },
                )
        except Rejected as exc:
            return exc.status, {"Content-Type": "application/json"}, json.dumps(exc.body).encode()
        body = {"id": user_id, **{f: profile[f] for f in fields if f in profile}}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    def post_meta_event(self, item: dict, *, obj: str = "page") -> requests.Response:
        """Sign and post one messaging item to the app, as Meta's webhook does; a customer's
        message or postback opens their messaging window."""
        now = int(time.time() * 1000)
        is_echo = (item.get("message") or {}).get("is_echo") is True
        if ("message" in item or "postback" in item) and not is_echo:
            self.customer_wrote(str(item["sender"]["id"]))
        raw = json.dumps(
            {"object": obj, "entry": [{"id": "PAGE_ID", "time": now, "messaging": [item]}]}
        )
        signature = hmac.new(
            self.meta_app_secret.encode(), raw.encode(), hashlib.sha256
        ).hexdigest()
        return requests.post(
            f"{self.public_base_url}/api/webhooks/meta",
            data=raw,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": f"sha256={signature}",
            },
            timeout=10,
        )

    def _meta_echo(self, mid: str, send: dict) -> None:
        message = {
            "is_echo": True,
            "app_id": int(META_APP_ID),
            "mid": mid,
            **{k: v for k, v in send["message"].items() if k in ("text", "metadata")},
        }
        self.post_meta_event(
            {
                "sender": {"id": "PAGE_ID"},
                "recipient": {"id": send["recipient"]["id"]},
                "timestamp": int(time.time() * 1000),
                "message": message,
            }
        )

    def serve(
        self, method: str, path: str, headers: dict, query: dict | None = None
    ) -> tuple[int, dict, bytes]:
        self.fetches.append({"method": method, "path": path, "headers": headers})
        if path.startswith("/v1/Content"):
            status, body = self._content_api(path, query or {}, headers)
            return status, {"Content-Type": "application/json"}, json.dumps(body).encode()
        if path.endswith("/Messages.json"):
            return self.list_twilio_messages(query or {}, headers)
        profile = META_PROFILE_PATH.match(path)
        if profile is not None:
            return self._meta_profile(profile.group(1), query or {})
        if self.media_failures > 0:
            self.media_failures -= 1
            return 503, {"Content-Type": "application/json"}, b'{"error": "unavailable"}'
        if path in self.redirects or (path.startswith("/2010-04-01/") and path in self.media):
            if not self._has_twilio_auth(headers):
                body = self._authenticate_body()
                headers = {"Content-Type": "application/json"}
                return 401, {**headers, "WWW-Authenticate": 'Basic realm="Twilio API"'}, body
            location = self.redirects.get(path)
            if location is None:
                token = secrets.token_urlsafe(16)
                self._cdn[token] = path
                location = f"{self.url}/twilio-cdn/{token}?X-Amz-Expires=300&X-Amz-Signature=x"
            return 307, {"Location": location}, b""
        if path.startswith("/twilio-cdn/"):
            if "Authorization" in headers:
                return (
                    400,
                    {"Content-Type": "application/xml"},
                    (
                        b"<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism "
                        b"allowed</Message></Error>"
                    ),
                )
            media_path = self._cdn.get(path.removeprefix("/twilio-cdn/"))
            if media_path is None:
                return 403, {"Content-Type": "application/xml"}, b"<Error>AccessDenied</Error>"
            content_type, data = self.media[media_path]
            return 200, {"Content-Type": content_type}, data
        if path in self.media:
            content_type, data = self.media[path]
            return 200, {"Content-Type": content_type}, data
        return 404, {"Content-Type": "application/json"}, b'{"error": "not found"}'

    def _content_api(self, path: str, query: dict, headers: dict) -> tuple[int, dict]:
        if not self._has_twilio_auth(headers):
            return 401, _twilio_error(20003, "Authenticate") | {"status": 401}
        if path == "/v1/Content":
            page_size = min(int(query.get("PageSize") or CONTENT_PAGE_SIZE), 1000)
            page = int(query.get("Page") or 0)
            items = list(self.contents.values())
            chunk = items[page * page_size : (page + 1) * page_size]
            base = f"{self.url}/v1/Content?PageSize={page_size}"
            has_next = (page + 1) * page_size < len(items)
            return 200, {
                "contents": [
                    {k: v for k, v in item.items() if not k.startswith("_")} for item in chunk
                ],
                "meta": {
                    "page": page,
                    "page_size": page_size,
                    "first_page_url": f"{base}&Page=0",
                    "previous_page_url": f"{base}&Page={page - 1}" if page else None,
                    "url": f"{base}&Page={page}",
                    "next_page_url": f"{base}&Page={page + 1}&PageToken=PT{page + 1}"
                    if has_next
                    else None,
                    "key": "contents",
                },
            }
        sid, _, rest = path.removeprefix("/v1/Content/").partition("/")
        content = self.contents.get(sid)
        if content is None or rest not in ("", "ApprovalRequests"):
            return 404, _twilio_error(20404, f"The requested resource {path} was not found") | {
                "status": 404
            }
        if rest == "":
            return 200, {k: v for k, v in content.items() if not k.startswith("_")}
        return 200, {
            "sid": sid,
            "account_sid": self.twilio_account_sid,
            "whatsapp": content["_approval"],
            "url": f"{self.url}/v1/Content/{sid}/ApprovalRequests",
        }

    def _twilio_basic_auth(self) -> str:
        return base64.b64encode(
            f"{self.twilio_account_sid}:{self.twilio_auth_token}".encode()
        ).decode()

    def _record(
        self,
        provider: str,
        message_id: str,
        request: dict,
        files: list[dict],
        *,
        error_code: int | None = None,
    ) -> None:
        with self._lock:
            self.sent.append(
                {
                    "provider": provider,
                    "id": message_id,
                    "request": request,
                    "files": files,
                    "error_code": error_code,
                    "at": time.time(),
                }
            )

    def _next_fate(self) -> str:
        with self._lock:
            return self.fail_after_accept.pop(0) if self.fail_after_accept else ""

    def list_twilio_messages(self, query: dict, headers: dict) -> tuple[int, dict, bytes]:
        """GET .../Messages.json: the account's messages, newest first, filtered by `To` and
        `From`, in Twilio's page format (what a reconciliation reads)."""
        if not self._has_twilio_auth(headers):
            return 401, {"Content-Type": "application/json"}, self._authenticate_body()
        page_size = int(query.get("PageSize") or 50)
        messages = [
            _twilio_message(sent, account_sid=self.twilio_account_sid)
            for sent in reversed(self.sent)
            if sent["provider"] == "twilio"
            and sent["request"].get("To") == query.get("To", sent["request"].get("To"))
            and sent["request"].get("From") == query.get("From", sent["request"].get("From"))
        ][:page_size]
        uri = f"/2010-04-01/Accounts/{self.twilio_account_sid}/Messages.json"
        page = {
            "messages": messages,
            "uri": f"{uri}?PageSize={page_size}&Page=0",
            "first_page_uri": f"{uri}?PageSize={page_size}&Page=0",
            "next_page_uri": None,
            "previous_page_uri": None,
            "page": 0,
            "page_size": page_size,
            "start": 0,
            "end": max(len(messages) - 1, 0),
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(page).encode()

    def _has_twilio_auth(self, headers: dict) -> bool:
        expected = f"Basic {self._twilio_basic_auth()}"
        return hmac.compare_digest(headers.get("Authorization", ""), expected)

    @staticmethod
    def _authenticate_body() -> bytes:
        return json.dumps(_twilio_error(20003, "Authenticate")).encode()

    def _later(self, callback, *args) -> None:
        def run() -> None:
            time.sleep(self.callback_delay)
            callback(*args)

        thread = threading.Thread(target=run, daemon=True)
        with self._lock:
            self._callbacks.append(thread)
        thread.start()

    # Status callbacks ----------------------------------------------------------------------------

    def _twilio_callback(self, url: str, sid: str, form: dict, error_code: int | None) -> None:
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": "failed" if error_code else "delivered",
            "To": form.get("To", ""),
            "From": form.get("From", ""),
            "ApiVersion": "2010-04-01",
        }
        if error_code:
            params["ErrorCode"] = str(error_code)
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
        self.post_meta_event(
            {
                "sender": {"id": send["recipient"]["id"]},
                "recipient": {"id": "PAGE_ID"},
                "timestamp": now,
                "delivery": {"mids": [mid], "watermark": now},
            }
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
                fate = fake._next_fate()
                if fate == "lose":
                    self.close_connection = True
                    return
                status, headers, body = fake.handle(parts.path, query, dict(self.headers), raw)
                if fate == "drop":
                    self.close_connection = True
                    return
                if fate == "hang":
                    time.sleep(fake.hang_seconds)
                self._answer(status, headers, body)

            def _answer(self, status: int, headers: dict, body: bytes) -> None:
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up waiting ("hang")

            def do_GET(self) -> None:
                self._serve_file("GET")

            def do_HEAD(self) -> None:
                self._serve_file("HEAD")

            def _serve_file(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                status, headers, body = fake.serve(method, parts.path, dict(self.headers), query)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if method == "GET":
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _file_record(*, url: str, content_type: str, data: bytes) -> dict:
    return {
        "url": url,
        "content_type": content_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "data": data,
    }


def _twilio_message(sent: dict, *, account_sid: str) -> dict:
    """A sent message as Twilio's Message resource shows it (RFC 2822 dates)."""
    form = sent["request"]
    created = email.utils.formatdate(sent["at"], usegmt=True)
    return {
        "sid": sent["id"],
        "account_sid": account_sid,
        "to": form.get("To"),
        "from": form.get("From"),
        "body": form.get("Body", ""),
        "status": "failed" if sent.get("error_code") else "sent",
        "direction": "outbound-api",
        "num_media": str(len(sent["files"])),
        "num_segments": "1",
        "date_created": created,
        "date_updated": created,
        "date_sent": created,
        "error_code": None,
        "error_message": None,
        "api_version": "2010-04-01",
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sent['id']}.json",
    }


def _twilio_error(code: int, message: str) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": 400,
    }


def meta_error(
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    is_transient: bool | None = None,
    kind: str = "OAuthException",
) -> dict:
    """A Graph API error body's `error` object, as Meta sends it."""
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if is_transient is not None:
        error["is_transient"] = is_transient
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(15)
    return error


def _sendgrid_error(message: str, field: str) -> dict:
    return {"errors": [{"message": message, "field": field, "help": None}]}
