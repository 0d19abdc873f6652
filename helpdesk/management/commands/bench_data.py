"""Bulk volume for benchmarks: customers with identities, tickets and their messages.

`manage.py bench_data --tickets 100000 --messages-per-ticket 10` inserts in batches (bulk_create;
COPY on PostgreSQL) with ids assigned here, so references come from `reference_for(pk)` in the
same insert and no RETURNING is needed; timestamps are spread over the past year
(auto_now/auto_now_add are switched off for the run); then the id sequences are reset. Works on
SQLite and PostgreSQL. Not for production databases: it adds rows, it never deletes them.
"""

import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Role, Team, User
from tickets.models import (
    ChannelKind,
    Customer,
    CustomerIdentity,
    DeliveryStatus,
    IdentityKind,
    MessageDirection,
    Ticket,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    reference_for,
)

AGENT_COUNT = 20
BENCH_PASSWORD = "bench-password"
CHANNEL_WEIGHTS = {
    ChannelKind.EMAIL: 45,
    ChannelKind.SMS: 15,
    ChannelKind.WHATSAPP: 20,
    ChannelKind.INSTAGRAM: 10,
    ChannelKind.FACEBOOK: 10,
}
STATUS_WEIGHTS = {
    TicketStatus.NEW: 8,
    TicketStatus.OPEN: 22,
    TicketStatus.PENDING: 12,
    TicketStatus.ON_HOLD: 5,
    TicketStatus.SOLVED: 28,
    TicketStatus.CLOSED: 25,
}
PRIORITY_WEIGHTS = {
    TicketPriority.LOW: 20,
    TicketPriority.NORMAL: 60,
    TicketPriority.HIGH: 15,
    TicketPriority.URGENT: 5,
}
IDENTITY_FOR_CHANNEL = {
    ChannelKind.SMS: IdentityKind.PHONE,
    ChannelKind.WHATSAPP: IdentityKind.WHATSAPP,
    ChannelKind.INSTAGRAM: IdentityKind.INSTAGRAM,
    ChannelKind.FACEBOOK: IdentityKind.FACEBOOK,
}
PROVIDER_FOR_CHANNEL = {
    ChannelKind.EMAIL: "sendgrid",
    ChannelKind.SMS: "twilio",
    ChannelKind.WHATSAPP: "twilio",
    ChannelKind.INSTAGRAM: "meta",
    ChannelKind.FACEBOOK: "meta",
}
FIRST_NAMES = ["Ana", "Ben", "Chloe", "Dev", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas"]
LAST_NAMES = ["Ashby", "Brandt", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Haas", "Iqbal"]
PRODUCTS = [
    "business cards",
    "flyers",
    "roll-up banner",
    "vinyl stickers",
    "brochures",
    "postcards",
    "posters",
    "letterheads",
    "canvas prints",
    "wedding invitations",
]
SUBJECTS = [
    "Where is my order #{order}?",
    "Proof for the {product} looks blurry",
    "Can you print 500 {product} on 300gsm matte?",
    "{product} arrived damaged",
    "Invoice for order #{order}",
    "Change the shipping address on #{order}",
    "Rush order of {product} for Friday",
    "Colour on the {product} is off",
    "Reorder last month's {product}",
    "Discount for 2,000 {product}?",
]
INBOUND_BODIES = [
    "Hi, I ordered {product} (order #{order}) and haven't had a shipping update yet. Any news?",
    "The proof for my {product} shows the logo too close to the edge, can you move it 3 mm in?",
    "Could you quote 1,000 {product}, double-sided, with rounded corners?",
    "Thanks! One more question: can the {product} be delivered to our second office instead?",
    "The {product} came today but two boxes are crushed. Photos attached.",
    "Is it possible to pay the invoice for #{order} by bank transfer?",
]
OUTBOUND_BODIES = [
    "Thanks for reaching out! Order #{order} left our production floor today; tracking follows.",
    "I've asked the design team to adjust the proof for your {product}; new proof within 24 h.",
    "Here is the quote for the {product}: see the attached PDF. It is valid for 30 days.",
    "Sorry about that! We'll reprint the {product} at no cost and ship them express.",
    "Yes, bank transfer works. The details are on the invoice PDF for #{order}.",
]


@contextmanager
def explicit_timestamps(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let bulk_create keep the generated timestamps instead of `now()`."""
    switched = []
    for model in model_classes:
        for field in model._meta.concrete_fields:
            for flag in ("auto_now", "auto_now_add"):
                if getattr(field, flag, False):
                    setattr(field, flag, False)
                    switched.append((field, flag))
    try:
        yield
    finally:
        for field, flag in switched:
            setattr(field, flag, True)


class Progress:
    """A one-line progress bar on stderr (no dependency; silent when verbosity is 0)."""

    def __init__(self, label: str, total: int, *, enabled: bool) -> None:
        self.label, self.total, self.enabled = label, max(total, 1), enabled
        self.started = time.perf_counter()

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        fraction = min(done / self.total, 1.0)
        elapsed = time.perf_counter() - self.started
        rate = done / elapsed if elapsed else 0.0
        bar = "#" * int(30 * fraction)
        sys.stderr.write(
            f"\r{self.label:<10} [{bar:<30}] {done:>9,}/{self.total:,} {rate:>9,.0f}/s"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


class RowWriter:
    """Inserts rows given as {attname: value}: COPY on PostgreSQL, bulk_create elsewhere.

    COPY skips building and compiling a model instance per row, which is where bulk_create
    spends its time at a million rows; both paths write the same columns and values.
    """

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        fields = model._meta.concrete_fields
        self.attnames = [f.attname for f in fields]
        self.defaults = {f.attname: f.get_default() for f in fields}
        self.json = {f.attname for f in fields if isinstance(f, models.JSONField)}
        quote = connection.ops.quote_name
        self.copy_sql = (
            f"COPY {quote(model._meta.db_table)} "
            f"({', '.join(quote(f.column) for f in fields)}) FROM STDIN"
        )

    def write(self, rows: list[dict]) -> None:
        if connection.vendor != "postgresql":
            self.model.objects.bulk_create([self.model(**row) for row in rows])
            return
        from psycopg.types.json import Jsonb

        defaults, attnames, json_fields = self.defaults, self.attnames, self.json
        with connection.cursor() as cursor, cursor.cursor.copy(self.copy_sql) as copy:
            for row in rows:
                values = {**defaults, **row}
                for name in json_fields:
                    values[name] = Jsonb(values[name])
                copy.write_row([values[name] for name in attnames])


def next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


def weighted(rng: random.Random, weights: dict) -> list:
    return rng.choices(list(weights), weights=list(weights.values()), k=4096)


class Command(BaseCommand):
    help = "Insert benchmark volume (customers, identities, tickets, messages) in bulk."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=1000)
        parser.add_argument("--messages-per-ticket", type=int, default=10)
        parser.add_argument(
            "--tickets-per-customer", type=float, default=3.0, help="Average tickets per customer."
        )
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=1042)

    def handle(self, *args, **options):
        tickets = options["tickets"]
        per_ticket = options["messages_per_ticket"]
        batch = options["batch_size"]
        if tickets < 1 or per_ticket < 1 or batch < 1:
            raise CommandError("--tickets, --messages-per-ticket and --batch-size must be >= 1.")
        self.rng = random.Random(options["seed"])
        self.show = options["verbosity"] > 0
        self.now = timezone.now()
        started = time.perf_counter()
        self.agents, self.teams = self.ensure_staff()
        customers = max(1, round(tickets / options["tickets_per_customer"]))
        with explicit_timestamps(Customer, CustomerIdentity, Ticket, TicketMessage):
            homes = self.create_customers(customers, batch)
            self.create_tickets(homes, tickets, per_ticket, batch)
        self.reset_sequences()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"bench_data: {customers:,} customers, {tickets:,} tickets, "
            f"{tickets * per_ticket:,} messages in {elapsed:.1f}s on {connection.vendor}"
        )

    def ensure_staff(self) -> tuple[list[User], list[Team]]:
        group = Group.objects.get(name=Role.AGENT)
        password = make_password(BENCH_PASSWORD)  # hashed once: PBKDF2 per agent takes seconds
        agents = []
        for n in range(1, AGENT_COUNT + 1):
            agent, created = User.objects.get_or_create(
                username=f"bench-agent-{n}",
                defaults={
                    "display_name": f"Bench Agent {n}",
                    "email": f"bench{n}@printdesk.test",
                    "password": password,
                },
            )
            if created:
                agent.groups.add(group)
            agents.append(agent)
        teams = [
            Team.objects.get_or_create(slug=slug, defaults={"name": name})[0]
            for name, slug in (("Sales", "sales"), ("Production", "production"))
        ]
        return agents, teams

    def create_customers(self, count: int, batch: int) -> list[tuple[int, str, str]]:
        """Returns (customer id, home channel, address on that channel) per customer."""
        rng = self.rng
        channels = weighted(rng, CHANNEL_WEIGHTS)
        first_id, first_identity = next_id(Customer), next_id(CustomerIdentity)
        identity_id = first_identity
        homes = []
        customer_rows, identity_rows = RowWriter(Customer), RowWriter(CustomerIdentity)
        progress = Progress("customers", count, enabled=self.show)
        for start in range(0, count, batch):
            customers, identities = [], []
            for pk in range(first_id + start, first_id + min(start + batch, count)):
                created_at = self.now - timedelta(days=400, minutes=rng.randrange(60 * 24 * 30))
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                customers.append(
                    {
                        "id": pk,
                        "name": name,
                        "shopify_customer_id": str(7_000_000_000 + pk),
                        "created_at": created_at,
                        "updated_at": created_at,
                    }
                )
                email = f"{name.split()[0].lower()}.{pk}@bench.example.com"
                addresses = {IdentityKind.EMAIL: email}
                channel = channels[pk % len(channels)]
                kind = IDENTITY_FOR_CHANNEL.get(channel)
                if kind in (IdentityKind.PHONE, IdentityKind.WHATSAPP):
                    addresses[kind] = f"+1555{pk:07d}"
                elif kind is not None:
                    addresses[kind] = f"{17_800_000_000 + pk}"
                for kind, value in addresses.items():
                    identities.append(
                        {
                            "id": identity_id,
                            "customer_id": pk,
                            "kind": kind,
                            "value": value,
                            "is_primary": kind == IdentityKind.EMAIL,
                            "created_at": created_at,
                        }
                    )
                    identity_id += 1
                homes.append((pk, channel, addresses[IDENTITY_FOR_CHANNEL.get(channel, "email")]))
            with transaction.atomic():
                customer_rows.write(customers)
                identity_rows.write(identities)
            progress.update(start + len(customers))
        progress.close()
        return homes

    def create_tickets(self, homes, count: int, per_ticket: int, batch: int) -> None:
        rng = self.rng
        statuses = weighted(rng, STATUS_WEIGHTS)
        priorities = weighted(rng, PRIORITY_WEIGHTS)
        first_ticket, first_message = next_id(Ticket), next_id(TicketMessage)
        message_id = first_message
        ticket_batch = max(1, batch // per_ticket)
        ticket_rows, message_rows = RowWriter(Ticket), RowWriter(TicketMessage)
        progress = Progress("tickets", count, enabled=self.show)
        for start in range(0, count, ticket_batch):
            tickets, messages = [], []
            for pk in range(first_ticket + start, first_ticket + min(start + ticket_batch, count)):
                customer_id, channel, address = homes[rng.randrange(len(homes))]
                status = statuses[rng.randrange(4096)]
                assignee = None
                if status != TicketStatus.NEW and rng.random() < 0.85:
                    assignee = self.agents[rng.randrange(len(self.agents))].pk
                created_at = self.now - timedelta(minutes=rng.randrange(60 * 24 * 365))
                words = {"order": 10_000 + pk, "product": PRODUCTS[rng.randrange(len(PRODUCTS))]}
                ticket = {
                    "id": pk,
                    "reference": reference_for(pk),
                    "subject": SUBJECTS[rng.randrange(len(SUBJECTS))].format(**words),
                    "customer_id": customer_id,
                    "channel": channel,
                    "status": status,
                    "priority": priorities[rng.randrange(4096)],
                    "assignee_id": assignee,
                    "team_id": self.teams[pk % len(self.teams)].pk if rng.random() < 0.5 else None,
                    "is_escalated": rng.random() < 0.03,
                    "created_at": created_at,
                    "due_at": created_at + timedelta(hours=24),
                }
                when = created_at
                provider = PROVIDER_FOR_CHANNEL[channel]
                for turn in range(per_ticket):
                    inbound = turn % 2 == 0 or assignee is None
                    template = INBOUND_BODIES if inbound else OUTBOUND_BODIES
                    messages.append(
                        {
                            "id": message_id,
                            "ticket_id": pk,
                            "direction": MessageDirection.INBOUND
                            if inbound
                            else MessageDirection.OUTBOUND,
                            "channel": channel,
                            "author_id": None if inbound else assignee,
                            "sender": address if inbound else "",
                            "recipient": "" if inbound else address,
                            "body": template[rng.randrange(len(template))].format(**words),
                            "provider": provider,
                            "provider_message_id": f"bench-{message_id}",
                            "delivery_status": "" if inbound else DeliveryStatus.DELIVERED,
                            "created_at": when,
                            "sent_at": None if inbound else when,
                        }
                    )
                    if inbound:
                        ticket["last_customer_message_at"] = when
                    elif "first_response_at" not in ticket:
                        ticket["first_response_at"] = when
                    message_id += 1
                    when += timedelta(minutes=rng.randrange(5, 600))
                ticket["last_message_at"] = ticket["updated_at"] = when
                if status in TicketStatus.CLOSED_STATES:
                    ticket["resolved_at"] = when
                if status == TicketStatus.CLOSED:
                    ticket["closed_at"] = when + timedelta(days=1)
                tickets.append(ticket)
            with transaction.atomic():
                ticket_rows.write(tickets)
                message_rows.write(messages)
            progress.update(start + len(tickets))
        progress.close()

    def reset_sequences(self) -> None:
        """Explicit ids leave PostgreSQL's sequences behind; move them past the new rows."""
        statements = connection.ops.sequence_reset_sql(
            no_style(), [Customer, CustomerIdentity, Ticket, TicketMessage]
        )
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
