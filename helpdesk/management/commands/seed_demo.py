"""Load demo data: staff in every role, customers on every channel, tickets, chat. Idempotent."""

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
from automation.demo import seed_automation_demo
from comms.models import Channel, ChannelMember, StaffPresence
from comms.tests.factories import ChannelMessageFactory
from integrations.shopify.types import ShopifyProduct
from knowledge.services import import_products
from tickets.models import (
    ChannelKind,
    CustomerIdentity,
    DeliveryStatus,
    IdentityKind,
    Ticket,
    TicketMessage,
    TicketPriority,
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
DEMO_TEAMS = [("Sales", "sales"), ("Production", "production"), ("Graphic Design", "design")]
MARKER_EMAIL = "demo.customer.1@example.com"
SUBJECTS = [
    "Where is my order {order}?",
    "Proof for business cards looks blurry",
    "Can you print 500 flyers on 300gsm matte?",
    "Banner arrived with a crease",
    "Invoice for order {order}",
    "Change the shipping address on {order}",
    "Do the vinyl stickers survive rain?",
    "Rush order for Friday's trade show",
    "Colour on the brochure is off",
    "Reorder last month's postcards",
]
CHANNEL_IDENTITY = {
    ChannelKind.EMAIL: IdentityKind.EMAIL,
    ChannelKind.SMS: IdentityKind.PHONE,
    ChannelKind.WHATSAPP: IdentityKind.WHATSAPP,
    ChannelKind.INSTAGRAM: IdentityKind.INSTAGRAM,
    ChannelKind.FACEBOOK: IdentityKind.FACEBOOK,
}  # Web chat is left out: its demo conversations come from a live widget, not from a seed.


def backdate(message: TicketMessage, when) -> None:
    # auto_now_add ignores assigned values, so demo history is backdated with update().
    TicketMessage.objects.filter(pk=message.pk).update(created_at=when, sent_at=when)


class Command(BaseCommand):
    help = "Create demo staff, customers, tickets and chat. Running it again changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=50)
        parser.add_argument("--tickets", type=int, default=200)

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
        agents = [staff["ana"], staff["ben"], staff["manager"]]
        team_members = {"sales": [staff["ana"]], "production": [staff["ben"]], "design": []}
        for team in teams:
            team.members.add(*team_members.get(team.slug, []))
        people = [self.create_customer(n, rng) for n in range(1, customers + 1)]
        now = timezone.now()
        statuses = [s for s in TicketStatus.values]
        for n in range(tickets):
            customer = rng.choice(people)
            channel = rng.choice(list(CHANNEL_IDENTITY))
            status = rng.choices(statuses, weights=[3, 5, 2, 1, 3, 2])[0]
            created_at = now - timedelta(hours=rng.randint(1, 24 * 45))
            assignee = None if status == TicketStatus.NEW else rng.choice([*agents, None])
            ticket = TicketFactory(
                customer=customer,
                channel=channel,
                status=status,
                priority=rng.choices(TicketPriority.values, weights=[2, 6, 2, 1])[0],
                subject=rng.choice(SUBJECTS).format(order=f"#{1001 + n}"),
                assignee=assignee,
                team=rng.choice([*teams, None, None]),
                is_escalated=rng.random() < 0.05,
            )
            sender = customer.identities.filter(kind=CHANNEL_IDENTITY[channel]).first()
            self.create_conversation(
                ticket, sender.value if sender else "", assignee, created_at, rng
            )
        seed_analytics_demo(rng=rng)
        for channel in Channel.objects.filter(kind="public"):
            for user in staff.values():
                ChannelMember.objects.get_or_create(channel=channel, user=user)
            for _ in range(6):
                ChannelMessageFactory(channel=channel, author=rng.choice(list(staff.values())))
        managers = Channel.objects.get(slug="managers")
        for username in ("admin", "manager"):
            ChannelMember.objects.get_or_create(channel=managers, user=staff[username])

    def create_customer(self, n: int, rng: random.Random):
        customer = CustomerFactory()
        phone = f"+4477009{n:05d}"
        CustomerIdentityFactory(
            customer=customer, kind=IdentityKind.EMAIL, value=f"demo.customer.{n}@example.com"
        )
        CustomerIdentityFactory(customer=customer, kind=IdentityKind.PHONE, value=phone)
        CustomerIdentityFactory(customer=customer, kind=IdentityKind.WHATSAPP, value=phone)
        if rng.random() < 0.6:
            CustomerIdentityFactory(
                customer=customer, kind=IdentityKind.INSTAGRAM, value=f"1784{n:011d}"
            )
        if rng.random() < 0.6:
            CustomerIdentityFactory(
                customer=customer, kind=IdentityKind.FACEBOOK, value=f"2456{n:012d}"
            )
        return customer

    def create_conversation(self, ticket, sender, assignee, created_at, rng) -> None:
        when = created_at
        # Recent tickets' replies would otherwise land in the future.
        latest = timezone.now() - timedelta(minutes=1)
        last_customer = None
        for _turn in range(rng.randint(1, 4)):
            inbound = TicketMessageFactory(ticket=ticket, sender=sender, channel=ticket.channel)
            backdate(inbound, when)
            last_customer = when
            if ticket.status == TicketStatus.NEW:
                break
            when = min(when + timedelta(minutes=rng.randint(5, 240)), latest)
            if assignee is not None:
                reply = OutboundMessageFactory(
                    ticket=ticket,
                    author=assignee,
                    channel=ticket.channel,
                    recipient=sender,
                    delivery_status=rng.choice(
                        [DeliveryStatus.DELIVERED, DeliveryStatus.READ, DeliveryStatus.SENT]
                    ),
                    is_sandbox=True,
                )
                backdate(reply, when)
                if ticket.first_response_at is None:
                    ticket.first_response_at = when
            when = min(when + timedelta(minutes=rng.randint(5, 600)), latest)
        if assignee is not None:
            TicketAssignmentFactory(ticket=ticket, to_agent=assignee, assigned_by=assignee)
            if rng.random() < 0.3:
                InternalNoteFactory(ticket=ticket, author=assignee)
        if ticket.status in TicketStatus.CLOSED_STATES:
            ticket.resolved_at = when
        if ticket.status == TicketStatus.CLOSED:
            ticket.closed_at = min(when + timedelta(days=1), latest)
        sla = timedelta(minutes=settings.TICKET_SLA_MINUTES[ticket.priority])
        Ticket.objects.filter(pk=ticket.pk).update(
            created_at=created_at,
            updated_at=max(when, created_at),
            last_message_at=max(when, created_at),
            last_customer_message_at=last_customer,
            first_response_at=ticket.first_response_at,
            resolved_at=ticket.resolved_at,
            closed_at=ticket.closed_at,
            due_at=created_at + sla,
        )

    def print_logins(self) -> None:
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {DEMO_PASSWORD}):"))
        for username, display_name, role, _ in DEMO_STAFF:
            self.stdout.write(f"  {username:<8} {role:<8} {display_name}")
