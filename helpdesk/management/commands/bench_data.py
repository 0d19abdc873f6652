"""Bulk volume for benchmarks: customers with identities, tickets, their messages and orders.

`manage.py bench_data --tickets 100000 --messages-per-ticket 10` inserts in batches with ids
assigned here, so references come from `reference_for(pk)` in the same insert and no RETURNING is
needed; timestamps are spread over the past year (auto_now/auto_now_add are switched off for the
run); then the id sequences are reset. On PostgreSQL the rows go in with COPY, in one transaction
with the tables' plain indexes rebuilt at the end (`bulk_load`), and the disk use is printed; on
SQLite with bulk_create. Not for production databases: it adds rows, it never deletes them."""

import json
import queue
import random
import sys
import threading
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
from printshop.models import OrderSource, TicketOrder
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
# Share of tickets whose order is a PERP order (PD-ORD-…) rather than a Shopify one (#…).
PERP_ORDER_SHARE = 0.3
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
    "Where is my order {order}?",
    "Proof for the {product} looks blurry",
    "Can you print 500 {product} on 300gsm matte?",
    "{product} arrived damaged",
    "Invoice for order {order}",
    "Change the shipping address on {order}",
    "Rush order of {product} for Friday",
    "Colour on the {product} is off",
    "Reorder last month's {product}",
    "Discount for 2,000 {product}?",
]
INBOUND_BODIES = [
    "Hi, I ordered {product} (order {order}) and haven't had a shipping update yet. Any news?",
    "The proof for my {product} shows the logo too close to the edge, can you move it 3 mm in?",
    "Could you quote 1,000 {product}, double-sided, with rounded corners?",
    "Thanks! One more question: can the {product} be delivered to our second office instead?",
    "The {product} came today but two boxes are crushed. Photos attached.",
    "Is it possible to pay the invoice for {order} by bank transfer?",
]
OUTBOUND_BODIES = [
    "Thanks for reaching out! Order {order} left our production floor today; tracking follows.",
    "I've asked the design team to adjust the proof for your {product}; new proof within 24 h.",
    "Here is the quote for the {product}: see the attached PDF. It is valid for 30 days.",
    "Sorry about that! We'll reprint the {product} at no cost and ship them express.",
    "Yes, bank transfer works. The details are on the invoice PDF for {order}.",
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


# COPY's text format: backslash, tab, newline and carriage return are escaped; NULL is \N.
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(COPY_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return json.dumps(value).translate(COPY_ESCAPES)
    return str(value)  # int, or a datetime as ISO 8601 with its offset


class CopyStream:
    """Runs the COPY statements from a thread of its own, so PostgreSQL takes in one batch while
    the next is generated (with one thread, each would wait for the other: two cores, one idle).

    It drives the raw psycopg connection, which serializes its users; the command issues no
    other statement until `close()`, which waits for the last batch and re-raises its error.
    """

    def __init__(self) -> None:
        self.raw = connection.connection
        self.batches: queue.Queue = queue.Queue(maxsize=4)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._send, name="bench-data-copy", daemon=True)
        self.thread.start()

    def put(self, copy_sql: str, text: str) -> None:
        if self.error is not None:
            raise self.error
        self.batches.put((copy_sql, text))

    def close(self) -> None:
        self.batches.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def _send(self) -> None:
        while (batch := self.batches.get()) is not None:
            if self.error is not None:
                continue  # drain: the producer raises at its next put()
            copy_sql, text = batch
            try:
                with self.raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
                    copy.write(text)
            except BaseException as exc:  # handed to the producer thread, which raises it
                self.error = exc


class RowWriter:
    """Inserts rows given as {attname: value}: COPY on PostgreSQL, bulk_create elsewhere.

    COPY skips building and compiling a model instance per row, which is where bulk_create
    spends its time at a million rows. A batch goes as one block of COPY text built here
    (defaults encoded once per table), not row by row through the driver's adapters, which cost
    more than generating the row. Both paths write the same columns and values.
    """

    def __init__(self, model: type[models.Model], stream: CopyStream | None) -> None:
        self.model, self.stream = model, stream
        fields = model._meta.concrete_fields
        self.position = {f.attname: i for i, f in enumerate(fields)}
        self.default_texts = [copy_text(f.get_default()) for f in fields]
        quote = connection.ops.quote_name
        self.copy_sql = (
            f"COPY {quote(model._meta.db_table)} "
            f"({', '.join(quote(f.column) for f in fields)}) FROM STDIN"
        )

    def write(self, rows: list[dict]) -> None:
        if self.stream is None:
            self.model.objects.bulk_create([self.model(**row) for row in rows])
            return
        position, defaults = self.position, self.default_texts
        lines = []
        for row in rows:
            line = defaults.copy()
            for name, value in row.items():
                line[position[name]] = copy_text(value)
            lines.append("\t".join(line))
        if lines:
            self.stream.put(self.copy_sql, "\n".join(lines) + "\n")


@contextmanager
def bulk_load(*model_classes: type[models.Model], log) -> Iterator[CopyStream | None]:
    """On PostgreSQL: the whole load in one transaction, the tables' plain indexes and foreign
    keys dropped during the COPY and put back at the end.

    Building an index once from sorted rows costs a fraction of updating it row by row, and
    validating a foreign key once (one join) a fraction of a trigger's lookup per row. Primary
    keys and unique constraints stay, so ids and references are checked as rows arrive; the
    indexes backing no constraint are rebuilt from their own definition (`pg_get_indexdef`) and
    the foreign keys re-added from theirs (`pg_get_constraintdef`), which validates every row
    before the commit. DDL is transactional in PostgreSQL: if the run fails or is interrupted,
    the rollback restores indexes and keys with no row added. The tables are locked for the
    run: a bench database only.
    """
    if connection.vendor != "postgresql":
        with transaction.atomic():
            yield None
        return
    tables = [model._meta.db_table for model in model_classes]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            [tables],
        )
        foreign_keys = cursor.fetchall()
        for table, name, _ in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [tables],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
        stream = CopyStream()
        try:
            yield stream
        finally:
            stream.close()
        started = time.perf_counter()
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        log(
            f"{len(indexes)} indexes rebuilt and {len(foreign_keys)} foreign keys validated "
            f"in {time.perf_counter() - started:.1f}s"
        )


def disk_use(*model_classes: type[models.Model]) -> dict[str, int]:
    """Bytes on disk per table, indexes and TOAST included (PostgreSQL only)."""
    tables = [model._meta.db_table for model in model_classes]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t, pg_total_relation_size(t::regclass) FROM unnest(%s::text[]) AS t", [tables]
        )
        return dict(cursor.fetchall())


LOADED = (Customer, CustomerIdentity, Ticket, TicketMessage, TicketOrder)


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
        # Ids are taken before the load: while it runs, the connection belongs to the COPY.
        self.first_ids = {model: next_id(model) for model in LOADED}
        with explicit_timestamps(*LOADED), bulk_load(*LOADED, log=self.log) as stream:
            homes = self.create_customers(customers, batch, stream)
            self.create_tickets(homes, tickets, per_ticket, batch, stream)
        self.reset_sequences()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"bench_data: {customers:,} customers, {tickets:,} tickets, "
            f"{tickets * per_ticket:,} messages in {elapsed:.1f}s on {connection.vendor}"
        )
        if connection.vendor == "postgresql":
            sizes = disk_use(*LOADED)
            parts = ", ".join(f"{table} {size / 2**20:,.0f} MB" for table, size in sizes.items())
            self.stdout.write(f"disk: {sum(sizes.values())} bytes ({parts})")

    def log(self, line: str) -> None:
        if self.show:
            sys.stderr.write(line + "\n")

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

    def create_customers(
        self, count: int, batch: int, stream: CopyStream | None
    ) -> list[tuple[int, str, str]]:
        """Returns (customer id, home channel, address on that channel) per customer."""
        rng = self.rng
        channels = weighted(rng, CHANNEL_WEIGHTS)
        first_id, first_identity = self.first_ids[Customer], self.first_ids[CustomerIdentity]
        identity_id = first_identity
        homes = []
        customer_rows = RowWriter(Customer, stream)
        identity_rows = RowWriter(CustomerIdentity, stream)
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
            customer_rows.write(customers)
            identity_rows.write(identities)
            progress.update(start + len(customers))
        progress.close()
        return homes

    def create_tickets(
        self, homes, count: int, per_ticket: int, batch: int, stream: CopyStream | None
    ) -> None:
        """Tickets with their messages, and a TicketOrder row for each ticket whose subject or
        inbound messages name its order (what printshop's subscribers link in production)."""
        rng = self.rng
        uniform = rng.random  # int(uniform() * n) is a few times cheaper than randrange(n)
        statuses = weighted(rng, STATUS_WEIGHTS)
        priorities = weighted(rng, PRIORITY_WEIGHTS)
        first_ticket, message_id = self.first_ids[Ticket], self.first_ids[TicketMessage]
        order_id = self.first_ids[TicketOrder]
        ticket_batch = max(1, batch // per_ticket)
        ticket_rows = RowWriter(Ticket, stream)
        message_rows = RowWriter(TicketMessage, stream)
        order_rows = RowWriter(TicketOrder, stream)
        progress = Progress("tickets", count, enabled=self.show)
        for start in range(0, count, ticket_batch):
            tickets, messages, orders = [], [], []
            for pk in range(first_ticket + start, first_ticket + min(start + ticket_batch, count)):
                customer_id, channel, address = homes[int(uniform() * len(homes))]
                status = statuses[int(uniform() * 4096)]
                assignee = None
                if status != TicketStatus.NEW and uniform() < 0.85:
                    assignee = self.agents[int(uniform() * len(self.agents))].pk
                created_at = self.now - timedelta(minutes=int(uniform() * 60 * 24 * 365))
                perp = uniform() < PERP_ORDER_SHARE
                order = f"PD-ORD-{10_000 + pk}" if perp else f"#{10_000 + pk}"
                words = {"order": order, "product": PRODUCTS[int(uniform() * len(PRODUCTS))]}
                subject = SUBJECTS[int(uniform() * len(SUBJECTS))]
                order_named_at = created_at if "{order}" in subject else None
                ticket = {
                    "id": pk,
                    "reference": reference_for(pk),
                    "subject": subject.format(**words),
                    "customer_id": customer_id,
                    "channel": channel,
                    "status": status,
                    "priority": priorities[int(uniform() * 4096)],
                    "assignee_id": assignee,
                    "team_id": self.teams[pk % len(self.teams)].pk if uniform() < 0.5 else None,
                    "is_escalated": uniform() < 0.03,
                    "created_at": created_at,
                    "due_at": created_at + timedelta(hours=24),
                }
                when = created_at
                provider = PROVIDER_FOR_CHANNEL[channel]
                for turn in range(per_ticket):
                    inbound = turn % 2 == 0 or assignee is None
                    template = INBOUND_BODIES if inbound else OUTBOUND_BODIES
                    body = template[int(uniform() * len(template))]
                    if inbound and order_named_at is None and "{order}" in body:
                        order_named_at = when
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
                            "body": body.format(**words),
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
                    when += timedelta(minutes=5 + int(uniform() * 595))
                ticket["last_message_at"] = ticket["updated_at"] = when
                if status in TicketStatus.CLOSED_STATES:
                    ticket["resolved_at"] = when
                if status == TicketStatus.CLOSED:
                    ticket["closed_at"] = when + timedelta(days=1)
                tickets.append(ticket)
                if order_named_at is not None:
                    orders.append(
                        {
                            "id": order_id,
                            "ticket_id": pk,
                            "number": order,
                            "source": OrderSource.PERP if perp else OrderSource.SHOPIFY,
                            "created_at": order_named_at,
                        }
                    )
                    order_id += 1
            ticket_rows.write(tickets)
            message_rows.write(messages)
            order_rows.write(orders)
            progress.update(start + len(tickets))
        progress.close()

    def reset_sequences(self) -> None:
        """Explicit ids leave PostgreSQL's sequences behind; move them past the new rows."""
        statements = connection.ops.sequence_reset_sql(no_style(), list(LOADED))
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
