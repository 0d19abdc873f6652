"""The storefront widget in Chromium, embedded in a plain page on another origin (a tiny local
"shop"), against the live daphne server: an anonymous visitor chats and uploads a PNG, an agent
in a second browser context sees the ticket arrive live in the inbox, typing shows both ways, and
the agent's reply appears in the widget without a reload. Loading the widget requests nothing
but the shop page's host and ours. A logged-in customer's signed identity attaches the chat to
their existing customer profile; a forged one does not. A proof the agent sends is approved in
the widget and the ticket shows it live; the solved chat asks for its rating in the widget."""

import hashlib
import hmac
import io
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from PIL import Image

from e2e.conftest import daphne_command, free_port, serve
from e2e.test_browser import TIMEOUT_MS, browser, expect, log_in, new_context  # noqa: F401

pytestmark = pytest.mark.e2e

INBOX = "e2e-shop"
SECRET = "e2e-identity-secret"
KNOWN_EMAIL = "demo.customer.1@example.com"  # seed_demo's first customer


def page_html(base_url: str, *, email: str = "", signature: str = "") -> bytes:
    claim = f' data-customer-email="{email}" data-customer-signature="{signature}"' if email else ""
    return (
        "<!doctype html><html lang=en><head><title>Test shop</title></head><body>"
        "<h1>Test shop</h1>"
        f'<script src="{base_url}/widget.js" data-inbox="{INBOX}"{claim} async></script>'
        "</body></html>"
    ).encode()


@pytest.fixture(scope="module")
def demo_server(demo_database, tmp_path_factory):
    """The embedded server, sending a solved ticket's CSAT survey at once (not an hour later)."""
    yield from serve(
        demo_database,
        tmp_path_factory.mktemp("daphne"),
        daphne_command,
        {"CSAT_SURVEY_DELAY_MINUTES": "0"},
    )


@pytest.fixture(scope="module")
def shop(demo_server):
    """A page on 127.0.0.1:<port> embedding the widget from the live server."""
    port = free_port()
    signed = hmac.new(SECRET.encode(), KNOWN_EMAIL.encode(), hashlib.sha256).hexdigest()
    pages = {
        "/": page_html(demo_server.base_url),
        "/signed": page_html(demo_server.base_url, email=KNOWN_EMAIL, signature=signed),
        "/forged": page_html(demo_server.base_url, email=KNOWN_EMAIL, signature="0" * 64),
    }

    class Shop(BaseHTTPRequestHandler):
        def do_GET(self):
            page = pages.get(self.path)
            self.send_response(200 if page else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page or b"not found")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Shop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    demo_server.manage(
        "shell",
        "-c",
        "from integrations.models import WebChatInbox; "
        f"WebChatInbox.objects.update_or_create(key='{INBOX}', defaults=dict("
        f"shop_name='Printdesk Prints', allowed_domains='127.0.0.1:{port}', "
        f"identity_secret='{SECRET}'))",
    )
    yield f"http://127.0.0.1:{port}/"
    server.shutdown()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def test_visitor_and_agent_chat_live_with_typing_both_ways(browser, new_context, shop, demo_server):  # noqa: F811
    agent = new_context().new_page()
    log_in(agent, "ana")  # the agent's socket makes the shop "online"

    visitor_context = browser.new_context()
    visitor_context.set_default_timeout(TIMEOUT_MS)
    hosts = set()
    visitor = visitor_context.new_page()
    visitor.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    visitor.goto(shop)
    launcher = visitor.get_by_role("button", name="Chat with us")
    expect(launcher).to_be_visible()
    visitor.wait_for_load_state("networkidle")
    assert hosts <= {urlsplit(shop).netloc, urlsplit(demo_server.base_url).netloc}, hosts

    launcher.click()
    tag = f"banner-{uuid.uuid4().hex[:8]}"
    message_box = visitor.get_by_label("Your message")
    expect(message_box).to_be_focused()
    message_box.fill(f"Hi, is my {tag} printed yet?")
    message_box.press("Enter")
    expect(visitor.get_by_role("log")).to_contain_text(tag)

    visitor.get_by_label("Attach artwork (PNG, JPEG or PDF)").set_input_files(
        {"name": "artwork.png", "mimeType": "image/png", "buffer": png()}
    )
    visitor.get_by_role("button", name="Send").click()
    expect(visitor.get_by_role("log")).to_contain_text("artwork.png")

    # The new web chat arrives in the agent's open inbox without a reload.
    row = agent.locator("#inbox tbody tr[data-ticket]", has_text=tag)
    expect(row).to_be_visible()
    reference = row.get_attribute("data-ticket")
    row.locator("a.ticket-link").click()
    agent.wait_for_url(f"**/tickets/{reference}/")
    expect(agent.locator("#ticket-timeline")).to_contain_text("artwork.png")
    expect(agent.locator("#webchat-context")).to_contain_text("Web chat")

    agent.locator("#reply-body").press_sequentially("Checking", delay=30)
    expect(visitor.get_by_text("is typing…")).to_be_visible()

    message_box.press_sequentially("still there?", delay=30)
    expect(agent.get_by_text("The customer is typing…")).to_be_visible()

    agent.locator("#reply-body").fill("Yes! It ships today.")
    agent.get_by_role("button", name="Send reply").click()
    expect(visitor.get_by_role("log")).to_contain_text("Yes! It ships today.")
    visitor_context.close()


def customer_emails_of_chat(demo_server, tag: str) -> str:
    """The email identities of the customer whose web chat contains `tag`."""
    return demo_server.manage(
        "shell",
        "-c",
        "from tickets.models import TicketMessage; "
        f"m = TicketMessage.objects.get(body__contains='{tag}'); "
        "print(sorted(m.ticket.customer.identities.filter(kind='email')"
        ".values_list('value', flat=True)))",
    ).strip()


@pytest.mark.parametrize("path, attached", [("signed", True), ("forged", False)])
def test_a_signed_identity_attaches_the_chat_and_a_forged_one_does_not(
    browser,  # noqa: F811
    shop,
    demo_server,
    path,
    attached,
):
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(shop + path)
    page.get_by_role("button", name="Chat with us").click()
    tag = f"{path}-{uuid.uuid4().hex[:8]}"
    box = page.get_by_label("Your message")
    box.fill(f"Where is my order? {tag}")
    email = page.get_by_label("Your email")
    if email.count():  # nobody online: the offline form asks for an email
        email.fill("someone@example.net")
    box.press("Enter")
    expect(page.get_by_role("log")).to_contain_text(tag)
    emails = customer_emails_of_chat(demo_server, tag)
    assert (KNOWN_EMAIL in emails) is attached, emails
    context.close()


def test_a_proof_is_approved_in_the_widget_and_the_solved_chat_asks_for_a_rating(
    browser,  # noqa: F811
    new_context,  # noqa: F811
    shop,
    demo_server,
):
    agent = new_context().new_page()
    log_in(agent, "ana")
    visitor_context = browser.new_context()
    visitor_context.set_default_timeout(TIMEOUT_MS)
    visitor = visitor_context.new_page()
    hosts = set()
    visitor.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    visitor.goto(shop)
    visitor.get_by_role("button", name="Chat with us").click()
    tag = f"proof-{uuid.uuid4().hex[:8]}"
    visitor.get_by_label("Your message").fill(f"Can I see a proof of my cards? {tag}")
    visitor.get_by_label("Your message").press("Enter")
    conversation = visitor.get_by_role("log")
    expect(conversation).to_contain_text(tag)
    reference = demo_server.manage(
        "shell",
        "-c",
        "from tickets.models import TicketMessage; "
        f"print(TicketMessage.objects.get(body__contains='{tag}').ticket.reference)",
    ).splitlines()[-1]

    # The agent sends a proof from the ticket's Orders & proofs panel.
    agent.goto(f"/tickets/{reference}/")
    panel = agent.locator("#printshop-panel")
    panel.get_by_text("Send a proof…").click()
    panel.get_by_label("PDF, PNG or JPEG").set_input_files(
        {"name": "cards.png", "mimeType": "image/png", "buffer": png()}
    )
    panel.get_by_label("Order line (optional)").fill("Business cards")
    panel.get_by_role("button", name="Upload and check").click()
    panel.get_by_role("button", name="Send proof to the customer").click()
    expect(panel.locator(".ps-decision-pending")).to_be_visible()

    # The visitor sees the card under the proof's message, with its preview from our origin.
    card = visitor.get_by_role("group", name="Proof version 1")
    expect(card).to_contain_text("Business cards")
    preview = card.get_by_role("img", name="Proof version 1: cards.png")
    expect(preview).to_be_visible()
    # The thumbnail is drawn by a task after the send: the card shows it when it is ready.
    visitor.wait_for_function(
        "image => image.complete && image.naturalWidth > 0", arg=preview.element_handle()
    )
    assert preview.get_attribute("src").startswith(demo_server.base_url)
    expect(card.get_by_role("link", name="Open the proof page")).to_have_attribute(
        "href", re.compile(re.escape(demo_server.base_url) + "/proofs/")
    )
    # Asking for changes needs a comment; approving does not.
    card.get_by_role("button", name="Request changes").click()
    expect(card.get_by_role("alert")).to_have_text("Tell us what to change.")
    expect(card.get_by_label("Comments (required if you ask for changes)")).to_be_focused()
    card.get_by_role("button", name="Approve").click()
    expect(card.get_by_role("status")).to_have_text(
        "You approved this proof. We will print from this version."
    )
    expect(card.get_by_role("status")).to_be_focused()

    # The agent's open ticket shows the approval without a reload.
    expect(panel.locator(".ps-decision-approved")).to_be_visible()

    # Solved: the widget asks for the rating inline, and the answer is stored.
    agent.locator("#status-select").select_option("solved")
    rating = visitor.get_by_role("group", name="Rate our help")
    expect(rating).to_contain_text("How satisfied are you with the help you got?")
    rating.get_by_label("4: Satisfied").check()
    rating.get_by_label("Anything you want to tell us? (optional)").fill(f"Quick {tag}")
    rating.get_by_role("button", name="Send rating").click()
    expect(rating.get_by_role("status")).to_have_text("Thank you! You rated us 4 out of 5.")
    stored = demo_server.manage(
        "shell",
        "-c",
        "from analytics.models import CustomerSatisfaction; "
        f"s = CustomerSatisfaction.objects.get(ticket__reference='{reference}'); "
        "print(s.rating, s.channel, s.comment)",
    ).splitlines()[-1]
    assert stored == f"4 web Quick {tag}", stored
    assert hosts <= {urlsplit(shop).netloc, urlsplit(demo_server.base_url).netloc}, hosts
    visitor_context.close()
