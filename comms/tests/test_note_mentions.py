"""@mentions in a ticket's internal notes (issue 23): who is notified, and how the note shows
them. The parser is chat's (`core.mentions`)."""

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from comms import subscribers
from comms.models import Notification, NotificationKind
from core.mentions import parse_mentions
from tickets import events
from tickets.rendering import mentioned_staff, timeline_context
from tickets.services import add_internal_note
from tickets.tests.factories import InternalNoteFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def author():
    return UserFactory(username="author", first_name="Ana", role=Role.AGENT)


@pytest.fixture
def ticket():
    return TicketFactory(subject="Banner bleed")


def test_a_note_mentioning_a_colleague_notifies_them_live(
    author, ticket, django_capture_on_commit_callbacks, monkeypatch
):
    colleague = UserFactory(username="ben.k", role=Role.AGENT)
    pushed = []
    monkeypatch.setattr("comms.services.group_send", lambda group, event: pushed.append(group))
    with django_capture_on_commit_callbacks(execute=True):
        note = add_internal_note(ticket=ticket, author=author, body="@ben.k can you check bleed?")
    notification = Notification.objects.get()
    assert (notification.recipient, notification.actor, notification.kind) == (
        colleague,
        author,
        NotificationKind.MENTION,
    )
    assert notification.title == f"Ana mentioned you on {ticket.reference}: Banner bleed"
    assert notification.url == f"/tickets/{ticket.reference}/#note-{note.pk}"
    assert notification.body == "@ben.k can you check bleed?"
    assert pushed == [f"user.{colleague.pk}"]


def test_only_staff_who_can_see_tickets_are_notified(author, ticket):
    viewer = UserFactory(username="viewer", role=Role.VIEWER)
    UserFactory(username="norole")  # no role: may not see tickets
    UserFactory(username="gone", role=Role.AGENT, is_active=False)
    note = InternalNoteFactory(
        ticket=ticket, author=author, body="@viewer @norole @gone @nobody @author thoughts?"
    )
    subscribers.notify_note_mentions(
        events.NoteAdded(ticket_id=ticket.pk, note_id=note.pk, actor_id=author.pk)
    )
    assert list(Notification.objects.values_list("recipient", flat=True)) == [viewer.pk]


def test_a_mention_inside_a_code_span_notifies_nobody(author, ticket):
    UserFactory(username="ben", role=Role.AGENT)
    note = InternalNoteFactory(ticket=ticket, author=author, body="the file says `@ben` here")
    subscribers.notify_note_mentions(
        events.NoteAdded(ticket_id=ticket.pk, note_id=note.pk, actor_id=author.pk)
    )
    assert not Notification.objects.exists()


def test_notes_and_chat_share_one_parser():
    assert parse_mentions("thanks @ana. and @ben.k, not me@example.com or `@cy`") == {
        "ana",
        "ben.k",
    }


def test_the_note_shows_a_mention_as_a_link_to_the_person(author, ticket, client):
    ben = UserFactory(username="ben", display_name="Ben K", role=Role.AGENT)
    InternalNoteFactory(
        ticket=ticket, author=author, body="@ben, <b>bold</b>?\nAsk @nobody. `@ben` thanks @ben."
    )
    client.force_login(author)
    html = client.get(f"/tickets/{ticket.reference}/timeline/").content.decode()
    link = f'<a class="mention" href="/chat/dm/{ben.pk}/" title="Message Ben K">@ben</a>'
    assert f"{link}, &lt;b&gt;bold&lt;/b&gt;?<br>Ask @nobody. `@ben` thanks {link}." in html


def test_mention_links_take_one_query_for_all_notes(author, ticket, django_assert_num_queries):
    staff = [UserFactory(username=f"member{n}", role=Role.AGENT) for n in range(4)]
    for member in staff:
        InternalNoteFactory(ticket=ticket, author=author, body=f"@{member.username} and @author")
    entries = timeline_context(ticket=ticket)["timeline"]  # warm: the shape of the page
    notes = [entry.item for entry in entries if entry.kind == "note"]
    with django_assert_num_queries(1):
        staff_by_name = mentioned_staff(notes)
    assert set(staff_by_name) == {"author", *(member.username for member in staff)}
