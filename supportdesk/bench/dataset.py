"""The benchmark's reference dataset, generated deterministically and loaded with COPY.

Scale m: 100,000 customers, 300,000 tickets, 1,500,000 messages, 300,000 orders with 900,000
lines, 3,000,000 events, 100,000 CSAT answers, and one whale customer with 5,000 tickets and
50,000 events. Scale s is a thousandth of that (with a whale still large enough to tell), l ten
times m. Every customer with events has granted behavioural tracking, as the desk requires.
"""

import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, connections, transaction
from django.utils import timezone

from customers.models import ConsentPurpose, ConsentRecord, ContactPoint, Customer, Event, Order, OrderLine, Product
from supportdesk import roles
from tickets.models import CSATSurvey, Message, Team, Ticket

from .copy import Loader, constraints_deferred, sequence_reset

FIRST = ["Maria", "Lukas", "Chloé", "James", "Sofia", "Noah", "Emma", "Mateo", "Léa", "Jonas", "Olivia", "Hugo"]
LAST = ["García", "Müller", "Martin", "Smith", "Rossi", "Fernández", "Schmidt", "Bernard", "Brown", "López"]
LOCALES = [
    ("en", "Europe/London", "GB"),
    ("es", "Europe/Madrid", "ES"),
    ("fr", "Europe/Paris", "FR"),
    ("de", "Europe/Berlin", "DE"),
]
CHANNELS = ["email", "email", "chat", "chat", "phone", "social", "web"]
# A working desk's backlog is its recent tickets: what arrived in the last few days is still
# being worked, a few older ones wait on the customer, and everything else is solved or closed.
STATUSES_RECENT = ["new", "open", "open", "pending", "solved"]  # under 3 days old
STATUSES_WEEKS = ["pending", "solved", "solved", "solved", "solved", "solved", "solved", "closed", "closed"]  # < 14 d
STATUSES_OLD = ["solved", "solved", "solved", "closed", "closed", "closed", "closed", "closed"]
PRIORITIES = ["low", "normal", "normal", "normal", "high", "urgent"]
EVENT_KINDS = ["page_view"] * 6 + ["product_view"] * 3 + ["search", "cart_add", "cart_abandoned", "checkout"]
WORDS = [
    "order",
    "delivery",
    "parcel",
    "refund",
    "invoice",
    "size",
    "colour",
    "boots",
    "jacket",
    "late",
    "tracking",
    "address",
    "payment",
    "return",
    "exchange",
    "discount",
    "account",
    "password",
    "newsletter",
    "warranty",
    "broken",
    "missing",
]


@dataclass(frozen=True)
class Scale:
    customers: int
    tickets: int
    messages_per_ticket: int
    orders: int
    lines_per_order: int
    events: int
    csat: int
    whale_tickets: int
    whale_events: int
    products: int = 500
    agents: int = 20


SCALES = {
    "s": Scale(100, 300, 5, 300, 3, 3_000, 100, 50, 500, products=100, agents=5),
    "m": Scale(100_000, 300_000, 5, 300_000, 3, 3_000_000, 100_000, 5_000, 50_000),
    "l": Scale(1_000_000, 3_000_000, 5, 3_000_000, 3, 30_000_000, 1_000_000, 5_000, 50_000),
}


@dataclass
class BuildReport:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Handles:
    """What the measurements need to find in the dataset."""

    typical_customer_id: int
    whale_customer_id: int
    typical_public_id: str
    whale_public_id: str
    typical_ticket_id: int
    whale_ticket_id: int
    email: str
    phone: str
    last_name: str
    order_number: str


def database_use(name: str, *, recreate: bool) -> None:
    """Point the default connection at database ``name``, creating (or recreating) it first."""
    import psycopg
    from psycopg import sql

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and recreate:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connections.close_all()
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name


def dataset_exists() -> bool:
    return Customer.objects.exists()


def dataset_handles() -> Handles:
    whale = Customer.objects.order_by("-id").values_list("id", flat=True).first()
    # A typical customer: the owner of the middle ticket among everyone's but the whale's.
    regular = Ticket.objects.exclude(customer_id=whale).order_by("id")
    typical_ticket = regular[max(0, regular.count() // 2 - 1)]
    typical_id = typical_ticket.customer_id
    contacts = dict(ContactPoint.objects.filter(customer_id=typical_id).values_list("channel", "value"))
    return Handles(
        typical_customer_id=typical_id,
        whale_customer_id=whale,
        typical_public_id=str(Customer.objects.values_list("public_id", flat=True).get(pk=typical_id)),
        whale_public_id=str(Customer.objects.values_list("public_id", flat=True).get(pk=whale)),
        typical_ticket_id=typical_ticket.pk,
        whale_ticket_id=Ticket.objects.filter(customer_id=whale).order_by("-id").values_list("id", flat=True).first(),
        email=contacts["email"],
        phone=contacts["phone"],
        last_name=Customer.objects.get(pk=typical_id).last_name,
        order_number=Order.objects.filter(customer_id=typical_id).values_list("number", flat=True).first() or "",
    )


def dataset_build(scale: Scale, *, progress: Callable[[str, int], None] | None = None, seed: int = 7) -> BuildReport:
    """Generate and COPY the whole dataset into the current (empty, migrated) PostgreSQL database."""
    if connection.vendor != "postgresql":
        raise RuntimeError("The benchmark dataset is loaded with COPY and needs PostgreSQL (DATABASE_URL).")
    rng = random.Random(seed)
    now = timezone.now().replace(microsecond=0)
    report = BuildReport()
    started = time.perf_counter()

    def load(model, fields_, values) -> None:
        count = Loader(model, fields_).copy(values)
        report.rows[model._meta.db_table] = report.rows.get(model._meta.db_table, 0) + count
        if progress:
            progress(model._meta.verbose_name_plural, count)

    loaded = (Product, Customer, ContactPoint, ConsentRecord, Order, OrderLine, Ticket, Message, CSATSurvey, Event)
    with transaction.atomic(), constraints_deferred(*loaded):
        agents = _agents(scale.agents)
        teams = list(Team.objects.values_list("id", flat=True))
        n = scale.customers + 1  # the last customer is the whale
        whale = n

        products = [
            (i, f"P{i}", f"SKU-{i:05d}", f"{rng.choice(WORDS).title()} {i}", Decimal(rng.randint(5, 300)))
            for i in range(1, scale.products + 1)
        ]
        load(
            Product,
            ["id", "source", "external_id", "sku", "name", "price"],
            ((pid, "bench", ext, sku, name, price) for pid, ext, sku, name, price in products),
        )

        orders = _orders(rng, scale, n, now)
        figures: dict[int, tuple[Decimal, int, datetime]] = {}
        for _, customer_id, _, _, total, placed_at, _ in orders:
            ltv, count, last = figures.get(customer_id, (Decimal(0), 0, placed_at))
            figures[customer_id] = (ltv + total, count + 1, max(last, placed_at))

        def customers() -> Iterator[tuple]:
            for cid in range(1, n + 1):
                locale, tz, country = LOCALES[cid % len(LOCALES)]
                ltv, count, last = figures.get(cid, (Decimal(0), 0, None))
                last_name = LAST[(cid * 7) % len(LAST)] + ("" if cid % 3 else f" {cid}")
                created = now - timedelta(days=400 - cid % 365)
                contacted = now - timedelta(hours=cid % 500)
                public_id = uuid.UUID(int=rng.getrandbits(128), version=4)
                yield (
                    cid,
                    public_id,
                    FIRST[cid % len(FIRST)],
                    last_name,
                    locale,
                    tz,
                    country,
                    created,
                    ltv,
                    count,
                    last,
                    contacted,
                )

        load(
            Customer,
            [
                "id",
                "public_id",
                "first_name",
                "last_name",
                "locale",
                "timezone",
                "country",
                "created_at",
                "lifetime_value",
                "order_count",
                "last_order_at",
                "last_contact_at",
            ],
            customers(),
        )
        load(ContactPoint, ["id", "customer_id", "channel", "value", "is_primary", "created_at"], _contacts(n, now))

        tracking = ConsentPurpose.objects.get(code="behavioral_tracking")
        granted_at = now - timedelta(days=300)
        load(
            ConsentRecord,
            ["id", "customer_id", "purpose_id", "granted", "source", "recorded_at"],
            ((cid, cid, tracking.pk, True, "customer", granted_at) for cid in range(1, n + 1)),
        )

        load(
            Order,
            [
                "id",
                "customer_id",
                "source",
                "external_id",
                "number",
                "status",
                "total",
                "placed_at",
                "promised_delivery",
            ],
            (
                (oid, cid, "bench", f"O{oid}", number, status, total, placed, promised)
                for oid, cid, number, status, total, placed, promised in orders
            ),
        )
        load(
            OrderLine,
            ["id", "order_id", "position", "product_id", "sku", "name", "quantity", "unit_price"],
            _lines(rng, scale, orders, products),
        )
        del orders

        tickets = _tickets(rng, scale, n, whale, now, agents, teams)
        load(
            Ticket,
            [
                "id",
                "customer_id",
                "subject",
                "status",
                "priority",
                "channel",
                "assignee_id",
                "team_id",
                "created_at",
                "updated_at",
                "last_message_at",
                "first_response_at",
                "solved_at",
                "solved_by_id",
                "first_response_due_at",
                "resolution_due_at",
            ],
            tickets,
        )
        ticket_rows = list(
            Ticket.objects.order_by("id").values_list(
                "id", "customer_id", "channel", "created_at", "status", "assignee_id", "solved_at", "team_id"
            )
        )
        load(
            Message,
            [
                "id",
                "ticket_id",
                "customer_id",
                "channel",
                "direction",
                "author_id",
                "sender",
                "body",
                "delivery",
                "sent_at",
                "created_at",
            ],
            _messages(rng, scale, ticket_rows),
        )
        load(
            CSATSurvey,
            [
                "id",
                "ticket_id",
                "customer_id",
                "agent_id",
                "team_id",
                "channel",
                "created_at",
                "sent_at",
                "expires_at",
                "answered_at",
                "rating",
                "comment",
            ],
            _surveys(rng, scale, ticket_rows, now),
        )
        del ticket_rows
        load(
            Event,
            ["id", "customer_id", "kind", "occurred_at", "source", "payload"],
            _events(rng, scale, n, whale, now, products),
        )
        sequence_reset(*loaded)
        if progress:
            progress("rows loaded; building indexes and foreign keys", report.total)
    # A live database is vacuumed as it goes; a fresh load is not until autovacuum gets to it,
    # and without a visibility map no index-only scan would be measured.
    if progress:
        progress("indexes built; vacuuming", report.total)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
    report.seconds = time.perf_counter() - started
    return report


def _agents(count: int) -> list[int]:
    User = get_user_model()
    group = Group.objects.get(name=roles.AGENT)
    team, _ = Team.objects.get_or_create(name="Bench team")
    ids = []
    for i in range(count):
        user, created = User.objects.get_or_create(username=f"bench-agent-{i}", defaults={"first_name": f"Agent{i}"})
        if created:
            user.set_unusable_password()
            user.save()
            user.groups.add(group)
            team.members.add(user)
        ids.append(user.pk)
    return ids


def _orders(rng: random.Random, scale: Scale, n: int, now: datetime) -> list[tuple]:
    orders = []
    for oid in range(1, scale.orders + 1):
        cid = rng.randint(1, n)
        placed = now - timedelta(days=rng.randint(0, 365), minutes=rng.randint(0, 1440))
        status = rng.choice(["delivered", "delivered", "delivered", "shipped", "paid", "refunded", "cancelled"])
        promised = (placed + timedelta(days=rng.randint(2, 7))).date()
        orders.append((oid, cid, str(100000 + oid), status, Decimal(rng.randint(10, 400)), placed, promised))
    return orders


def _contacts(n: int, now: datetime) -> Iterator[tuple]:
    for cid in range(1, n + 1):
        yield (2 * cid - 1, cid, "email", f"customer{cid}@bench.example.com", True, now)
        yield (2 * cid, cid, "phone", f"+346{cid:08d}", True, now)


def _lines(rng: random.Random, scale: Scale, orders: list[tuple], products: list[tuple]) -> Iterator[tuple]:
    line_id = 0
    for oid, *_ in orders:
        for position in range(1, scale.lines_per_order + 1):
            line_id += 1
            pid, _, sku, name, price = products[rng.randrange(len(products))]
            yield (line_id, oid, position, pid, sku, name, rng.randint(1, 3), price)


def _tickets(rng, scale, n, whale, now, agents, teams) -> Iterator[tuple]:
    # Ids grow with time, as they do in a live desk: the backlog is the table's newest rows.
    ages = sorted(((rng.randint(0, 180), rng.randint(0, 1440)) for _ in range(scale.tickets)), reverse=True)
    whales = set(rng.sample(range(1, scale.tickets + 1), scale.whale_tickets))
    for tid, (age_days, minutes) in enumerate(ages, start=1):
        cid = whale if tid in whales else rng.randint(1, n - 1)
        created = now - timedelta(days=age_days, minutes=minutes)
        status = rng.choice(STATUSES_RECENT if age_days < 3 else STATUSES_WEEKS if age_days < 14 else STATUSES_OLD)
        assignee = rng.choice(agents) if status != "new" else None
        responded = created + timedelta(minutes=rng.randint(5, 600)) if status != "new" else None
        solved = created + timedelta(hours=rng.randint(1, 96)) if status in ("solved", "closed") else None
        last = solved or responded or created
        subject = " ".join(rng.choice(WORDS) for _ in range(5)).capitalize()
        yield (
            tid,
            cid,
            subject,
            status,
            rng.choice(PRIORITIES),
            rng.choice(CHANNELS),
            assignee,
            rng.choice(teams) if teams else None,
            created,
            last,
            last,
            responded,
            solved,
            assignee if solved else None,
            created + timedelta(hours=4),
            created + timedelta(hours=24),
        )


def _messages(rng, scale, ticket_rows) -> Iterator[tuple]:
    mid = 0
    for tid, cid, channel, created, _status, assignee, _solved, _team in ticket_rows:
        for i in range(scale.messages_per_ticket):
            mid += 1
            outbound = i % 2 == 1 and assignee is not None
            at = created + timedelta(minutes=30 * i)
            body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 40)))
            yield (
                mid,
                tid,
                cid,
                channel,
                "outbound" if outbound else "inbound",
                assignee if outbound else None,
                "" if outbound else f"customer{cid}@bench.example.com",
                body,
                "sent" if outbound else "",
                at if outbound else None,
                at,
            )


def _surveys(rng, scale, ticket_rows, now) -> Iterator[tuple]:
    # Surveys answered across the whole period, not only for the oldest tickets; a survey goes
    # out a day after the solve and is answered within three days, so none is in the future.
    latest = now - timedelta(hours=24 + 72)
    solved_rows = [row for row in ticket_rows if row[4] in ("solved", "closed") and row[6] and row[6] <= latest]
    answered_rows = sorted(rng.sample(solved_rows, min(scale.csat, len(solved_rows))))
    for made, (tid, cid, channel, _created, _state, assignee, solved, team) in enumerate(answered_rows, start=1):
        rating = rng.choices([1, 2, 3, 4, 5], weights=[6, 5, 9, 30, 50])[0]
        sent = solved + timedelta(hours=24)
        answered = sent + timedelta(hours=rng.randint(1, 72))
        comment = "" if rating > 2 else "Took too long to hear back."
        yield (
            made,
            tid,
            cid,
            assignee,
            team,
            channel,
            solved,
            sent,
            sent + timedelta(days=28),
            answered,
            rating,
            comment,
        )


def _events(rng, scale, n, whale, now, products) -> Iterator[tuple]:
    regular = scale.events - scale.whale_events
    for eid in range(1, scale.events + 1):
        cid = whale if eid > regular else rng.randint(1, n - 1)
        _pid, _, sku, name, price = products[rng.randrange(len(products))]
        kind = rng.choice(EVENT_KINDS)
        payload = {"url": f"/products/{sku.lower()}", "sku": sku, "name": name}
        if kind in ("cart_add", "cart_abandoned"):
            payload["items"] = [{"sku": sku, "name": name, "price": str(price)}]
        yield (eid, cid, kind, now - timedelta(minutes=rng.randint(0, 60 * 24 * 120)), "bench", payload)
