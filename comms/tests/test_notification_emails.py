"""Notification emails while offline (issue 23): mentions, assignments and handoffs that reach
someone without a live socket are mailed as one digest per window, if they want it."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import NotificationEmails, Role
from accounts.tests.factories import UserFactory
from comms import digests
from comms.models import EmailDigest, Notification, NotificationKind, PresenceConnection
from comms.services import mark_notification_read, notify_user
from comms.tasks import send_notification_digest
from tickets.services import add_internal_note, assign_ticket
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

DIGEST_TASK = "comms.tasks.send_notification_digest"


@pytest.fixture
def agent():
    return UserFactory(username="ana", first_name="Ana", role=Role.AGENT)


@pytest.fixture
def manager():
    return UserFactory(username="max", first_name="Max", role=Role.MANAGER)


def _notify(recipient, *, actor, kind=NotificationKind.MENTION, reference="PD-1"):
    return notify_user(
        recipient=recipient,
        actor=actor,
        kind=kind,
        title=f"{kind} on {reference}",
        body="Can you look?",
        url=f"/tickets/{reference}/",
    )


def _go_online(user):
    PresenceConnection.objects.create(
        user=user, channel_name=f"specific.{user.pk}", last_heartbeat_at=timezone.now()
    )


def test_three_notifications_in_a_window_make_one_email_with_three_items(
    agent, manager, database_tasks, settings, mailoutbox
):
    settings.PUBLIC_BASE_URL = "https://desk.example.test"
    before = timezone.now()
    for kind, reference in (
        (NotificationKind.MENTION, "PD-1"),
        (NotificationKind.ASSIGNMENT, "PD-2"),
        (NotificationKind.HANDOFF, "PD-3"),
    ):
        _notify(agent, actor=manager, kind=kind, reference=reference)

    digest = EmailDigest.objects.get()
    assert list(Notification.objects.values_list("email_digest", flat=True)) == [digest.pk] * 3
    task = DBTaskResult.objects.get(task_path=DIGEST_TASK)
    assert task.args_kwargs["kwargs"] == {"digest_id": digest.pk}
    window = timedelta(minutes=settings.NOTIFICATION_DIGEST_MINUTES)
    assert before + window <= task.run_after <= timezone.now() + window
    assert not mailoutbox

    assert send_notification_digest.call(digest_id=digest.pk) == "sent"
    [email] = mailoutbox
    assert email.to == [agent.email]
    assert email.subject == "Printdesk: 3 notifications while you were away"
    assert email.extra_headers["Auto-Submitted"] == "auto-generated"
    html = email.alternatives[0][0]
    for reference in ("PD-1", "PD-2", "PD-3"):
        assert f"https://desk.example.test/tickets/{reference}/" in email.body
        assert f'href="https://desk.example.test/tickets/{reference}/"' in html
    digest.refresh_from_db()
    assert digest.closed_at is not None and digest.sent_at is not None
    # Sent once: the same task again mails nothing.
    assert send_notification_digest.call(digest_id=digest.pk) == "skipped"
    assert len(mailoutbox) == 1


def test_a_notification_after_the_digest_closed_starts_the_next_one(agent, manager, database_tasks):
    first = _notify(agent, actor=manager).email_digest
    digests.send_digest(digest_id=first.pk)
    second = _notify(agent, actor=manager).email_digest
    assert second.pk != first.pk and second.closed_at is None
    assert DBTaskResult.objects.filter(task_path=DIGEST_TASK).count() == 2


def test_someone_online_gets_no_email(agent, manager, database_tasks):
    _go_online(agent)
    assert _notify(agent, actor=manager).email_digest is None
    assert not EmailDigest.objects.exists()
    assert not DBTaskResult.objects.filter(task_path=DIGEST_TASK).exists()


def test_a_stale_socket_does_not_count_as_online(agent, manager, settings):
    PresenceConnection.objects.create(
        user=agent,
        channel_name="specific.gone",
        last_heartbeat_at=timezone.now() - timedelta(seconds=settings.PRESENCE_TIMEOUT_SECONDS + 1),
    )
    assert _notify(agent, actor=manager).email_digest is not None


def test_emails_off_means_no_email(agent, manager, database_tasks):
    agent.notification_emails = NotificationEmails.OFF
    agent.save()
    assert _notify(agent, actor=manager).email_digest is None
    assert not DBTaskResult.objects.filter(task_path=DIGEST_TASK).exists()


def test_only_mentions_assignments_and_handoffs_are_emailed(agent, manager):
    for kind in (NotificationKind.ESCALATION, NotificationKind.CSAT, NotificationKind.SYSTEM):
        assert _notify(agent, actor=manager, kind=kind).email_digest is None


def test_a_deactivated_account_is_never_emailed(agent, manager, database_tasks, mailoutbox):
    digest = _notify(agent, actor=manager).email_digest
    agent.is_active = False
    agent.save()
    assert digests.send_digest(digest_id=digest.pk) == "nothing_to_send"
    assert not mailoutbox


def test_turning_emails_off_before_the_digest_goes_cancels_it(
    agent, manager, database_tasks, mailoutbox
):
    digest = _notify(agent, actor=manager).email_digest
    agent.notification_emails = NotificationEmails.OFF
    agent.save()
    assert digests.send_digest(digest_id=digest.pk) == "nothing_to_send"
    assert not mailoutbox


def test_what_was_read_in_the_app_meanwhile_is_left_out(agent, manager, database_tasks, mailoutbox):
    read = _notify(agent, actor=manager, reference="PD-1")
    _notify(agent, actor=manager, reference="PD-2")
    mark_notification_read(user=agent, notification_id=read.pk)
    digests.send_digest(digest_id=read.email_digest_id)
    [email] = mailoutbox
    assert "/tickets/PD-2/" in email.body and "/tickets/PD-1/" not in email.body
    assert email.subject == "Printdesk: mention on PD-2"


def test_a_failed_send_is_recorded_and_retried(agent, manager, database_tasks, monkeypatch):
    digest = _notify(agent, actor=manager).email_digest

    def refuse(self, fail_silently=False):
        raise ConnectionError("provider down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    assert send_notification_digest.call(digest_id=digest.pk) == "failed"
    digest.refresh_from_db()
    assert (digest.sent_at, digest.error) == (None, "ConnectionError: provider down")
    retry = DBTaskResult.objects.filter(task_path=DIGEST_TASK).order_by("-enqueued_at").first()
    assert retry.args_kwargs["kwargs"] == {"digest_id": digest.pk, "attempt": 2}


def test_notifying_someone_offline_adds_two_queries_once_their_digest_is_open(
    agent, manager, database_tasks, django_assert_num_queries
):
    _notify(agent, actor=manager)  # opens the digest
    # The socket check and the open digest (FOR UPDATE), then the notification row.
    with django_assert_num_queries(3):
        _notify(agent, actor=manager)


def test_an_assignment_reaches_an_offline_agent_by_email(
    agent, manager, django_capture_on_commit_callbacks, mailoutbox, settings
):
    settings.PUBLIC_BASE_URL = "https://desk.example.test"
    ticket = TicketFactory(subject="Banner reprint")
    # The immediate task backend of the tests mails at once instead of after the window.
    with django_capture_on_commit_callbacks(execute=True):
        assign_ticket(ticket=ticket, actor=manager, assignee=agent, team=None)
    [email] = mailoutbox
    assert email.subject == f"Printdesk: {ticket.reference} was assigned to you"
    assert f"https://desk.example.test/tickets/{ticket.reference}/" in email.body
    assert "Banner reprint" in email.body


def test_a_mention_in_a_note_reaches_an_offline_colleague_by_email(
    agent, manager, django_capture_on_commit_callbacks, mailoutbox
):
    ticket = TicketFactory()
    with django_capture_on_commit_callbacks(execute=True):
        note = add_internal_note(ticket=ticket, author=manager, body="@ana proof is ready")
    [email] = mailoutbox
    assert email.to == [agent.email]
    assert f"/tickets/{ticket.reference}/#note-{note.pk}" in email.body
