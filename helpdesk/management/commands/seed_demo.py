"""Load demo data: staff in every role, a print shop's customers and their conversations on every
channel (scripted in `helpdesk/demo_conversations.py`: this week's, and earlier weeks' replays
already resolved), order links, proofs, SLA deadlines and team chat. Idempotent."""

import json
import random
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.tests.factories import TeamFactory, UserFactory
from analytics.demo import seed_analytics_demo
from automation.calendar import add_business_minutes, subtract_business_minutes
from automation.demo import seed_automation_demo
from automation.sla import get_sla_schedule, refresh_ticket_sla
from comms.models import (
    Channel,
    ChannelMember,
    ChannelMessage,
    StaffPresence,
    Thread,
    TicketDiscussion,
)
from comms.services import post_message, start_ticket_discussion
from helpdesk.demo_conversations import CHAT, CONVERSATIONS, CUSTOMERS, DISCUSSIONS
from integrations.fakes.demo_data import line_items, order_numbers, perp_order_number
from integrations.shopify.types import ShopifyProduct
from knowledge.services import import_products
from printshop.models import Proof, ProofDecision
from printshop.services import link_order_references
from printshop.tests.factories import ProofFactory
from tickets.models import (
    ChannelKind,
    CustomerIdentity,
    DeliveryStatus,
    IdentityKind,
    InternalNote,
    Ticket,
    TicketAssignment,
    TicketMessage,
    TicketStatus,
)
from tickets.tests.factories import (
    CustomerFactory,
    CustomerIdentityFactory,
    InternalNoteFactory,
    OutboundMessageFactory,
    TicketAssignmentFactory,
    TicketFactory,
    TicketMessageFactory,
)

DEMO_PASSWORD = "printdesk-demo"
DEMO_STAFF = [
    # username, display name, role, superuser
    ("admin", "Alex Admin", Role.ADMIN, True),
    ("manager", "Maria Manager", Role.MANAGER, False),
    ("ana", "Ana Agent", Role.AGENT, False),
    ("ben", "Ben Agent", Role.AGENT, False),
    ("viewer", "Vic Viewer", Role.VIEWER, False),
]
# Channels whose providers report "read" (WhatsApp, Messenger, Instagram); SMS and email stop at
# "delivered".
READ_RECEIPT_CHANNELS = {ChannelKind.WHATSAPP, ChannelKind.FACEBOOK, ChannelKind.INSTAGRAM}
DEMO_TEAMS = [("Sales", "sales"), ("Production", "production"), ("Graphic Design", "design")]
MARKER_EMAIL = "demo.customer.1@example.com"
CHANNEL_IDENTITY = {
    ChannelKind.EMAIL: IdentityKind.EMAIL,
    ChannelKind.SMS: IdentityKind.PHONE,
    ChannelKind.WHATSAPP: IdentityKind.WHATSAPP,
    ChannelKind.INSTAGRAM: IdentityKind.INSTAGRAM,
    ChannelKind.FACEBOOK: IdentityKind.FACEBOOK,
}  # Web chat is left out: its demo conversations come from a live widget, not from a seed.
# Earlier weeks replay the script with other customers; what was still open is done by now.
PAST_WEEK_STATUS = {
    TicketStatus.NEW: TicketStatus.CLOSED,
    TicketStatus.OPEN: TicketStatus.SOLVED,
    TicketStatus.PENDING: TicketStatus.CLOSED,
    TicketStatus.ON_HOLD: TicketStatus.SOLVED,
}


def backdate(model, pk: int, when, **fields) -> None:
    # auto_now_add ignores assigned values, so demo history is backdated with update().
    model.objects.filter(pk=pk).update(created_at=when, **fields)


class Command(BaseCommand):
    help = "Create demo staff, customers, tickets and chat. Running it again changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=24)
        parser.add_argument("--tickets", type=int, default=120)

    def handle(self, *args, customers: int, tickets: int, **options):
        with transaction.atomic():
            staff = self.ensure_staff()
            teams = [TeamFactory(name=name, slug=slug) for name, slug in DEMO_TEAMS]
            seed_automation_demo()
            if CustomerIdentity.objects.filter(
                kind=IdentityKind.EMAIL, value=MARKER_EMAIL
            ).exists():
                self.stdout.write("Demo data already present; staff logins refreshed.")
            else:
                self.create_demo_data(staff, teams, customers=customers, tickets=tickets)
            self.create_discussions(staff)
        self.load_catalog()
        self.print_logins()

    def load_catalog(self) -> None:
        """Demo product catalog into product knowledge (unchanged products are skipped)."""
        data = json.loads((settings.BASE_DIR / "fixtures" / "shopify-products.json").read_text())
        changed = import_products(products=[ShopifyProduct.from_rest(p) for p in data["products"]])
        self.stdout.write(
            f"Product catalog: {changed} of {len(data['products'])} products updated."
        )

    def ensure_staff(self) -> dict[str, User]:
        staff = {}
        for username, display_name, role, is_superuser in DEMO_STAFF:
            user = UserFactory(username=username, role=role)
            user.display_name = display_name
            user.first_name = display_name.split()[0]
            user.is_superuser = is_superuser
            user.is_staff = is_superuser
            user.is_active = True
            user.set_password(DEMO_PASSWORD)
            user.save()
            StaffPresence.objects.get_or_create(user=user)
            staff[username] = user
        return staff

    def create_demo_data(self, staff, teams, *, customers: int, tickets: int) -> None:
        rng = random.Random(1042)
        team_members = {"sales": [staff["ana"], staff["manager"]], "production": [staff["ben"]]}
        for team in teams:
            team.members.add(*team_members.get(team.slug, []))
        teams_by_slug = {team.slug: team for team in teams}
        people = [self.create_customer(n) for n in range(1, customers + 1)]
        now = timezone.now()
        for i in range(tickets):
            script = CONVERSATIONS[i % len(CONVERSATIONS)]
            week = i // len(CONVERSATIONS)
            n = (i + 5 * week) % len(people) + 1
            # The script's hours are business hours before now (before the last closing time
            # when seeded out of hours), so each ticket's SLA state comes out the same whenever
            # the demo is loaded.
            schedule = get_sla_schedule(priority=script.priority, channel=script.channel)
            opened_at = subtract_business_minutes(
                schedule, now, script.opened_hours_ago * 60
            ) - timedelta(weeks=week)
            self.create_conversation(
                script,
                customer=people[n - 1],
                n=n,
                staff=staff,
                team=teams_by_slug.get(script.team) if script.team else None,
                schedule=schedule,
                opened_at=opened_at,
                status=PAST_WEEK_STATUS.get(script.status, script.status)
                if week
                else script.status,
            )
        seed_analytics_demo(rng=rng)
        for channel in Channel.objects.filter(kind="public"):
            for user in staff.values():
                ChannelMember.objects.get_or_create(channel=channel, user=user)
        managers = Channel.objects.get(slug="managers")
        for username in ("admin", "manager"):
            ChannelMember.objects.get_or_create(channel=managers, user=staff[username])
        for slug, username, text, minutes_ago in CHAT:
            message = post_message(
                channel=Channel.objects.get(slug=slug), author=staff[username], body=text
            )
            backdate(ChannelMessage, message.pk, now - timedelta(minutes=minutes_ago))

    def create_discussions(self, staff) -> None:
        """Team chat threads about this week's demo tickets (each ticket's newest copy), once:
        also for a database seeded before discussions existed."""
        if TicketDiscussion.objects.exists():
            return
        now = timezone.now()
        for slug, subject, starter, text, replies, minutes_ago in DISCUSSIONS:
            ticket = Ticket.objects.filter(subject=subject).order_by("-created_at").first()
            if ticket is None:
                continue
            discussion = start_ticket_discussion(
                ticket=ticket,
                channel=Channel.objects.get(slug=slug),
                author=staff[starter],
                body=text,
            )
            when = now - timedelta(minutes=minutes_ago)
            backdate(ChannelMessage, discussion.root_message_id, when)
            backdate(TicketDiscussion, discussion.pk, when)
            for username, reply_text in replies:
                when += timedelta(minutes=8)
                reply = post_message(
                    channel=discussion.root_message.channel,
                    author=staff[username],
                    body=reply_text,
                    thread_root_id=discussion.root_message_id,
                )
                backdate(ChannelMessage, reply.pk, when)
                Thread.objects.filter(pk=reply.thread_id).update(last_reply_at=when)

    def create_customer(self, n: int):
        name, company = CUSTOMERS[(n - 1) % len(CUSTOMERS)]
        if n > len(CUSTOMERS):
            name = f"{name} ({n})"
        customer = CustomerFactory(name=name, notes=company)
        phone = f"+4477009{n:05d}"
        identities = {
            IdentityKind.EMAIL: f"demo.customer.{n}@example.com",
            IdentityKind.PHONE: phone,
            IdentityKind.WHATSAPP: phone,
            IdentityKind.INSTAGRAM: f"1784{n:011d}",
            IdentityKind.FACEBOOK: f"2456{n:012d}",
        }
        for kind, value in identities.items():
            CustomerIdentityFactory(customer=customer, kind=kind, value=value)
        return customer

    def create_conversation(
        self, script, *, customer, n: int, staff, team, schedule, opened_at, status: str
    ) -> None:
        order = order_numbers(n)[0]
        assignee = staff[script.assignee] if script.assignee else None
        words = {
            "first": customer.name.split()[0],
            "order": f"#{order}",
            "perp": perp_order_number(order),
            "product": line_items(order)[0]["title"],
            "agent": assignee.first_name if assignee else "",
        }
        ticket = TicketFactory(
            customer=customer,
            channel=script.channel,
            status=status,
            priority=script.priority,
            subject=script.subject.format(**words),
            assignee=assignee,
            team=team,
            is_escalated=script.is_escalated,
        )
        sender = customer.identities.get(kind=CHANNEL_IDENTITY[script.channel]).value
        # Recent conversations' later turns would otherwise land in the future.
        latest = timezone.now() - timedelta(minutes=1)
        when = opened_at
        last_customer = first_response = None
        customer_text = [ticket.subject]
        for index, turn in enumerate(script.turns):
            if index:
                when = min(add_business_minutes(schedule, when, turn.minutes), latest)
            text = turn.text.format(**words)
            if turn.who == "customer":
                message = TicketMessageFactory(
                    ticket=ticket, sender=sender, channel=script.channel, body=text
                )
                backdate(TicketMessage, message.pk, when, sent_at=when)
                last_customer = when
                customer_text.append(text)
            elif turn.who == "agent":
                reply = OutboundMessageFactory(
                    ticket=ticket,
                    author=assignee,
                    channel=script.channel,
                    recipient=sender,
                    body=text,
                    delivery_status=DeliveryStatus.READ
                    if script.channel in READ_RECEIPT_CHANNELS
                    else DeliveryStatus.DELIVERED,
                    is_sandbox=True,
                )
                backdate(TicketMessage, reply.pk, when, sent_at=when)
                first_response = first_response or when
            else:
                note = InternalNoteFactory(
                    ticket=ticket, author=assignee or staff["manager"], body=text
                )
                backdate(InternalNote, note.pk, when)
        # What the inbound path does for each customer message: order numbers become links.
        link_order_references(ticket=ticket, text="\n".join(customer_text))
        if assignee is not None:
            assignment = TicketAssignmentFactory(
                ticket=ticket, to_agent=assignee, assigned_by=staff["manager"]
            )
            backdate(TicketAssignment, assignment.pk, opened_at + timedelta(minutes=2))
        if script.proof:
            self.create_proof(
                ticket, order=f"#{order}", decision=script.proof, when=when, staff=staff
            )
        resolved_at = closed_at = None
        if status in TicketStatus.CLOSED_STATES:
            resolved_at = when + timedelta(minutes=20)
        if status == TicketStatus.CLOSED:
            closed_at = resolved_at + timedelta(days=3)
        Ticket.objects.filter(pk=ticket.pk).update(
            created_at=opened_at,
            updated_at=when,
            last_message_at=when,
            last_customer_message_at=last_customer,
            first_response_at=first_response,
            resolved_at=resolved_at,
            closed_at=closed_at,
        )
        # Ticket.due_at from the SLA policies, as every ticket event would keep it.
        refresh_ticket_sla(ticket_id=ticket.pk)

    def create_proof(self, ticket, *, order: str, decision: str, when, staff) -> None:
        decided = decision != ProofDecision.PENDING
        proof = ProofFactory(
            ticket=ticket,
            order_number=order,
            order_line="front-and-back",
            created_by=staff["admin"],
            message="Here is your proof: please check the text, colours and trim.",
            decision=decision,
            decided_at=when if decided else None,
            decision_comment="Please move the logo in from the edge."
            if decision == ProofDecision.CHANGES_REQUESTED
            else "",
            sent_at=when - timedelta(hours=2),
            expires_at=when + timedelta(days=14),
        )
        backdate(Proof, proof.pk, when - timedelta(hours=2))

    def print_logins(self) -> None:
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {DEMO_PASSWORD}):"))
        for username, display_name, role, _ in DEMO_STAFF:
            self.stdout.write(f"  {username:<8} {role:<8} {display_name}")
