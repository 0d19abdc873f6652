"""Accessibility basics on the rendered main pages: every form control has an accessible name."""

from html.parser import HTMLParser

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from tickets.tests.factories import InternalNoteFactory, TicketFactory, TicketMessageFactory

UNNAMED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class ControlCollector(HTMLParser):
    """Form controls, the `for` targets of labels, and controls wrapped in a <label>."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict] = []
        self.label_targets: set[str] = set()
        self.label_depth = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "label":
            self.label_depth += 1
            if attributes.get("for"):
                self.label_targets.add(attributes["for"])
        elif tag in {"input", "select", "textarea"}:
            if tag == "input" and attributes.get("type", "text") in UNNAMED_TYPES:
                return
            self.controls.append({**attributes, "tag": tag, "in_label": self.label_depth > 0})

    def handle_endtag(self, tag):
        if tag == "label" and self.label_depth:
            self.label_depth -= 1

    def unnamed(self) -> list[str]:
        return [
            f"<{c['tag']} name={c.get('name')!r} id={c.get('id')!r}>"
            for c in self.controls
            if not (
                c["in_label"]
                or c.get("aria-label")
                or c.get("aria-labelledby")
                or (c.get("id") and c["id"] in self.label_targets)
            )
        ]


def unnamed_controls(html: str) -> list[str]:
    collector = ControlCollector()
    collector.feed(html)
    return collector.unnamed()


def test_the_checker_finds_an_unnamed_control():
    html = (
        '<label for="a">A</label><input id="a"><label>B <select name="b"></select></label>'
        '<input name="c" aria-label="C"><input type="hidden" name="d">'
        '<textarea name="e"></textarea>'
    )

    assert unnamed_controls(html) == ["<textarea name='e' id=None>"]


@pytest.fixture
def world(db):
    admin = UserFactory(role=Role.ADMIN)
    ticket = TicketFactory()
    TicketMessageFactory(ticket=ticket)
    InternalNoteFactory(ticket=ticket, author=admin)
    return {"admin": admin, "ticket": ticket}


MAIN_PAGES = [
    "/",
    "/tickets/",
    "/tickets/new/",
    "/tickets/{ticket}/",
    "/customers/",
    "/customers/{customer}/",
    "/saved-replies/",
    "/chat/general/",
    "/chat/new/",
    "/notifications/",
    "/knowledge/",
    "/analytics/",
    "/staff/",
    "/staff/new/",
    "/accounts/tokens/",
    # Partials htmx loads into the ticket page and the inbox.
    "/tickets/{ticket}/timeline/",
    "/tickets/{ticket}/row/",
    "/knowledge/suggestions/?ticket={ticket}",
    "/customers/{customer}/context/?ticket={ticket}",
]


@pytest.mark.parametrize("path", MAIN_PAGES)
def test_every_form_control_on_the_main_pages_has_a_label(client, world, path):
    client.force_login(world["admin"])
    url = path.format(ticket=world["ticket"].reference, customer=world["ticket"].customer_id)

    response = client.get(url)

    assert response.status_code == 200
    assert unnamed_controls(response.content.decode()) == []


def test_the_login_form_has_labels(client, db):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert unnamed_controls(response.content.decode()) == []
