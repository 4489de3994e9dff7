"""Demo customers and what the store knows about them: contact points, consent decisions,
orders with lines and refunds, browsing events, and the figures derived from all of it."""

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import phonenumbers

from customers.models import AuditEvent, ConsentRecord, Event, Order, Refund

from .catalogue import EMAIL_DOMAINS, NICKNAMES, PLACES, SEARCHES, SOCIAL_NETWORKS, STORE_URL, Item, Place
from .world import World

PURPOSES = ("personalization", "marketing", "behavioral_tracking", "surveys")
SOURCES = (
    ConsentRecord.Source.CUSTOMER,
    ConsentRecord.Source.API,
    ConsentRecord.Source.IMPORT,
    ConsentRecord.Source.AGENT,
)
NOTES = {
    ConsentRecord.Source.AGENT: "Stated by the customer in a conversation.",
    ConsentRecord.Source.IMPORT: "Imported from the previous CRM.",
    ConsentRecord.Source.API: "Cookie banner on the store.",
}
# (chance of a first decision, chance that decision is a grant, chance a grant is withdrawn later)
CONSENT_ODDS = {
    "personalization": (0.2, 0.5, 0.2),
    "marketing": (0.7, 0.65, 0.15),
    "behavioral_tracking": (0.75, 0.75, 0.1),
    "surveys": (0.15, 0.4, 0.3),
}
US_AREAS = ("201", "212", "305", "312", "415", "503", "512", "617", "702", "713", "718", "808", "917", "919")
CA_AREAS = ("416", "514", "604", "613", "403", "902")
REFUND_REASONS = ("Too small", "Changed my mind", "Arrived damaged", "Not as described", "Arrived too late")


@dataclass(slots=True)
class RefundPlan:
    kind: str
    status: str
    amount: Decimal
    reason: str
    requested_at: datetime
    completed_at: datetime | None = None


@dataclass(slots=True)
class OrderPlan:
    id: int
    number: str
    placed_at: datetime
    promised: date
    lines: list[tuple[int, Item, int]]
    status: str = Order.Status.PAID
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    carrier: str = ""
    tracking: str = ""
    refunds: list[RefundPlan] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((item.price * quantity for _, item, quantity in self.lines), Decimal("0"))

    def is_late(self, today: date) -> bool:
        return self.status in (Order.Status.PAID, Order.Status.SHIPPED) and self.promised < today


@dataclass(slots=True)
class Person:
    id: int
    place: Place
    zone: ZoneInfo
    first: str
    last: str
    preferred: str
    created_at: datetime
    contacts: dict[str, str] = field(default_factory=dict)
    consent: dict[str, bool] = field(default_factory=dict)
    tracking_since: datetime | None = None
    orders: list[OrderPlan] = field(default_factory=list)
    last_contact: datetime | None = None
    last_csat: tuple[datetime, int] | None = None
    unresolved: int = 0
    churn: bool = False
    discussed: set[tuple[str, int]] = field(default_factory=set)  # (topic, order id) already raised

    @property
    def address_name(self) -> str:
        return self.preferred or self.first

    @property
    def locale(self) -> str:
        return self.place.locale


def _ascii(text: str) -> str:
    text = text.lower().replace("ß", "ss").replace("æ", "ae").replace("ø", "o")
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode())


def person_new(
    world: World,
    customer_id: int,
    *,
    place: Place | None = None,
    created_at: datetime | None = None,
    first: str = "",
    last: str = "",
    channels: tuple[str, ...] = (),
) -> Person:
    """A customer with a name, a place and contact points; ``channels`` forces which ones."""
    rng = world.rng
    place = place or rng.choices(PLACES, weights=[p.weight for p in PLACES])[0]
    firsts, lasts = world.names[place.faker]
    first = first or rng.choice(firsts)
    if not last:
        last = rng.choice(lasts)
        if place.locale == "es" and rng.random() < 0.6:
            last = f"{last} {rng.choice(lasts)}"  # two surnames
    preferred = ""
    if first in NICKNAMES and rng.random() < 0.6:
        preferred = NICKNAMES[first]
    elif (" " in first or "-" in first) and rng.random() < 0.4:
        preferred = re.split(r"[ -]", first)[0]
    created_at = created_at or world.now - timedelta(days=rng.uniform(20, 720))
    person = Person(customer_id, place, ZoneInfo(rng.choice(place.timezones)), first, last, preferred, created_at)
    wanted = set(channels) or _random_channels(world)
    if "email" in wanted:
        person.contacts["email"] = _email(world, person)
    if "phone" in wanted:
        person.contacts["phone"] = _phone(world, place.country)
    if "chat" in wanted:
        person.contacts["chat"] = _unique(world, f"v-{rng.getrandbits(64):016x}")
    if "social" in wanted:
        person.contacts["social"] = _handle(world, person)
    return person


def _random_channels(world: World) -> set[str]:
    rng = world.rng
    wanted = {
        name for name, odds in (("email", 0.93), ("phone", 0.55), ("chat", 0.4), ("social", 0.3)) if rng.random() < odds
    }
    return wanted or {"phone"}


def _unique(world: World, value: str) -> str:
    """``value``, or it with a number added (before the @ of an email) if someone has it already."""
    head, at, domain = value.partition("@")
    candidate, n = value, 1
    while candidate in world.used_contacts:
        n += 1
        candidate = f"{head}{n}{at}{domain}"
    world.used_contacts.add(candidate)
    return candidate


def _email(world: World, person: Person) -> str:
    rng = world.rng
    first, last = _ascii(person.first.split()[0]) or "customer", _ascii(person.last.split()[0]) or "mail"
    local = rng.choice(
        [
            f"{first}.{last}",
            f"{first}{last}",
            f"{first[0]}{last}",
            f"{first}_{last}",
            f"{last}.{first}",
            f"{first}.{last}{rng.randint(60, 99)}",
        ]
    )
    return _unique(world, f"{local}@{rng.choice(EMAIL_DOMAINS[person.locale])}")


def _handle(world: World, person: Person) -> str:
    rng = world.rng
    first, last = _ascii(person.first.split()[0]) or "fan", _ascii(person.last.split()[0]) or "x"
    handle = rng.choice([f"{first}_{last[0]}", f"{first}.{last}", f"{first}{last[:3]}", f"the_{first}"])
    return _unique(world, f"{rng.choice(SOCIAL_NETWORKS)}:{handle}")


def _phone(world: World, country: str) -> str:
    """A number libphonenumber holds valid for the country, in E.164 as contact_normalise stores it."""
    rng = world.rng
    for _ in range(50):
        if country in ("US", "CA"):
            area = rng.choice(US_AREAS if country == "US" else CA_AREAS)
            national = f"{area}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
            number = phonenumbers.PhoneNumber(country_code=1, national_number=int(national))
        else:
            example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
            digits = str(example.national_number)
            national = digits[:3] + "".join(str(rng.randint(0, 9)) for _ in digits[3:])
            number = phonenumbers.PhoneNumber(country_code=example.country_code, national_number=int(national))
        if phonenumbers.is_valid_number_for_region(number, country):
            value = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            if value not in world.used_contacts:
                world.used_contacts.add(value)
                return value
    raise RuntimeError(f"could not make a phone number for {country}")


def contacts_write(world: World, person: Person) -> None:
    for channel, value in person.contacts.items():
        world.tables.contacts.add(person.id, channel, value, True, world.rng.random() < 0.6, person.created_at)


def consent_write(world: World, person: Person, forced: dict[str, bool]) -> None:
    """Decisions in the ledger (with their audit rows); ``forced`` fixes a purpose's final state."""
    rng, tables = world.rng, world.tables
    for code, (purpose_id, wording_id, default) in world.purposes.items():
        decide, grant, withdraw = CONSENT_ODDS.get(code, (0.3, 0.5, 0.2))
        decisions: list[bool] = []
        if code in forced:
            decisions = [forced[code]] if forced[code] or rng.random() < 0.5 else [True, False]
        elif rng.random() < decide:
            decisions = [True, False] if rng.random() < grant * withdraw else [rng.random() < grant]
        at = person.created_at + timedelta(minutes=rng.uniform(1, 60))
        for granted in decisions:
            source = SOURCES[world.sequence("consent") % len(SOURCES)]
            agent = rng.choice(world.agents) if source == ConsentRecord.Source.AGENT else None
            actor_id, label = (agent.id, agent.username) if agent else (None, source)
            tables.consents.add(person.id, purpose_id, granted, source, actor_id, wording_id, NOTES.get(source, ""), at)
            details = {"purpose": code, "granted": granted, "source": source}
            tables.audits.add(actor_id, label, AuditEvent.Action.CONSENT_RECORDED, person.id, at, details)
            if granted and code == "behavioral_tracking":
                person.tracking_since = at
            at += (world.now - at) * rng.uniform(0.2, 0.9)
        person.consent[code] = decisions[-1] if decisions else default
    if not person.consent.get("behavioral_tracking"):
        person.tracking_since = None


def order_new(
    world: World,
    person: Person,
    placed_at: datetime,
    *,
    status: str | None = None,
    items: list[tuple[int, Item, int]] | None = None,
    rich: bool = False,
) -> OrderPlan:
    """An order placed at ``placed_at``; its progress (shipped, delivered) follows from its age."""
    rng, now = world.rng, world.now
    if items is None:
        pool = [p for p in world.products if p[1].price > 100] if rich else world.products
        count = rng.choices((1, 2, 3, 4), weights=(50, 30, 15, 5))[0] + (2 if rich else 0)
        items = [
            (pid, item, rng.choices((1, 2, 3), weights=(88, 10, 2))[0])
            for pid, item in rng.sample(pool, min(count, len(pool)))
        ]
    order_id = world.next_id("order")
    promised = placed_at.astimezone(person.zone).date() + timedelta(days=rng.randint(3, 6))
    order = OrderPlan(order_id, str(100000 + order_id), placed_at, promised, items)
    if status is None:
        age = (now - placed_at).total_seconds() / 86400
        if age < 0.5:
            status = rng.choice((Order.Status.PENDING, Order.Status.PAID, Order.Status.PAID))
        elif promised >= world.today:
            status = rng.choices(("paid", "shipped", "delivered"), weights=(30, 50, 20 if age > 2 else 0))[0]
        else:
            status = rng.choices(("delivered", "shipped", "paid", "cancelled"), weights=(88, 5, 2, 5))[0]
    order.status = status
    if status in ("shipped", "delivered", "refunded"):
        order.carrier = rng.choice(person.place.carriers)
        order.tracking = f"{order.carrier[:2].upper()}{rng.randint(10**9, 10**10 - 1)}"
        order.shipped_at = min(placed_at + timedelta(hours=rng.uniform(6, 40)), now - timedelta(minutes=5))
    if status in ("delivered", "refunded"):
        order.delivered_at = min(order.shipped_at + timedelta(hours=rng.uniform(20, 90)), now - timedelta(minutes=1))
    person.orders.append(order)
    return order


def orders_random(world: World, person: Person, count: int, *, rich: bool = False) -> None:
    rng, now = world.rng, world.now
    start = max(person.created_at, now - timedelta(days=365))
    for _ in range(count):
        # Recent months are busier: more of the history the desk sees is fresh.
        placed = now - (now - start) * rng.random() ** 1.5 - timedelta(minutes=30)
        order = order_new(world, person, max(placed, start), rich=rich)
        if order.status == Order.Status.DELIVERED and rng.random() < 0.06:
            refund_add(world, order, rng.choice(list(Refund.Status.values)))


def refund_add(world: World, order: OrderPlan, status: str, *, requested_at: datetime | None = None) -> RefundPlan:
    """A refund or return of the order; a completed refund of everything marks the order refunded."""
    rng, now = world.rng, world.now
    after = order.delivered_at or order.placed_at
    requested = requested_at or after + timedelta(days=rng.uniform(0.5, 8))
    requested = min(max(requested, after + timedelta(minutes=30)), now - timedelta(hours=1))
    whole = rng.random() < 0.5 or len(order.lines) == 1
    amount = order.total if whole else order.lines[0][1].price * order.lines[0][2]
    refund = RefundPlan(rng.choice(("refund", "return")), status, amount, rng.choice(REFUND_REASONS), requested)
    if status == Refund.Status.COMPLETED:
        refund.completed_at = min(requested + timedelta(days=rng.uniform(1, 6)), now - timedelta(minutes=30))
        if amount == order.total and order.status == Order.Status.DELIVERED:
            order.status = Order.Status.REFUNDED
    order.refunds.append(refund)
    return refund


def orders_write(world: World, person: Person) -> None:
    tables = world.tables
    for order in person.orders:
        url = f"https://track.example/{_ascii(order.carrier)}/{order.tracking}" if order.tracking else ""
        tables.orders.add(
            order.id,
            person.id,
            "store",
            order.number,
            order.number,
            order.status,
            "EUR",
            order.total,
            order.placed_at,
            order.promised,
            order.shipped_at,
            order.delivered_at,
            order.carrier,
            order.tracking,
            url,
        )
        for position, (product_id, item, quantity) in enumerate(order.lines, start=1):
            tables.lines.add(order.id, position, product_id, item.sku, item.name, quantity, item.price)
        for n, refund in enumerate(order.refunds, start=1):
            tables.refunds.add(
                order.id,
                "store",
                f"RF-{order.number}-{n}",
                refund.kind,
                refund.status,
                refund.amount,
                refund.reason,
                refund.requested_at,
                refund.completed_at,
            )


def _product_payload(product: tuple[int, Item]) -> dict[str, str]:
    item = product[1]
    return {"sku": item.sku, "name": item.name, "price": str(item.price)}


def events_write(world: World, person: Person, *, abandoned_cart_at: datetime | None = None) -> None:
    """Browsing sessions since the customer allowed tracking; nothing at all without that consent.

    Every order placed since then is preceded by its session (cart, checkout); some other
    sessions end with a cart left behind, ``abandoned_cart_at`` forces one at that time.
    """
    if not person.consent.get("behavioral_tracking") or person.tracking_since is None:
        return
    rng, add = world.rng, world.tables.events.add
    until = world.now - timedelta(minutes=30)
    since = min(max(person.tracking_since, world.now - timedelta(days=120)), until)
    sessions: list[tuple[datetime, OrderPlan | None, bool]] = [
        (since + (until - since) * rng.random(), None, False) for _ in range(rng.randint(1, 6))
    ]
    sessions += [
        (o.placed_at - timedelta(minutes=rng.uniform(3, 15)), o, False) for o in person.orders if o.placed_at > since
    ]
    if abandoned_cart_at:
        sessions.append((abandoned_cart_at - timedelta(minutes=35), None, True))
    for at, order, abandon in sorted(sessions, key=lambda s: s[0]):
        add(person.id, Event.Kind.PAGE_VIEW, at, {"url": f"{STORE_URL}/", "title": "Home"})
        if rng.random() < 0.4:
            at += timedelta(seconds=rng.uniform(10, 60))
            add(person.id, Event.Kind.SEARCH, at, {"query": rng.choice(SEARCHES)})
        viewed = rng.sample(world.products, rng.randint(1, 4))
        for product in viewed:
            at += timedelta(seconds=rng.uniform(15, 90))
            add(person.id, Event.Kind.PRODUCT_VIEW, at, {**_product_payload(product), "url": product[1].url})
        if order is not None:
            cart = [_product_payload((pid, item)) for pid, item, _ in order.lines]
            add(person.id, Event.Kind.CART_ADD, order.placed_at - timedelta(minutes=1), {"items": cart})
            add(person.id, Event.Kind.CHECKOUT, order.placed_at, {"order": order.number, "total": str(order.total)})
        elif abandon or rng.random() < 0.3:
            cart = [_product_payload(product) for product in viewed[:2]]
            add(person.id, Event.Kind.CART_ADD, at + timedelta(seconds=30), {"items": cart})
            if abandon or rng.random() < 0.6:
                add(person.id, Event.Kind.CART_ABANDONED, at + timedelta(minutes=30), {"items": cart})


def customer_write(world: World, person: Person) -> None:
    """The customer row, with figures that agree with the orders, refunds and messages written."""
    counted = [o for o in person.orders if o.status != Order.Status.CANCELLED]
    refunded = sum(
        (r.amount for o in person.orders for r in o.refunds if r.status == Refund.Status.COMPLETED), Decimal("0")
    )
    value = max(Decimal("0"), sum((o.total for o in counted), Decimal("0")) - refunded)
    last_order = max((o.placed_at for o in counted), default=None)
    risk, factors = _churn(world, person, last_order) if person.churn else (None, {})
    public_id = uuid.UUID(int=world.rng.getrandbits(128), version=4)
    world.tables.customers.add(
        person.id,
        public_id,
        person.first,
        person.last,
        person.preferred,
        person.locale,
        person.zone.key,
        person.place.country,
        person.created_at,
        value,
        len(counted),
        last_order,
        person.last_contact,
        risk,
        factors,
    )
    world.tables.audits.add(None, "store signup", AuditEvent.Action.CUSTOMER_CREATED, person.id, person.created_at, {})


def _churn(world: World, person: Person, last_order: datetime | None) -> tuple[float | None, dict[str, object]]:
    """An explainable churn score, as the scheduled job would compute it: each factor is shown."""
    factors: dict[str, object] = {}
    score = 0.05
    days = (world.now - last_order).days if last_order else None
    if days is None or days > 45:
        factors["days_since_last_order"] = days
        score += 0.4 * min(1.0, (days or 180) / 180)
    if person.last_csat and person.last_csat[1] <= 2:
        factors["last_csat"] = person.last_csat[1]
        score += 0.3
    if person.unresolved:
        factors["unresolved_tickets"] = person.unresolved
        score += 0.1 * min(person.unresolved, 3)
    refunds = sum(len(o.refunds) for o in person.orders)
    if refunds:
        factors["refunds"] = refunds
        score += 0.08 * min(refunds, 3)
    if not factors:
        return None, {}
    return round(min(score + world.rng.uniform(0, 0.05), 0.97), 2), factors
