"""The ``CustomerContext``: everything the rules look at, loaded once in bounded queries.

``context_build`` runs a fixed number of queries whatever the customer's history: each one is
narrowed to what some rule can use (late or refunding orders, the best "bought together"
candidates, carts of the last week, recent feedback) and limited. Context loaders registered
by other apps (tickets) add theirs to ``extras``. Rules only read the context, so they are
tested without a database by building one by hand.

Queries (steady state): consent (2), contact channels (1), orders (1), affinities (1), cart
events (1, only with ``behavioral_tracking``), feedback (1); the VIP threshold comes from the
cache (1 query when the cache is cold); the tickets loader adds 2.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import FilteredRelation, Q
from django.utils import timezone

from customers import consent
from customers.models import (
    Channel,
    ContactPoint,
    Customer,
    Event,
    Order,
    OrderLine,
    Product,
    ProductAffinity,
    Refund,
    SuggestionFeedback,
)

from .registry import suggestion_registry

OPEN_ORDER_STATES = (Order.Status.PENDING, Order.Status.PAID, Order.Status.SHIPPED)
PENDING_REFUND_STATES = (Refund.Status.REQUESTED, Refund.Status.APPROVED)
ORDERS_LIMIT = 10
AFFINITIES_LIMIT = 30
CART_DAYS = 7
CART_EVENTS_LIMIT = 20
FEEDBACK_LIMIT = 200


@dataclass(frozen=True)
class OrderFact:
    """An order some rule may care about: late, or with a refund or return still open."""

    id: int
    number: str
    status: str
    placed_at: datetime
    currency: str = "EUR"
    total: Decimal = Decimal("0")
    promised_delivery: date | None = None
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    late: bool = False
    refund_id: int | None = None
    refund_kind: str = ""
    refund_status: str = ""
    refund_amount: Decimal | None = None
    refund_requested_at: datetime | None = None

    @property
    def status_label(self) -> str:
        return str(Order.Status(self.status).label) if self.status in Order.Status.values else self.status


@dataclass(frozen=True)
class AffinityFact:
    """``other`` is often bought with ``product``, which the customer owns (and ``other`` not)."""

    product_id: int
    product_name: str
    other_id: int
    other_name: str
    confidence: float
    together: int
    other_url: str = ""


@dataclass(frozen=True)
class EventFact:
    id: int
    kind: str
    occurred_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FeedbackFact:
    rule: str
    subject: str
    verdict: str
    created_at: datetime
    until: datetime | None = None
    variant: str = ""


@dataclass
class CustomerContext:
    """What the rules see. ``granted`` are the consent purposes the customer granted now;
    ``consent_notes`` say, per purpose not granted, why ("Offers and reminders not granted
    (withdrawn 3 May via preference centre)"). ``ticket_id`` is the conversation the agent is
    in, if any; ``reply_channel`` the channel a reply would go on (the tickets loader sets it
    from that conversation)."""

    customer: Customer
    now: datetime
    granted: frozenset[str] = frozenset()
    consent_notes: dict[str, str] = field(default_factory=dict)
    purpose_names: dict[str, str] = field(default_factory=dict)
    reachable: frozenset[str] = frozenset()
    orders: list[OrderFact] = field(default_factory=list)
    affinities: list[AffinityFact] = field(default_factory=list)
    cart_events: list[EventFact] = field(default_factory=list)
    feedback: list[FeedbackFact] = field(default_factory=list)
    vip_threshold: Decimal | None = None
    ticket_id: int | None = None
    ticket: Any = None
    reply_channel: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return timezone.localdate(self.now)

    @property
    def channel(self) -> str:
        """Where to act by default: the conversation's reply channel, else email when the
        customer has an address, else any channel they can be reached on."""
        if self.reply_channel:
            return self.reply_channel
        if Channel.EMAIL in self.reachable or not self.reachable:
            return Channel.EMAIL
        return sorted(self.reachable)[0]

    def hidden_by(self, rule: str, subject: str) -> FeedbackFact | None:
        """The feedback that hides this suggestion now (a dismissal within its cap, a snooze,
        a recent acceptance), if any."""
        for item in self.feedback:
            if item.rule == rule and item.subject == subject and item.until is not None and item.until > self.now:
                return item
        return None

    def dismissed_subjects(self, rule: str, *, days: int) -> set[str]:
        since = self.now - timedelta(days=days)
        return {
            item.subject
            for item in self.feedback
            if item.rule == rule and item.verdict == SuggestionFeedback.Verdict.DISMISSED and item.created_at >= since
        }


def _consent(
    customer: Customer, states: dict[str, consent.ConsentState] | None
) -> tuple[frozenset[str], dict[str, str], dict[str, str]]:
    states = consent.consent_states(customer) if states is None else states
    granted = frozenset(code for code, state in states.items() if state.granted)
    notes = {
        code: f"{state.purpose.name} not granted ({state.explanation})"
        for code, state in states.items()
        if not state.granted
    }
    names = {code: state.purpose.name for code, state in states.items()}
    return granted, notes, names


ORDER_FIELDS = (
    "pk",
    "number",
    "status",
    "placed_at",
    "currency",
    "total",
    "promised_delivery",
    "carrier",
    "tracking_number",
    "tracking_url",
    "pending__pk",
    "pending__kind",
    "pending__status",
    "pending__amount",
    "pending__requested_at",
)


# The shapes of the context's queries are built once, at import: per request only the
# customer's own filters are added. Building a queryset costs the ORM as much Python as running
# it (measured: half of the orders query's 1.3 ms), and this runs on every conversation page.
ORDERS_SHAPE = (
    Order.objects.annotate(pending=FilteredRelation("refunds", condition=Q(refunds__status__in=PENDING_REFUND_STATES)))
    .order_by("-placed_at", "-pk", "pending__requested_at", "pending__pk")
    .values_list(*ORDER_FIELDS)
)
CART_SHAPE = (
    Event.objects.filter(kind__in=[Event.Kind.CART_ABANDONED, Event.Kind.CHECKOUT])
    .order_by("-occurred_at", "-pk")
    .values_list("pk", "kind", "occurred_at", "payload")
)
FEEDBACK_SHAPE = SuggestionFeedback.objects.order_by("-created_at", "-pk").values_list(
    "rule", "subject", "verdict", "created_at", "until", "variant"
)
CHANNELS_SHAPE = ContactPoint.objects.order_by().values_list("channel", flat=True).distinct()


def _orders(customer: Customer, today: date) -> list[OrderFact]:
    """Late orders and orders with a refund or return still open, in one query (a join on the
    open refunds; an order with several keeps its oldest)."""
    late = Q(status__in=OPEN_ORDER_STATES, promised_delivery__lt=today)
    rows = ORDERS_SHAPE.filter(Q(customer_id=customer.pk) & (late | Q(pending__isnull=False)))[: ORDERS_LIMIT * 2]
    facts: dict[int, OrderFact] = {}
    for row in rows:
        values = dict(zip(ORDER_FIELDS, row, strict=True))
        if values["pk"] in facts:
            continue
        status, promised = values["status"], values["promised_delivery"]
        facts[values["pk"]] = OrderFact(
            id=values["pk"],
            number=values["number"],
            status=status,
            placed_at=values["placed_at"],
            currency=values["currency"],
            total=values["total"],
            promised_delivery=promised,
            carrier=values["carrier"],
            tracking_number=values["tracking_number"],
            tracking_url=values["tracking_url"],
            late=bool(status in OPEN_ORDER_STATES and promised and promised < today),
            refund_id=values["pending__pk"],
            refund_kind=values["pending__kind"] or "",
            refund_status=values["pending__status"] or "",
            refund_amount=values["pending__amount"],
            refund_requested_at=values["pending__requested_at"],
        )
    return list(facts.values())[:ORDERS_LIMIT]


# The customer's products are read once (a CTE the query uses twice: the products they bought
# lead to their companions, and no companion may be one they bought). This is the one raw query
# of the context: the ORM cannot express the CTE, and its two-subquery form made PostgreSQL scan
# the whole statistics table for every customer (2-7 ms; this form: 0.3 ms for a typical
# customer, measured on the benchmark's data). Table names come from the models' metadata.
AFFINITY_SQL = """
WITH owned AS (
    SELECT DISTINCT line.product_id FROM {line} line JOIN {order} o ON o.id = line.order_id
    WHERE o.customer_id = %s AND line.product_id IS NOT NULL
)
SELECT pair.product_id, anchor.name, pair.other_id, other.name, pair.confidence, pair.together, other.url
FROM {affinity} pair
JOIN owned ON owned.product_id = pair.product_id
JOIN {product} anchor ON anchor.id = pair.product_id
JOIN {product} other ON other.id = pair.other_id
WHERE other.active AND pair.other_id NOT IN (SELECT product_id FROM owned)
ORDER BY pair.confidence DESC, pair.together DESC, pair.other_id
LIMIT %s
"""


def _affinities(customer: Customer) -> list[AffinityFact]:
    """The best "bought together" companions of what the customer bought, never one they own."""
    tables = {
        "line": OrderLine._meta.db_table,
        "order": Order._meta.db_table,
        "affinity": ProductAffinity._meta.db_table,
        "product": Product._meta.db_table,
    }
    with connection.cursor() as cursor:
        cursor.execute(AFFINITY_SQL.format(**tables), [customer.pk, AFFINITIES_LIMIT])
        rows = cursor.fetchall()
    best: dict[int, AffinityFact] = {}
    for product_id, product_name, other_id, other_name, confidence, together, url in rows:
        fact = AffinityFact(product_id, product_name, other_id, other_name, float(confidence), together, url or "")
        best.setdefault(fact.other_id, fact)
    return list(best.values())


def _cart_events(customer: Customer, now: datetime) -> list[EventFact]:
    since = now - timedelta(days=CART_DAYS)
    rows = CART_SHAPE.filter(customer_id=customer.pk, occurred_at__gte=since)[:CART_EVENTS_LIMIT]
    return [
        EventFact(id=pk, kind=kind, occurred_at=at, payload=payload if isinstance(payload, dict) else {})
        for pk, kind, at, payload in rows
    ]


def _feedback(customer: Customer, now: datetime) -> list[FeedbackFact]:
    # Only feedback that still hides something matters: a dismissal's cap, a snooze, a recent
    # acceptance all end at ``until`` (cross_sell's 30-day product memory too).
    rows = FEEDBACK_SHAPE.filter(customer_id=customer.pk, until__gt=now)[:FEEDBACK_LIMIT]
    return [FeedbackFact(*row) for row in rows]


def context_build(
    *,
    customer: Customer,
    ticket: Any = None,
    ticket_id: int | None = None,
    now: datetime | None = None,
    consents: dict[str, consent.ConsentState] | None = None,
    contact_channels: Iterable[str] | None = None,
) -> CustomerContext:
    """Load everything the registered rules need about ``customer``, once.

    ``ticket`` (an object with ``pk``, ``channel``...) or ``ticket_id`` is the conversation the
    agent has open; context loaders use it (the tickets loader ignores a ticket of another
    customer). Browsing events are read only while the customer allows ``behavioral_tracking``.
    A page that already read the customer's consent states (``CustomerProfile.consents``) and
    contact channels (``CustomerProfile.reachable``) passes them to save three queries; they
    must be of this request (consent is asked at every use).
    """
    from .jobs import vip_threshold

    now = now or timezone.now()
    granted, notes, names = _consent(customer, consents)
    if contact_channels is None:
        contact_channels = CHANNELS_SHAPE.filter(customer_id=customer.pk)
    reachable = frozenset(contact_channels)
    context = CustomerContext(
        customer=customer,
        now=now,
        granted=granted,
        consent_notes=notes,
        purpose_names=names,
        reachable=reachable,
        orders=_orders(customer, timezone.localdate(now)),
        affinities=_affinities(customer),
        cart_events=_cart_events(customer, now) if consent.BEHAVIORAL_TRACKING in granted else [],
        feedback=_feedback(customer, now),
        vip_threshold=vip_threshold(),
        ticket_id=getattr(ticket, "pk", None) or ticket_id,
        ticket=ticket,
    )
    for name, loader in suggestion_registry.loaders.items():
        context.extras[name] = loader(context)
    return context
