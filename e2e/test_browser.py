"""Playwright driving Debian's Chromium against a live daphne server with the demo data.

Covers the agent's main path (log in, filter the inbox, open a ticket, reply, add a note), live
typing between two agents in a chat channel over the WebSocket, the same reply with JavaScript
disabled (plain form posts), and no Content-Security-Policy violations on the main pages.
A failing test leaves a full-page screenshot of every open page in a temporary directory.
"""

import io
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from PIL import Image

from helpdesk.management.commands.seed_demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT_DIR = (
    Path(os.environ.get("E2E_SCREENSHOT_DIR") or tempfile.gettempdir()) / "printdesk-e2e"
)
CONTRAST_SCRIPT = (Path(__file__).parent / "contrast.js").read_text()
OVERFLOW_SCRIPT = (Path(__file__).parent / "overflow.js").read_text()
TIMEOUT_MS = 15_000
expect = playwright_api.expect
expect.set_options(timeout=TIMEOUT_MS)
MAIN_PAGES = ["/", "/tickets/", "/chat/general/", "/knowledge/", "/analytics/", "/customers/"]
# Pages styled by third-party code (Swagger UI, Django admin): CSP only, their contrast is theirs.
VENDOR_PAGES = ["/api/docs/", "/admin/"]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it with apt-get")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser, demo_server, request):
    """Browser contexts on the live server; console errors and CSP reports are collected."""
    contexts = []

    def make(**options):
        context = browser.new_context(base_url=demo_server.base_url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.console_errors = []
        context.on(
            "console",
            lambda message: message.type == "error" and context.console_errors.append(message.text),
        )
        contexts.append(context)
        return context

    yield make
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        for n, context in enumerate(contexts):
            for m, page in enumerate(context.pages):
                path = SCREENSHOT_DIR / f"{request.node.name}-{n}-{m}.png"
                page.screenshot(path=path, full_page=True)
                print(f"screenshot: {path}")
    for context in contexts:
        context.close()


def log_in(page, username: str, password: str = DEMO_PASSWORD, next_url: str = "/tickets/"):
    page.goto(f"/accounts/login/?{urlencode({'next': next_url})}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(next_url) + r"$"))


def open_note(page) -> None:
    """The internal note is folded under the reply composer."""
    page.locator("details.note-toggle > summary").click()


def csp_violations(context) -> list[str]:
    return [text for text in context.console_errors if "Content Security Policy" in text]


def test_agent_filters_the_inbox_opens_a_ticket_replies_and_adds_a_note(new_context):
    context = new_context()
    page = context.new_page()
    log_in(page, "ana")

    page.locator("#f-status").select_option("open")
    # Email: WhatsApp and Messenger refuse replies outside their 24-hour window.
    page.locator("#f-channel").select_option("email")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"status=open.*channel=email"))
    rows = page.locator("#inbox tbody tr[data-ticket]")
    expect(rows.first).to_be_visible()
    expect(page.locator("#inbox tbody tr[data-ticket] .status-open")).to_have_count(rows.count())

    reference = rows.first.get_attribute("data-ticket")
    rows.first.locator("a.ticket-link").click()
    page.wait_for_url(f"**/tickets/{reference}/")
    expect(page.locator("#ticket-page")).to_have_attribute("data-ticket", reference)

    page.locator("#reply-body").fill("E2E reply: your proof is ready.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#ticket-timeline")).to_contain_text("E2E reply: your proof is ready.")
    # The live timeline may show the reply before the page's own swap has emptied the composer.
    expect(page.locator("#reply-body")).to_have_value("")

    open_note(page)
    page.locator("#note-body").fill("E2E note: customer prefers matte.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#ticket-timeline")).to_contain_text("E2E note: customer prefers matte.")
    assert csp_violations(context) == []


def test_keyboard_shortcuts_in_the_inbox_and_on_a_ticket(new_context):
    page = new_context().new_page()
    log_in(page, "ana")
    rows = page.locator("#inbox tbody tr[data-ticket]")
    expect(rows.nth(1)).to_be_visible()

    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("/")
    expect(page.locator("#inbox-q")).to_be_focused()
    page.locator("#inbox-q").blur()

    reference = rows.nth(0).get_attribute("data-ticket")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/tickets/{reference}/")
    page.keyboard.press("r")
    expect(page.locator("#reply-body")).to_be_focused()
    page.locator("#reply-body").blur()
    page.keyboard.press("n")
    expect(page.locator("#note-body")).to_be_focused()


def test_two_agents_on_the_same_ticket_see_each_other_viewing_and_typing(new_context):
    ana_page = new_context().new_page()
    ben_page = new_context().new_page()
    log_in(ana_page, "ana")
    reference = ana_page.locator("#inbox tbody tr[data-ticket]").first.get_attribute("data-ticket")
    log_in(ben_page, "ben", next_url=f"/tickets/{reference}/")
    ana_page.goto(f"/tickets/{reference}/")
    for page in (ana_page, ben_page):
        expect(page.locator("body")).to_have_attribute("data-realtime", "connected")
    viewers = f'[data-viewers-for="{reference}"]'
    expect(ben_page.locator(viewers)).to_have_text("Ana Agent is also viewing this ticket")
    expect(ana_page.locator(viewers)).to_have_text("Ben Agent is also viewing this ticket")

    ana_page.locator("#reply-body").press_sequentially("Your proof", delay=20)
    expect(ben_page.locator(f'[data-typing-indicator="ticket:{reference}"]')).to_have_text(
        "Ana Agent is typing…"
    )

    # A handoff request shows on the receiver's open page at once.
    ana_page.locator("#handoff-section > summary").click()
    ana_page.locator("#handoff-agent").select_option(label="Ben Agent")
    ana_page.locator("#handoff-reason").fill("Production question about the press run")
    ana_page.get_by_role("button", name="Request handoff").click()
    expect(ben_page.locator("#handoff-banners")).to_contain_text("asks Ben Agent to take")


def test_a_new_ticket_enters_the_open_inbox_live_behind_a_show_bar(new_context):
    ana_page = new_context().new_page()
    log_in(ana_page, "ana", next_url="/tickets/?view=open")
    expect(ana_page.locator("body")).to_have_attribute("data-realtime", "connected")
    first_row = ana_page.locator("#inbox tbody tr[data-ticket]").first
    first_before = first_row.get_attribute("data-ticket")

    manager_page = new_context().new_page()
    log_in(manager_page, "manager", next_url="/tickets/new/")
    manager_page.locator("#new-channel").select_option("email")
    manager_page.locator("#new-identity").fill("live.inbox@example.com")
    manager_page.locator("#new-subject").fill("Rush: 300 flyers for Saturday")
    manager_page.get_by_role("button", name="Open ticket").click()
    manager_page.wait_for_url(re.compile(r"/tickets/PD-\d+/$"))
    reference = manager_page.url.rstrip("/").rsplit("/", 1)[1]

    # Nothing moves under the cursor: the bar counts it until asked.
    bar = ana_page.locator("#new-tickets-bar button")
    expect(bar).to_have_text("1 new — show")
    assert first_row.get_attribute("data-ticket") == first_before
    bar.click()
    expect(ana_page.locator(f"#ticket-row-{reference}")).to_contain_text("300 flyers")
    expect(ana_page.locator("#new-tickets-bar")).to_be_hidden()


@pytest.mark.parametrize("width", [1440, 390])
def test_the_inbox_and_a_ticket_fit_the_screen_and_are_captured(new_context, width):
    """Screenshots for review land in the artefacts directory; at 390 px nothing may be wider
    than the screen (the page would scroll sideways and cut the navigation off)."""
    context = new_context(viewport={"width": width, "height": 900 if width > 400 else 844})
    page = context.new_page()
    log_in(page, "ana")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    expect(page.locator("#inbox tbody tr[data-ticket]").first).to_be_visible()
    page.screenshot(path=SCREENSHOT_DIR / f"inbox-{width}.png")
    assert overflowing(page) == []

    reference = page.locator("#inbox tbody tr[data-ticket]").first.get_attribute("data-ticket")
    page.goto(f"/tickets/{reference}/")
    expect(page.locator("#customer-context")).not_to_contain_text("Loading")
    if width >= 1200:
        expect(page.locator(f"#conv-{reference} a")).to_have_attribute("aria-current", "page")
    page.screenshot(path=SCREENSHOT_DIR / f"ticket-{width}.png")
    assert overflowing(page) == []
    assert csp_violations(context) == []


@pytest.mark.parametrize("width", [1440, 390])
def test_the_dashboard_fits_the_screen_and_its_tiles_open_the_inbox(new_context, width):
    """Issue 23 defect 11: my tickets by SLA state, the team queue and today, readable at 390 px;
    a tile opens the inbox view it counts."""
    context = new_context(viewport={"width": width, "height": 900 if width > 400 else 844})
    page = context.new_page()
    log_in(page, "manager", next_url="/")
    expect(page.get_by_role("heading", name="My open tickets")).to_be_visible()
    expect(page.get_by_role("heading", name="Open tickets by agent")).to_be_visible()
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOT_DIR / f"dashboard-{width}.png", full_page=True)
    assert overflowing(page) == []
    assert csp_violations(context) == []

    tile = page.locator(".tile", has_text="Past SLA")
    count = int(tile.locator(".tile-value").inner_text())
    tile.click()
    page.wait_for_url(re.compile(r"/tickets/\?view=open&sla=overdue$"))
    expect(page.locator("#inbox tbody tr[data-ticket]")).to_have_count(count)


def overflowing(page) -> list[str]:
    return page.evaluate(OVERFLOW_SCRIPT)


UNDER_A_POLICY_SCRIPT = """
from automation.models import TicketSla
from tickets.models import TicketStatus
rows = TicketSla.objects.filter(
    policy__isnull=False,
    ticket__status__in=TicketStatus.OPEN_STATES,
    ticket__due_at__isnull=False,
).values_list("ticket__reference", flat=True)[:3]
print(" ".join(rows))
"""


def test_the_inbox_sla_label_is_the_sla_panels_due_time(new_context, demo_server):
    """One SLA clock: for demo tickets under a business-hours policy, the inbox row's due label,
    the ticket header's and the SLA panel's soonest open deadline are the same time."""
    output = demo_server.manage("shell", "-c", UNDER_A_POLICY_SCRIPT).strip().splitlines()
    references = output[-1].split() if output else []
    assert references, "no demo ticket is under an SLA policy"
    page = new_context().new_page()
    log_in(page, "manager")
    for reference in references:
        # The reference search finds exactly that ticket, wherever it sorts in the inbox.
        page.goto(f"/tickets/?{urlencode({'view': 'all', 'q': reference})}")
        inbox_due = page.locator(f"#ticket-row-{reference} time.sla-due").get_attribute("datetime")
        page.goto(f"/tickets/{reference}/")
        panel = page.locator("#ticket-sla")
        expect(panel).to_contain_text("(business hours)")
        deadlines = panel.locator(".sla-deadline time").evaluate_all(
            "times => times.map(time => time.getAttribute('datetime'))"
        )
        assert datetime.fromisoformat(inbox_due) == min(map(datetime.fromisoformat, deadlines))
        assert page.locator(".ticket-meta time.sla-due").get_attribute("datetime") == inbox_due


def test_two_agents_see_each_other_typing_in_a_chat_channel(new_context):
    ana_page = new_context().new_page()
    ben_page = new_context().new_page()
    log_in(ana_page, "ana", next_url="/chat/general/")
    log_in(ben_page, "ben", next_url="/chat/general/")
    indicator = '[data-typing-indicator="channel:general"]'

    # A typing frame sent before the other socket is open would only show on the keepalive.
    for page in (ana_page, ben_page):
        expect(page.locator("body")).to_have_attribute("data-realtime", "connected")
    expect(ben_page.locator(indicator)).to_be_empty()
    ana_page.locator("#chat-body").press_sequentially("hello ben", delay=20)
    expect(ben_page.locator(indicator)).to_have_text("Ana Agent is typing…")

    ben_page.locator("#chat-body").press_sequentially("hi ana", delay=20)
    expect(ana_page.locator(indicator)).to_have_text("Ben Agent is typing…")


def test_reply_works_with_javascript_disabled(new_context, demo_server):
    context = new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, "ben", next_url="/tickets/?channel=email")
    link = page.locator("#inbox tbody tr[data-ticket] a.ticket-link").first
    reference = page.locator("#inbox tbody tr[data-ticket]").first.get_attribute("data-ticket")
    link.click()
    page.wait_for_url(f"**/tickets/{reference}/")

    page.locator("#reply-body").fill("Sent without JavaScript.")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_url(f"**/tickets/{reference}/")
    expect(page.locator("#ticket-timeline")).to_contain_text("Sent without JavaScript.")


def test_the_csp_is_enforced_and_its_violations_reach_the_console(new_context):
    """Guards the check below: an inline script is refused and shows up as a violation."""
    context = new_context()
    page = context.new_page()
    response = page.goto("/accounts/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]

    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.injected = true'; document.body.append(s); }"
        )

    assert page.evaluate("window.injected") is None
    assert len(csp_violations(context)) == 1


@pytest.mark.parametrize("path", MAIN_PAGES)
def test_main_pages_have_no_csp_violations_and_enough_contrast(new_context, path):
    context = new_context()
    page = context.new_page()
    log_in(page, "admin", next_url=path)
    page.wait_for_load_state("networkidle")

    assert csp_violations(context) == []
    assert page.evaluate(CONTRAST_SCRIPT) == []


@pytest.mark.parametrize("path", VENDOR_PAGES)
def test_vendor_pages_have_no_csp_violations(new_context, path):
    context = new_context()
    page = context.new_page()
    log_in(page, "admin", next_url=path)
    page.wait_for_load_state("networkidle")

    assert csp_violations(context) == []


SECURITY_ADMIN = """
from accounts.models import Role
from accounts.tests.factories import UserFactory
from helpdesk.management.commands.seed_demo import DEMO_PASSWORD
user = UserFactory(username="sec-admin", role=Role.ADMIN, is_superuser=True)
user.set_password(DEMO_PASSWORD)
user.save()
"""
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)


def test_admin_turns_on_2fa_signs_in_with_a_code_and_signs_another_device_out(
    new_context, demo_server
):
    """docs/security.md: enrol with the QR page, sign in on a second device with the second
    factor, see the sign-ins in the audit log, sign that device out (its live page goes to the
    login page). A dedicated admin keeps the demo logins password-only for the other tests."""
    from base64 import b32decode

    from django_otp.oath import TOTP

    demo_server.manage("shell", "-c", SECURITY_ADMIN)
    laptop_context = new_context()
    laptop = laptop_context.new_page()
    log_in(laptop, "sec-admin", next_url="/accounts/two-factor/")
    expect(laptop.locator(".qr svg")).to_be_visible()
    secret = laptop.locator("code.secret").inner_text()
    laptop.get_by_label("Code", exact=True).fill(f"{TOTP(b32decode(secret)).token():06d}")
    laptop.get_by_role("button", name="Turn on").click()
    codes = laptop.locator("#recovery-codes code")
    expect(codes).to_have_count(10)
    recovery_code = codes.first.inner_text()

    phone = new_context(user_agent=IPHONE).new_page()
    phone.goto("/accounts/login/?next=/chat/general/")
    phone.get_by_label("Username").fill("sec-admin")
    phone.get_by_label("Password").fill(DEMO_PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url(re.compile(r"/accounts/login/verify/$"))
    phone.get_by_label("Code").fill(recovery_code)  # the app's code would wait for the next step
    phone.get_by_role("button", name="Verify").click()
    phone.wait_for_url(re.compile(r"/chat/general/$"))
    expect(phone.locator("body")).to_have_attribute("data-realtime", "connected")

    laptop.goto("/admin/accounts/auditlogentry/?q=sec-admin")
    expect(laptop.locator("#result_list")).to_contain_text("two_factor.recovery_code_used")
    expect(laptop.locator("#result_list")).to_contain_text("login.succeeded")

    laptop.goto("/accounts/sessions/")
    laptop.locator("#sessions tr", has_text="Safari on iPhone").get_by_role(
        "button", name="Sign out"
    ).click()
    expect(laptop.locator("#sessions")).not_to_contain_text("Safari on iPhone")
    # The phone's socket is closed with 4401 and the page reloads into the login page.
    phone.wait_for_url(re.compile(r"/accounts/login/\?next="))
    assert csp_violations(laptop_context) == []


def test_agent_opens_an_image_attached_to_a_ticket(new_context):
    """A file shared on the ticket shows as a thumbnail in the timeline and opens in a new tab,
    served by the authenticated download (inline, since PNG is on the safe list)."""
    context = new_context()
    page = context.new_page()
    log_in(page, "ana")
    page.locator("#inbox tbody tr[data-ticket] a.ticket-link").first.click()
    page.wait_for_url(re.compile(r"/tickets/PD-\d+/$"))

    open_note(page)
    page.locator("#note-body").fill("E2E: the customer's banner photo.")
    page.locator("#note-files").set_input_files(
        files=[{"name": "banner.png", "mimeType": "image/png", "buffer": _png()}]
    )
    page.get_by_role("button", name="Add note").click()
    link = page.locator("#ticket-timeline a.attachment-link", has_text="banner.png")
    expect(link).to_be_visible()
    # The preview task runs in the server's worker thread; the timeline refreshes live.
    for _ in range(30):
        if link.locator("img.attachment-thumb").count():
            break
        page.wait_for_timeout(500)
        page.reload()
        link = page.locator("#ticket-timeline a.attachment-link", has_text="banner.png")
    thumb = link.locator("img.attachment-thumb")
    expect(thumb).to_be_visible()
    assert thumb.evaluate("img => img.complete && img.naturalWidth > 0")

    with context.expect_page() as opened:
        link.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert re.search(r"/attachments/\d+/$", tab.url)
    assert tab.evaluate("document.images.length === 1 && document.images[0].naturalWidth") == 40
    assert csp_violations(context) == []


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 200)).save(out, format="PNG")
    return out.getvalue()


# The workspace (issue 23): saved views, snooze, macros -------------------------------------------

RUSH_RULE = """
from automation.models import Rule, RuleEvent
Rule.objects.update_or_create(
    name="Tag rush orders",
    defaults={
        "event": RuleEvent.TICKET_CREATED,
        "conditions": [{"field": "subject", "op": "contains", "value": "rush"}],
        "actions": [
            {"type": "add_tags", "tags": ["rush"]},
            {"type": "set_status", "status": "open"},
        ],
    },
)
"""
OPEN_EMAIL_TICKET = """
from accounts.models import User
from tickets import services
customer = services.find_or_create_customer(kind="email", value="{email}", name="E2E Customer")
ticket = services.open_ticket(customer=customer, channel="email", subject="{subject}")
services.record_inbound_message(ticket=ticket, channel="email", sender="{email}", body="Hello?")
services.change_status(ticket=ticket, actor=User.objects.get(username="manager"), status="open")
print(ticket.reference)
"""
CUSTOMER_WRITES = """
from tickets import services
from tickets.models import Ticket
ticket = Ticket.objects.get(reference="{reference}")
services.record_inbound_message(
    ticket=ticket, channel="email", sender="snooze@example.com", body="Any news on my proof?"
)
"""
SOLVING_MACRO = """
from accounts.models import User
from tickets.saved_replies import MacroActions, create_saved_reply
from tickets.models import SavedReply
SavedReply.objects.filter(title="Proof approved").delete()
create_saved_reply(
    actor=User.objects.get(username="manager"),
    title="Proof approved",
    body="Thanks, your proof is approved and goes to print today.",
    actions=MacroActions(set_status="solved", add_tags=["proof"]),
)
"""


def open_email_ticket(demo_server, *, email: str, subject: str) -> str:
    code = OPEN_EMAIL_TICKET.format(email=email, subject=subject)
    return demo_server.manage("shell", "-c", code).strip().splitlines()[-1]


def test_a_shared_view_shows_a_ticket_a_rule_tags_live(new_context, demo_server):
    """An agent saves "Rush proofs" (tag rush, status open) as a shared view; a new ticket that
    a rule tags `rush` (and opens) enters it live behind the new-tickets bar."""
    demo_server.manage("shell", "-c", RUSH_RULE)
    ana = new_context().new_page()
    log_in(ana, "ana", next_url="/tickets/?view=all&status=open&tag=rush")
    ana.locator("details.save-view > summary").click()
    ana.locator("#saved-view-name").fill("Rush proofs")
    ana.locator("#saved-view-shared").check()
    ana.get_by_role("button", name="Save view").click()
    ana.wait_for_url(re.compile(r"saved=\d+"))
    view = ana.locator('[data-saved-view="Rush proofs"]')
    expect(view).to_have_attribute("aria-current", "page")
    expect(ana.locator("body")).to_have_attribute("data-realtime", "connected")

    manager = new_context().new_page()
    log_in(manager, "manager", next_url="/tickets/new/")
    manager.locator("#new-channel").select_option("email")
    manager.locator("#new-identity").fill("rush.proofs@example.com")
    manager.locator("#new-subject").fill("RUSH proof for 200 posters")
    manager.get_by_role("button", name="Open ticket").click()
    manager.wait_for_url(re.compile(r"/tickets/PD-\d+/$"))
    reference = manager.url.rstrip("/").rsplit("/", 1)[1]

    bar = ana.locator("#new-tickets-bar button")
    expect(bar).to_have_text("1 new — show")
    bar.click()
    row = ana.locator(f"#ticket-row-{reference}")
    expect(row).to_contain_text("200 posters")
    expect(row.locator('[data-tag="rush"]')).to_be_visible()

    # Shared: the manager's inbox lists the view with its count.
    manager.goto("/tickets/")
    shared = manager.locator('[data-saved-view="Rush proofs"]')
    expect(shared).to_contain_text("shared")
    assert int(shared.locator("[data-count]").inner_text()) >= 1


def test_a_ticket_snoozed_until_the_reply_comes_back_on_the_reply(new_context, demo_server):
    reference = open_email_ticket(
        demo_server, email="snooze@example.com", subject="Snooze me until they answer"
    )
    page = new_context().new_page()
    log_in(page, "ana", next_url=f"/tickets/{reference}/")
    page.locator("#snooze-until-reply").check()
    page.locator("#ticket-snooze").get_by_role("button", name="Snooze").click()
    expect(page.locator("#ticket-snooze .snoozed-note")).to_contain_text(
        "until the customer replies"
    )

    page.goto("/tickets/?view=open")
    expect(page.locator(f"#ticket-row-{reference}")).to_have_count(0)
    page.goto("/tickets/?view=snoozed")
    expect(page.locator(f"#ticket-row-{reference}")).to_be_visible()

    demo_server.manage("shell", "-c", CUSTOMER_WRITES.format(reference=reference))
    # Back in the open inbox (on reload), marked as back from snooze.
    page.goto("/tickets/?view=open")
    row = page.locator(f"#ticket-row-{reference}")
    expect(row.locator("[data-back-from-snooze]")).to_be_visible()
    page.goto(f"/tickets/{reference}/")
    timeline = page.locator("#ticket-timeline")
    expect(timeline.locator('[data-history="snoozed"]')).to_contain_text("until the customer")
    expect(timeline.locator('[data-history="woke"]')).to_contain_text("customer replied")


def test_a_macro_replies_tags_and_solves_in_one_step(new_context, demo_server):
    demo_server.manage("shell", "-c", SOLVING_MACRO)
    reference = open_email_ticket(
        demo_server, email="macro@example.com", subject="Is my proof OK to print?"
    )
    page = new_context().new_page()
    log_in(page, "manager", next_url=f"/tickets/{reference}/")
    macro = page.locator("#macro-select option", has_text="Proof approved")
    page.locator("#macro-select").select_option(macro.get_attribute("value"))
    page.get_by_role("button", name="Apply macro").click()

    timeline = page.locator("#ticket-timeline")
    expect(timeline).to_contain_text("your proof is approved and goes to print today")
    expect(timeline.locator('[data-history="macro"]')).to_contain_text("Proof approved")
    expect(timeline.locator('[data-history="tags"]')).to_contain_text("proof")
    expect(timeline.locator('[data-history="status"]').last).to_contain_text("open → solved")
    expect(page.locator(".ticket-meta .status-solved")).to_be_visible()


CUSTOMER_FIELD = """
from tickets.models import CustomField
CustomField.objects.update_or_create(
    key="account_type",
    defaults={
        "label": "Account type", "kind": "choice", "choices": ["retail", "wholesale"],
        "applies_to": "customer",
    },
)
"""


def test_the_ticket_customer_card_sets_a_customer_field(new_context, demo_server):
    """Account type chosen in the ticket's customer card is saved in place (htmx swap) and
    shows on the customer's page."""
    demo_server.manage("shell", "-c", CUSTOMER_FIELD)
    reference = open_email_ticket(
        demo_server, email="fields@example.com", subject="Wholesale price for 500 flyers?"
    )
    page = new_context().new_page()
    log_in(page, "ana", next_url=f"/tickets/{reference}/")
    card = page.locator('#customer-fields [data-field="account_type"]')
    card.locator("select").select_option("wholesale")
    with page.expect_response(lambda response: "/fields/" in response.url) as saved:
        card.get_by_role("button", name="Save").click()
    assert saved.value.status == 302  # saved, then the ticket page for the swap
    expect(page.locator(".action-error")).to_have_count(0)
    page.reload()
    expect(card.locator("select")).to_have_value("wholesale")
    page.locator(".ws-context").get_by_role("link", name="E2E Customer").click()
    expect(page.locator("#customer-field-account_type")).to_have_value("wholesale")
    assert csp_violations(page.context) == []


def test_a_reply_sent_later_waits_on_the_timeline_and_goes_on_send_now(new_context, demo_server):
    """ "Send later → In 1 hour" stores the reply after the conversation as "Scheduled for …"
    (nothing sent); Cancel removes it, and "Send now" on another sends it as a reply."""
    reference = open_email_ticket(
        demo_server, email="later@example.com", subject="When is my banner proof ready?"
    )
    page = new_context().new_page()
    log_in(page, "ana", next_url=f"/tickets/{reference}/")
    timeline = page.locator("#ticket-timeline")

    def schedule(text: str):
        page.locator("#reply-body").fill(text)
        # Opened once, it stays open across the page's swaps (inbox.js).
        if not page.locator("#send-later").evaluate("details => details.open"):
            page.locator("#send-later > summary").click()
        page.get_by_role("button", name="In 1 hour").click()
        waiting = timeline.locator("[data-scheduled-reply]", has_text=text)
        expect(waiting).to_contain_text("Scheduled for")
        return waiting

    first = schedule("Your proof follows in the morning.")
    expect(timeline.locator(".msg-out:not(.msg-scheduled)")).to_have_count(0)
    first.get_by_role("button", name="Cancel").click()
    expect(timeline.locator("[data-scheduled-reply]")).to_have_count(0)
    expect(timeline.locator('[data-history="scheduled_reply"]').last).to_contain_text("cancelled")

    # A fresh page: the cancel's swaps may still be re-rendering the composer we would type in.
    page.reload()
    second = schedule("Here is your banner proof.")
    second.get_by_role("button", name="Send now").click()
    expect(timeline.locator("[data-scheduled-reply]")).to_have_count(0)
    expect(timeline.locator(".msg-out", has_text="Here is your banner proof.")).to_be_visible()


def test_discuss_in_graphic_design_shows_the_thread_on_the_ticket_live(new_context, demo_server):
    """ "Discuss in #graphic-design" from a ticket starts a thread whose root is the ticket's
    card; a colleague's reply in chat appears in the ticket's "Team discussion" panel live, and
    the card in chat follows the ticket's status."""
    reference = open_email_ticket(
        demo_server, email="low.dpi@example.com", subject="Logo at 96 dpi for 500 business cards"
    )
    ben = new_context().new_page()
    log_in(ben, "ben", next_url="/chat/graphic-design/")
    ana = new_context().new_page()
    log_in(ana, "ana", next_url=f"/tickets/{reference}/")
    for page in (ana, ben):
        expect(page.locator("body")).to_have_attribute("data-realtime", "connected")

    panel = ana.locator("#team-discussion")
    expect(panel).to_contain_text("No team discussion yet")
    panel.locator("details.discussion-start > summary").click()
    panel.get_by_label("Channel").select_option("graphic-design")
    panel.get_by_label("First message").fill("Their logo is 96 dpi: can we redraw it as vector?")
    panel.get_by_role("button", name="Start discussion").click()
    expect(panel.locator(".discussion-root")).to_contain_text("can we redraw it as vector?")
    expect(panel.get_by_role("link", name="Open the thread in #graphic-design")).to_be_visible()

    # The root arrives in the open channel live, as a card of the ticket.
    root = ben.locator(
        "#chat-messages li.chat-msg", has=ben.locator(f'[data-ticket-card="{reference}"]')
    )
    expect(root.locator("[data-card-status]")).to_have_text("Open")
    expect(root).to_contain_text("Logo at 96 dpi for 500 business cards")
    root.locator("a.thread-link").click()
    ben.wait_for_url(re.compile(r"\?thread=\d+"))
    expect(ben.locator("body")).to_have_attribute("data-realtime", "connected")
    ben.locator("#thread-body").fill("Yes, the vector version is ready in 30 minutes.")
    ben.get_by_role("button", name="Reply", exact=True).click()

    expect(panel).to_contain_text("Yes, the vector version is ready in 30 minutes.")
    expect(panel).to_contain_text("Ben Agent")

    # The card in chat follows the ticket.
    ana.locator("#status-select").select_option("pending")
    card = ben.locator(f'#chat-messages [data-ticket-card="{reference}"] [data-card-status]')
    expect(card).to_have_text("Pending")


def test_share_a_ticket_file_to_graphic_design(new_context, demo_server):
    """ "Share to #channel" on a ticket's image posts it in #graphic-design with a comment: a
    colleague sees it live with its thumbnail and the ticket's link, and opens it inline."""
    reference = open_email_ticket(
        demo_server, email="banner.photo@example.com", subject="Damaged banner, photo attached"
    )
    ben_context = new_context()
    ben = ben_context.new_page()
    log_in(ben, "ben", next_url="/chat/graphic-design/")
    ana = new_context().new_page()
    log_in(ana, "ana", next_url=f"/tickets/{reference}/")
    expect(ben.locator("body")).to_have_attribute("data-realtime", "connected")

    open_note(ana)
    ana.locator("#note-body").fill("E2E: the customer's photo of the banner.")
    ana.locator("#note-files").set_input_files(
        files=[{"name": "banner-photo.png", "mimeType": "image/png", "buffer": _png()}]
    )
    ana.get_by_role("button", name="Add note").click()
    file = ana.locator("#ticket-timeline li.attachment", has_text="banner-photo.png")
    file.get_by_role("link", name="Share to #channel").click()
    ana.wait_for_url(re.compile(r"/files/\d+/share/$"))
    ana.get_by_label("Channel").select_option("graphic-design")
    ana.get_by_label("Comment (optional)").fill("Can we reprint this one at 2 m?")
    ana.get_by_role("button", name="Share").click()
    ana.wait_for_url(re.compile(rf"/tickets/{reference}/#attachment-\d+$"))
    expect(ana.locator(".flash-success")).to_contain_text(
        "Shared banner-photo.png to #graphic-design."
    )

    message = ben.locator("#chat-messages li.chat-msg", has_text="Can we reprint this one at 2 m?")
    shared = message.locator("li.chat-file", has_text="banner-photo.png")
    expect(shared.get_by_role("link", name=reference)).to_have_attribute(
        "href", f"/tickets/{reference}/"
    )
    # The thumbnail is the ticket file's (made by the worker thread); the chat follows it live
    # once the chat frame carries it, or on reload.
    for _ in range(30):
        if shared.locator("img.chat-file-thumb").count():
            break
        ben.wait_for_timeout(500)
        ben.reload()
    thumb = shared.locator("img.chat-file-thumb")
    expect(thumb).to_be_visible()
    assert thumb.evaluate("img => img.complete && img.naturalWidth > 0")
    with ben_context.expect_page() as opened:
        shared.locator("a[data-chat-file]").click()
    tab = opened.value
    tab.wait_for_load_state()
    assert re.search(r"/chat/files/\d+/$", tab.url)
    assert tab.evaluate("document.images.length === 1 && document.images[0].naturalWidth") == 40
    assert csp_violations(ben_context) == []


# The tab's visibility and the browser's Notification are stand-ins: headless Chromium has no
# background tabs nor a notification centre. The fake records what the page asks it to show.
HIDDEN_TAB_WITH_NOTIFICATIONS = """
(() => {
  window.__isHidden = false;
  window.__shown = [];
  window.__frames = 0;
  document.addEventListener("realtime:notification", () => { window.__frames += 1; });
  Object.defineProperty(document, "hidden", { configurable: true, get: () => window.__isHidden });
  class RecordedNotification extends EventTarget {
    constructor(title, options) { super(); window.__shown.push({ title, ...options }); }
    close() {}
  }
  RecordedNotification.permission = "default";
  RecordedNotification.requestPermission = () => {
    RecordedNotification.permission = "granted";
    return Promise.resolve("granted");
  };
  window.Notification = RecordedNotification;
})();
"""


def test_a_note_mention_shows_a_desktop_notification_only_in_a_hidden_tab(new_context):
    ana_context = new_context()
    ana_context.add_init_script(HIDDEN_TAB_WITH_NOTIFICATIONS)
    ana_page = ana_context.new_page()
    log_in(ana_page, "ana", next_url="/accounts/notifications/")
    ana_page.get_by_role("button", name="Enable desktop notifications").click()
    expect(ana_page.locator("[data-desktop-notifications]")).to_have_attribute(
        "data-permission", "granted"
    )
    expect(ana_page.locator("body")).to_have_attribute("data-realtime", "connected")

    manager_page = new_context().new_page()
    log_in(manager_page, "manager")
    reference = manager_page.locator("#inbox tbody tr[data-ticket]").first.get_attribute(
        "data-ticket"
    )
    manager_page.goto(f"/tickets/{reference}/")

    def add_note(text: str) -> None:
        if manager_page.locator("#note-toggle[open]").count() == 0:  # folded after each note
            open_note(manager_page)
        manager_page.locator("#note-body").fill(text)
        manager_page.get_by_role("button", name="Add note").click()
        expect(manager_page.locator("#ticket-timeline")).to_contain_text(text.split(" ", 1)[1])
        # The live timeline may show the note before the page's own swap has reset the form.
        expect(manager_page.locator("#note-body")).to_have_value("")

    add_note("@ana seen while the tab is in front")
    ana_page.wait_for_function("window.__frames === 1")
    assert ana_page.evaluate("window.__shown") == []

    ana_page.evaluate("window.__isHidden = true")
    add_note("@ana the customer wants matte, can you check the bleed?")
    ana_page.wait_for_function("window.__shown.length === 1")
    [shown] = ana_page.evaluate("window.__shown")
    assert shown["title"].startswith(f"Maria Manager mentioned you on {reference}")
    assert shown["body"] == "@ana the customer wants matte, can you check the bleed?"
    expect(manager_page.locator("#ticket-timeline a.mention").last).to_have_text("@ana")
    assert csp_violations(ana_context) == []


@pytest.mark.parametrize("width", [1440, 390])
def test_the_automation_pages_fit_the_screen_and_a_rule_test_runs(new_context, width):
    """A manager's automation pages (issue 23): nothing wider than a 390 px screen, and the rule
    test answers in place over htmx (CSRF header from the layout) without a reload."""
    context = new_context(viewport={"width": width, "height": 900 if width > 400 else 844})
    page = context.new_page()
    log_in(page, "manager", next_url="/automation/rules/")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Automation"))
    page.screenshot(path=SCREENSHOT_DIR / f"automation-rules-{width}.png")
    assert overflowing(page) == []

    page.locator("#rules tbody a").first.click()
    reference = "PD-1001"
    page.locator("#rule-test-reference").fill(reference)
    page.get_by_role("button", name="Test", exact=True).click()
    expect(page.locator("#rule-test-outcome")).to_contain_text(reference)
    page.screenshot(path=SCREENSHOT_DIR / f"automation-rule-{width}.png")
    assert overflowing(page) == []

    for path in ("/automation/sla/", "/automation/webhooks/", "/automation/webhooks/new/"):
        page.goto(path)
        assert overflowing(page) == [], path
    page.goto("/automation/sla/")
    page.locator("#calendars tbody a").first.click()
    expect(page.locator("#hours-table")).to_be_visible()
    page.screenshot(path=SCREENSHOT_DIR / f"automation-calendar-{width}.png")
    assert overflowing(page) == []
    assert csp_violations(context) == []
