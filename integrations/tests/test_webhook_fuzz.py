"""Property (issue 21): a correctly signed request to any webhook, whatever it carries, never gets
a 5xx and is always stored; processing always ends in a recorded status (never stuck).

Hypothesis builds payloads in each provider's wire format with arbitrary unicode (NUL, control
characters, lone surrogates where the format can carry them), NaN/Infinity, deep nesting and
values of the wrong type. Each example carries a fresh nonce in its ids so it is a new delivery,
not a replay. The counts per webhook are written to WEBHOOK_FUZZ_SUMMARY_DIR when set (`.ci/run`
prints them); WEBHOOK_FUZZ_EXAMPLES sets the examples per webhook.
"""

import itertools
import json
import os
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.models import WebhookEvent, WebhookStatus
from integrations.shopify.views import sign
from integrations.tests import channels

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("WEBHOOK_FUZZ_EXAMPLES", "20"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SHOPIFY_SECRET = "shpss_fuzz_secret"
NONCE = itertools.count(1)
TRIED: Counter = Counter()
SERVER_ERRORS: Counter = Counter()

# Any code point, surrogates and control characters included (JSON can carry them all).
any_text = st.text(st.characters(exclude_categories=()), max_size=20)
# Form fields travel as UTF-8, which cannot encode a lone surrogate.
form_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | any_text
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=10,
)
numbers = st.integers() | st.floats()
wrong_types = st.none() | st.booleans() | numbers | st.lists(scalars, max_size=2)
# Deeper than WEBHOOK_MAX_JSON_DEPTH (64), up to past the parser's recursion limit.
depth = st.integers(min_value=65, max_value=3000)


def deep_json(nonce: int, levels: int) -> bytes:
    return b'{"nonce": %d, "d": ' % nonce + b"[" * levels + b"]" * levels + b"}"


@pytest.fixture(scope="module", autouse=True)
def summary():
    yield
    directory = os.environ.get("WEBHOOK_FUZZ_SUMMARY_DIR")
    if not directory or not TRIED:
        return
    counts = ", ".join(f"{name} {TRIED[name]}" for name in sorted(TRIED))
    line = (
        f"webhook fuzz ({connection.vendor}): examples per webhook: {counts}; "
        f"server errors: {sum(SERVER_ERRORS.values())}\n"
    )
    Path(directory).mkdir(parents=True, exist_ok=True)
    Path(directory, f"webhook-fuzz-{connection.vendor}.txt").write_text(line)


@pytest.fixture
def signed(settings, client, django_capture_on_commit_callbacks):
    settings.TWILIO_AUTH_TOKEN = channels.TWILIO_TOKEN
    settings.META_APP_SECRET = channels.META_SECRET
    settings.SHOPIFY_WEBHOOK_SECRET = SHOPIFY_SECRET
    settings.SHOPIFY_API_URL = settings.PERP_API_URL = ""
    settings.SENDGRID_INBOUND_USER = "parse"
    settings.SENDGRID_INBOUND_PASSWORD = "s3cret"
    keys = channels.EventWebhookKeys()
    settings.SENDGRID_EVENT_PUBLIC_KEY = keys.public_key

    def deliver(webhook: str, send) -> None:
        """POST one signed request and check the property."""
        before = WebhookEvent.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            response = send(channels.CommittingClient(client, django_capture_on_commit_callbacks))
        TRIED[webhook] += 1
        SERVER_ERRORS[webhook] += response.status_code >= 500
        assert response.status_code == 200, response.content[:500]
        assert WebhookEvent.objects.count() > before, "a verified request was not stored"
        assert not WebhookEvent.objects.filter(status=WebhookStatus.RECEIVED).exists()

    deliver.keys = keys
    return deliver


# Twilio ------------------------------------------------------------------------------------------


twilio_fields = st.fixed_dictionaries(
    {},
    optional={
        "From": form_text | st.sampled_from(["+15551230001", "whatsapp:+447700900123"]),
        "Body": form_text,
        "NumMedia": form_text | st.integers(-2, 3).map(str),
        "MediaUrl0": form_text,
        "ProfileName": form_text,
        "MessageStatus": form_text | st.sampled_from(["delivered", "failed", "read"]),
        "ErrorCode": form_text,
    },
)


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/api/webhooks/twilio", "message"), ("/api/webhooks/twilio/status", "status")],
)
@FUZZ
@given(sid=form_text, fields=twilio_fields, extra=st.dictionaries(form_text, form_text, max_size=3))
def test_twilio(signed, path, kind, sid, fields, extra):
    params = {**extra, **fields, "MessageSid": f"SM{next(NONCE)}{sid}"}
    signed(f"twilio.{kind}", lambda client: channels.twilio_post(client, path, params))


# Meta --------------------------------------------------------------------------------------------

meta_message = st.fixed_dictionaries(
    {"mid": any_text | wrong_types},
    optional={"text": json_values, "attachments": json_values, "quick_reply": json_values},
)
meta_item = st.fixed_dictionaries(
    {"message": meta_message | wrong_types},
    optional={"sender": st.fixed_dictionaries({"id": json_values}) | json_values},
)


@FUZZ
@given(
    obj=st.sampled_from(["page", "instagram"]),
    items=st.lists(meta_item, min_size=1, max_size=3),
    entry_id=json_values,
    levels=st.none() | depth,
)
def test_meta(signed, obj, items, entry_id, levels):
    nonce = next(NONCE)
    for index, item in enumerate(items):
        if isinstance(item["message"], dict) and isinstance(item["message"]["mid"], str):
            item["message"]["mid"] = f"m{nonce}.{index}.{item['message']['mid']}"
    body = {"object": obj, "nonce": nonce, "entry": [{"id": entry_id, "messaging": items}]}
    raw = deep_json(nonce, levels) if levels else json.dumps(body).encode()
    signed(
        "meta",
        lambda client: client.post(
            "/api/webhooks/meta",
            data=raw,
            content_type="application/json",
            headers={"X-Hub-Signature-256": channels.meta_signature(raw)},
        ),
    )


# Shopify -----------------------------------------------------------------------------------------

TOPICS = [
    "customers/update",
    "orders/create",
    "products/update",
    "products/delete",
    "customers/data_request",
    "customers/redact",
    "shop/redact",
    "app/other",
]
shopify_body = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "email": any_text | wrong_types,
        "phone": any_text | wrong_types,
        "customer": json_values,
        "title": json_values,
        "variants": json_values,
        "line_items": json_values,
        "total_price": json_values,
        "created_at": any_text | wrong_types,
    },
)


@FUZZ
@given(
    topic=st.sampled_from(TOPICS),
    shape=st.sampled_from(["object", "wrong type", "deep", "not JSON"]),
    body=shopify_body,
    wrong=wrong_types,
    levels=depth,
)
def test_shopify(signed, topic, shape, body, wrong, levels):
    nonce = next(NONCE)
    raw = {
        "object": lambda: json.dumps(body).encode(),
        "wrong type": lambda: json.dumps([nonce, wrong]).encode(),
        "deep": lambda: deep_json(nonce, levels),
        "not JSON": lambda: b"{not JSON %d" % nonce,
    }[shape]()
    signed(
        "shopify",
        lambda client: client.post(
            "/api/webhooks/shopify",
            data=raw,
            content_type="application/json",
            headers={
                "X-Shopify-Topic": topic,
                "X-Shopify-Webhook-Id": f"wh-{nonce}",
                "X-Shopify-Hmac-Sha256": sign(raw, SHOPIFY_SECRET),
            },
        ),
    )


# SendGrid Event Webhook --------------------------------------------------------------------------

sendgrid_event = st.fixed_dictionaries(
    {"sg_event_id": any_text | wrong_types},
    optional={
        "event": st.sampled_from(["delivered", "bounce", "open", "processed"]) | json_values,
        "sg_message_id": json_values,
        "pd_message_id": json_values,
        "status": json_values,
        "reason": json_values,
        "email": any_text,
    },
)


@FUZZ
@given(
    events=st.lists(sendgrid_event, min_size=1, max_size=4) | json_values,
    levels=st.none() | depth,
)
def test_sendgrid_events(signed, events, levels):
    nonce = next(NONCE)
    if events and isinstance(events, list) and all(isinstance(e, dict) for e in events):
        for index, event in enumerate(events):
            if isinstance(event.get("sg_event_id"), str) and event["sg_event_id"]:
                event["sg_event_id"] = f"{nonce}.{index}.{event['sg_event_id']}"
            else:
                event["nonce"] = nonce
        raw = json.dumps(events).encode()
    else:
        raw = json.dumps({"nonce": nonce, "events": events}).encode()
    if levels:
        raw = deep_json(nonce, levels)
    signed(
        "sendgrid.events",
        lambda client: client.post(
            "/api/webhooks/sendgrid/events",
            data=raw,
            content_type="application/json",
            headers=signed.keys.headers(raw),
        ),
    )


# SendGrid Inbound Parse --------------------------------------------------------------------------

charsets = st.sampled_from(["utf-8", "iso-8859-1", "utf-16", "bogus", ""]) | form_text


@FUZZ
@given(
    fields=st.fixed_dictionaries(
        {},
        optional={
            "from": form_text | st.just("Jane <jane@example.com>"),
            "subject": form_text,
            "text": form_text,
            "html": form_text | st.just("<p>hi</p><script>x()</script>"),
            "to": form_text,
            "attachment-info": form_text | json_values.map(json.dumps),
        },
    ),
    field_charsets=st.dictionaries(
        st.sampled_from(["from", "subject", "text", "html", "headers"]), charsets
    ),
    message_id=form_text,
    extra=st.dictionaries(form_text, form_text, max_size=2),
)
def test_sendgrid_parse(signed, fields, field_charsets, message_id, extra):
    nonce = next(NONCE)
    form = {
        **{key: value for key, value in extra.items() if key},
        **fields,
        "headers": f"Message-ID: <{nonce}.{message_id}@fuzz.example>\nSubject: x\n",
        "charsets": json.dumps(field_charsets),
    }
    signed(
        "sendgrid.inbound",
        lambda client: client.post(
            "/api/webhooks/sendgrid", data=form, headers=channels.basic_auth("parse", "s3cret")
        ),
    )
