"""Production hardening: deploy checks, CSP, request ids and JSON logs, body limits, rate limits,
login redirects."""

import json
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client

from accounts.models import Role
from accounts.services import create_api_token
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from helpdesk.logging import JsonFormatter
from integrations.models import WebhookEvent
from integrations.shopify.views import sign
from tickets.models import Customer, TicketMessage

pytestmark = pytest.mark.django_db
BASE_DIR = Path(django_settings.BASE_DIR)
MANAGE = [sys.executable, "manage.py"]


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def production_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="helpdesk.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="helpdesk.example.com",
        PUBLIC_BASE_URL="https://helpdesk.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        TRUSTED_PROXY_COUNT="1",
    )
    return env


def test_check_deploy_is_clean_with_production_env(tmp_path):
    # The security checks (every --deploy check is one); API-schema naming warnings are the
    # schema's business (e2e fuzz suite), not the deployment's.
    result = subprocess.run(
        [*MANAGE, "check", "--deploy", "--tag", "security", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_about_a_proxy_without_a_proxy_count(tmp_path):
    env = production_env(tmp_path)
    env["TRUSTED_PROXY_COUNT"] = "0"
    result = subprocess.run(
        [*MANAGE, "check", "--deploy", "--tag", "security", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "helpdesk.W001" in result.stderr + result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [*MANAGE, "check"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


MAIN_PAGES = ["/", "/tickets/", "/chat/", "/knowledge/", "/notifications/"]


@pytest.mark.parametrize("path", MAIN_PAGES)
def test_main_pages_send_a_strict_csp_and_contain_no_inline_code(agent_client, path):
    response = agent_client.get(path, follow=True)

    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "'self'" in directives["connect-src"] and "ws://" in directives["connect-src"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html)
    assert not INLINE_STYLE.search(html)
    assert not EVENT_HANDLER.search(html)


def test_login_page_has_csp_for_anonymous_visitors(client):
    response = client.get("/accounts/login/")
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_api_docs_run_without_inline_script(agent_client):
    page = agent_client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert not INLINE_SCRIPT.search(html) and not INLINE_STYLE.search(html)
    assert "script-src 'self'" in page["Content-Security-Policy"]
    script = agent_client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I)


def test_templates_have_no_inline_script_style_or_handlers():
    """The CSP forbids them; JS goes in static/js, CSS in static/css."""
    findings = []
    for path in sorted((BASE_DIR / "templates").rglob("*.html")):
        text = path.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_STYLE, EVENT_HANDLER):
            findings += [
                f"{path.relative_to(BASE_DIR)}: {m.group()}" for m in pattern.finditer(text)
            ]
    assert findings == []


def test_request_id_is_generated_echoed_and_logged_as_json(client, caplog):
    with caplog.at_level(logging.INFO, logger="helpdesk.request"):
        response = client.get("/healthz")

    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    record = next(r for r in caplog.records if r.name == "helpdesk.request")
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == request_id
    assert entry["message"] == "GET /healthz 200"
    assert entry["status"] == 200 and entry["path"] == "/healthz"
    assert entry["level"] == "INFO" and entry["logger"] == "helpdesk.request"


def test_log_lines_written_during_a_request_carry_its_id(client, caplog):
    with caplog.at_level(logging.WARNING):
        response = client.post(
            "/api/webhooks/shopify",
            data=b"x" * 64,
            content_type="application/json",
            HTTP_X_REQUEST_ID="nginx-req-0123456789",
        )
    assert response["X-Request-ID"] == "nginx-req-0123456789"
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    assert lines and all(line["request_id"] == "nginx-req-0123456789" for line in lines)


@pytest.mark.parametrize("incoming", ["short", "has spaces in it", "x" * 200, "id\nforged: line"])
def test_an_insane_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-ID"] != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_webhook_body_over_the_limit_is_refused_and_nothing_is_stored(client, settings):
    settings.SHOPIFY_WEBHOOK_SECRET = "shpss_test_secret"
    settings.REQUEST_BODY_LIMITS = {**settings.REQUEST_BODY_LIMITS, "/api/webhooks/": 1000}
    body = json.dumps({"id": 1, "email": "big@example.com", "note": "x" * 2000}).encode()

    response = client.post(
        "/api/webhooks/shopify",
        data=body,
        content_type="application/json",
        HTTP_X_SHOPIFY_TOPIC="customers/create",
        HTTP_X_SHOPIFY_WEBHOOK_ID="wh-big",
        HTTP_X_SHOPIFY_HMAC_SHA256=sign(body, "shpss_test_secret"),
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert WebhookEvent.objects.count() == 0
    assert Customer.objects.count() == 0
    assert TicketMessage.objects.count() == 0


def test_webhook_body_under_the_limit_reaches_the_view(client, settings):
    settings.REQUEST_BODY_LIMITS = {**settings.REQUEST_BODY_LIMITS, "/api/webhooks/": 1000}
    response = client.post("/api/webhooks/shopify", data=b"{}", content_type="application/json")
    assert response.status_code in {401, 403}  # unsigned: the view's own answer, not ours


def test_longest_prefix_wins_so_inbound_mail_may_be_larger(client, settings):
    settings.REQUEST_BODY_LIMITS = {
        "/api/webhooks/": 1000,
        "/api/webhooks/sendgrid": 100_000,
        "/api/webhooks/sendgrid/events": 1000,
    }
    big = "x" * 5000
    inbound = client.post("/api/webhooks/sendgrid", data={"text": big})
    events = client.post("/api/webhooks/sendgrid/events", data=big, content_type="application/json")
    assert inbound.status_code != 413
    assert events.status_code == 413


def test_login_next_to_another_site_lands_on_the_dashboard(client, agent):
    response = client.post(
        "/accounts/login/?next=https://evil.example/steal",
        {"username": agent.username, "password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_login_next_to_a_local_page_is_kept(client, agent):
    response = client.post(
        "/accounts/login/?next=/tickets/",
        {"username": agent.username, "password": DEFAULT_PASSWORD},
    )
    assert response["Location"] == "/tickets/"


def test_api_rate_limit_is_per_token_with_the_error_shape(client, settings, agent):
    settings.API_RATE_LIMIT = "3/minute"
    _, first = create_api_token(actor=agent, owner=agent, name="first")
    _, second = create_api_token(actor=agent, owner=agent, name="second")

    codes = [
        client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {first}").status_code for _ in range(3)
    ]
    limited = client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {first}")
    other_token = client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {second}")

    assert codes == [200, 200, 200]
    assert limited.status_code == 429
    assert limited.json()["code"] == "throttled"
    assert "detail" in limited.json()
    assert int(limited["Retry-After"]) > 0
    assert other_token.status_code == 200


def test_public_login_posts_are_rate_limited_per_address(client, settings, agent):
    settings.PUBLIC_RATE_LIMITS = [
        {"prefix": "/accounts/login/", "methods": ["POST"], "rate": "2/minute"},
        {"prefix": "/api/auth/token/", "methods": ["POST"], "rate": "2/minute"},
    ]
    wrong = {"username": "nobody", "password": "wrong"}
    codes = [client.post("/accounts/login/", wrong).status_code for _ in range(3)]
    token_codes = [
        client.post("/api/auth/token/", wrong, content_type="application/json").status_code
        for _ in range(3)
    ]
    other_address = client.post("/accounts/login/", wrong, REMOTE_ADDR="10.1.2.3")

    assert codes[:2] == [200, 200] and codes[2] == 429
    assert token_codes[2] == 429
    limited = client.post("/api/auth/token/", wrong, content_type="application/json")
    assert limited.json()["code"] == "throttled"
    assert other_address.status_code == 200


def test_client_address_behind_a_trusted_proxy(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.PUBLIC_RATE_LIMITS = [
        {"prefix": "/accounts/login/", "methods": ["POST"], "rate": "1/minute"}
    ]
    wrong = {"username": "nobody", "password": "wrong"}
    # The left-most entry is client-supplied and must not buy a fresh quota.
    first = client.post("/accounts/login/", wrong, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9")
    spoofed = client.post("/accounts/login/", wrong, HTTP_X_FORWARDED_FOR="2.2.2.2, 203.0.113.9")
    another = client.post("/accounts/login/", wrong, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert (first.status_code, spoofed.status_code, another.status_code) == (200, 429, 200)


def test_envvars_command_prints_the_table(capsys):
    call_command("envvars")
    out = capsys.readouterr().out
    assert out.startswith("| Variable | Default | Meaning |")
    for name in ("DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "API_RATE_LIMIT", "LOG_FORMAT"):
        assert f"| `{name}` |" in out
    secret_row = next(line for line in out.splitlines() if "`DJANGO_DEBUG`" in line)
    assert "production" in secret_row


def test_production_static_storage_collects_every_file_with_hashed_names(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "helpdesk.storage.StaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)

    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    assert re.fullmatch(r"css/app\.[0-9a-f]{12}\.css", manifest["css/app.css"])
    assert (tmp_path / "static" / f"{manifest['css/app.css']}.gz").exists()


def test_https_redirect_behind_the_proxy_and_hsts(settings, agent):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    client = Client()  # built after the settings change: SecurityMiddleware reads them once
    client.force_login(agent)

    plain = client.get("/tickets/")
    proxied = client.get("/tickets/", HTTP_X_FORWARDED_PROTO="https")
    probe = client.get("/healthz")

    assert plain.status_code == 301 and plain["Location"] == "https://testserver/tickets/"
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"].startswith("max-age=31536000")
    assert probe.status_code == 200


def test_production_logs_are_json_lines_on_stdout(tmp_path):
    script = "import logging; logging.getLogger('printdesk.test').warning('hello %s', 'ops')"
    result = subprocess.run(
        [*MANAGE, "shell", "--no-imports", "-c", script],
        cwd=BASE_DIR,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    entry = next(line for line in lines if line["logger"] == "printdesk.test")
    assert entry["message"] == "hello ops"
    assert entry["level"] == "WARNING" and entry["request_id"] is None
