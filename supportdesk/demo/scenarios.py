"""The first demo customers are scripted: each shows a situation the desk must handle well, so
the inbox, the single-customer view and the suggested next actions have something to show.

Each script returns the plans of one or more consecutive customers. Everyone after them is
generated at random (``random_plan``).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from customers.models import Order, Refund
from tickets.models import Ticket

from .catalogue import NICKNAMES, PLACES, Place
from .conversations import TicketSpec, daytime, tickets_random
from .people import Person, order_new, orders_random, person_new, refund_add
from .world import World

NEW, OPEN, PENDING = Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.PENDING
SOLVED, CLOSED = Ticket.Status.SOLVED, Ticket.Status.CLOSED


@dataclass
class Plan:
    person: Person
    specs: list[TicketSpec]
    consent: dict[str, bool] = field(default_factory=dict)  # final states a script needs
    consent_random: bool = True  # False: no decisions at all (a brand-new customer)
    abandoned_cart_at: datetime | None = None


def _place(country: str) -> Place:
    return next(p for p in PLACES if p.country == country)


def _ago(world: World, days: float) -> datetime:
    return world.now - timedelta(days=days)


def vip(world: World, cid: int) -> list[Plan]:
    """The best customer: a long history of large orders, and two happy conversations."""
    place = _place("GB")
    nicknamed = [name for name in world.names[place.faker][0] if name in NICKNAMES] or ["Elizabeth"]
    first = world.rng.choice(nicknamed)
    person = person_new(world, cid, place=place, created_at=_ago(world, 700), first=first, channels=("email", "chat"))
    person.preferred = NICKNAMES.get(first, "")
    orders_random(world, person, 14, rich=True)
    agent = world.agent("agent")
    specs = [
        TicketSpec(
            "email",
            CLOSED,
            "product_question",
            daytime(world, person, 40),
            "normal",
            product=world.products[20],
            assignee=agent,
            rating=5,
            span=timedelta(hours=20),
            notes=("vip",),
            tags=("vip", "pre-sales"),
        ),
        TicketSpec(
            "chat",
            SOLVED,
            "product_question",
            daytime(world, person, 10),
            "high",
            product=world.products[33],
            assignee=agent,
            rating=5,
            tags=("vip", "pre-sales"),
        ),
    ]
    return [Plan(person, specs, consent={"marketing": True, "personalization": True})]


def late_order(world: World, cid: int) -> list[Plan]:
    """A late order and the customer asking about it on two channels at once."""
    person = person_new(world, cid, place=_place("DE"), created_at=_ago(world, 260), channels=("email", "chat"))
    orders_random(world, person, 2)
    order = order_new(world, person, _ago(world, 11), status=Order.Status.SHIPPED)
    order.promised = world.today - timedelta(days=4)
    specs = [
        TicketSpec(
            "email",
            OPEN,
            "where_is_order",
            daytime(world, person, 2),
            "high",
            order=order,
            assignee=world.agent("agent"),
            tags=("shipping", "late-delivery"),
        ),
        TicketSpec(
            "chat",
            OPEN,
            "where_is_order",
            world.now - timedelta(hours=3),
            "high",
            order=order,
            assignee=world.agent("sofia"),
            span=timedelta(minutes=9),
            tags=("shipping", "late-delivery"),
        ),
    ]
    return [Plan(person, specs, consent={"behavioral_tracking": True})]


def two_channels(world: World, cid: int) -> list[Plan]:
    """Open on social about one thing, waiting on the customer by email about another."""
    person = person_new(world, cid, place=_place("FR"), created_at=_ago(world, 400), channels=("email", "social"))
    order = order_new(
        world,
        person,
        _ago(world, 25),
        status=Order.Status.DELIVERED,
        items=[next((*p, 1) for p in world.products if p[1].sized)],
    )
    specs = [
        TicketSpec(
            "social",
            OPEN,
            "product_question",
            daytime(world, person, 1),
            product=world.products[9],
            assignee=world.agent("lukas"),
            tags=("pre-sales",),
        ),
        TicketSpec(
            "email",
            PENDING,
            "exchange",
            daytime(world, person, 4),
            order=order,
            assignee=world.agent("agent"),
            tags=("exchange",),
        ),
    ]
    return [Plan(person, specs)]


def repeat_contacter(world: World, cid: int) -> list[Plan]:
    """Three contacts in a week about one refund that was requested and never completed."""
    person = person_new(
        world, cid, place=_place("ES"), created_at=_ago(world, 330), channels=("email", "phone", "chat")
    )
    order = order_new(world, person, _ago(world, 20), status=Order.Status.DELIVERED)
    refund_add(world, order, Refund.Status.REQUESTED, requested_at=_ago(world, 9))
    billing = {"team": "Billing", "order": order, "tags": ("refund",)}
    specs = [
        TicketSpec("phone", SOLVED, "refund", daytime(world, person, 6), assignee=world.agent("chloe"), **billing),
        TicketSpec("email", PENDING, "refund", daytime(world, person, 3), assignee=world.agent("chloe"), **billing),
        TicketSpec(
            "chat",
            OPEN,
            "refund",
            world.now - timedelta(hours=5),
            "high",
            assignee=world.agent("agent"),
            span=timedelta(minutes=12),
            notes=("repeat",),
            **billing,
        ),
    ]
    return [Plan(person, specs, consent={"surveys": False})]


def unhappy(world: World, cid: int) -> list[Plan]:
    """Solved four days ago and rated 1: the last word from this customer was a complaint."""
    person = person_new(world, cid, place=_place("US"), created_at=_ago(world, 200), channels=("email", "phone"))
    person.churn = True
    earlier = order_new(world, person, _ago(world, 60), status=Order.Status.DELIVERED)
    order = order_new(world, person, _ago(world, 14), status=Order.Status.DELIVERED)
    order.promised, order.delivered_at = world.today - timedelta(days=8), _ago(world, 4.3)  # four days late
    specs = [
        TicketSpec(
            "email",
            SOLVED,
            "invoice",
            daytime(world, person, 45),
            "low",
            order=earlier,
            assignee=world.agent("sofia"),
            team="Billing",
            rating=4,
            span=timedelta(hours=5),
        ),
        TicketSpec(
            "email",
            SOLVED,
            "where_is_order",
            _ago(world, 5.2),
            "high",
            order=order,
            assignee=world.agent("lukas"),
            rating=1,
            span=timedelta(hours=28),
            tags=("shipping",),
        ),
    ]
    return [Plan(person, specs, consent={"surveys": True})]


def first_contacts(world: World, cid: int) -> list[Plan]:
    """Two people the desk has never heard from: a web form and a chat, both waiting."""
    web = person_new(world, cid, place=_place("IE"), created_at=world.now - timedelta(hours=3), channels=("email",))
    chat = person_new(world, cid + 1, place=_place("MX"), created_at=world.now - timedelta(hours=1), channels=("chat",))
    return [
        Plan(
            web,
            [
                TicketSpec(
                    "web",
                    NEW,
                    "product_question",
                    world.now - timedelta(minutes=40),
                    product=world.products[15],
                    team=None,
                )
            ],
            consent_random=False,
        ),
        Plan(
            chat,
            [
                TicketSpec(
                    "chat",
                    NEW,
                    "product_question",
                    world.now - timedelta(minutes=25),
                    "high",
                    product=world.products[36],
                    team=None,
                )
            ],
            consent_random=False,
        ),
    ]


def cart_abandoner(world: World, cid: int) -> list[Plan]:
    """Left a full cart yesterday and agreed to marketing: a reminder with an offer is fair game."""
    person = person_new(world, cid, place=_place("BE"), created_at=_ago(world, 150), channels=("email", "chat"))
    orders_random(world, person, 2)
    specs = tickets_random(world, person, 1)
    return [
        Plan(person, specs, consent={"behavioral_tracking": True, "marketing": True}, abandoned_cart_at=_ago(world, 1))
    ]


def duplicates(world: World, cid: int) -> list[Plan]:
    """One person, two records: known by email with an order, and by phone calling about that order."""
    place = _place("ES")
    first, last = world.rng.choice(world.names[place.faker][0]), world.rng.choice(world.names[place.faker][1])
    by_email = person_new(
        world, cid, place=place, created_at=_ago(world, 300), first=first, last=last, channels=("email",)
    )
    order = order_new(world, by_email, _ago(world, 15), status=Order.Status.DELIVERED)
    by_phone = person_new(
        world, cid + 1, place=place, created_at=_ago(world, 1.5), first=first, last=last, channels=("phone",)
    )
    by_phone.preferred = by_email.preferred = ""
    by_phone.zone = by_email.zone
    return [
        Plan(
            by_email,
            [
                TicketSpec(
                    "email",
                    SOLVED,
                    "invoice",
                    daytime(world, by_email, 12),
                    "low",
                    order=order,
                    assignee=world.agent("chloe"),
                    team="Billing",
                    tags=("billing",),
                )
            ],
        ),
        Plan(
            by_phone,
            [
                TicketSpec(
                    "phone",
                    OPEN,
                    "damaged",
                    world.now - timedelta(hours=20),
                    order=order,
                    assignee=world.agent("agent"),
                    notes=("duplicate",),
                    tags=("damaged",),
                )
            ],
            consent_random=False,
        ),
    ]


def drifting_away(world: World, cid: int) -> list[Plan]:
    """Has not ordered for months, rated the last help 2, and has a question still open."""
    person = person_new(world, cid, place=_place("AT"), created_at=_ago(world, 500), channels=("email",))
    person.churn = True
    for days in (400, 330, 265, 200):
        order_new(world, person, _ago(world, days), status=Order.Status.DELIVERED)
    specs = [
        TicketSpec(
            "email",
            CLOSED,
            "invoice",
            daytime(world, person, 100),
            order=person.orders[-1],
            assignee=world.agent("sofia"),
            team="Billing",
            rating=2,
            span=timedelta(days=2),
        ),
        TicketSpec("email", OPEN, "account", daytime(world, person, 6), "low", assignee=world.agent("agent")),
    ]
    return [Plan(person, specs, consent={"surveys": True})]


def prefers_chat(world: World, cid: int) -> list[Plan]:
    """Answers chat within minutes but email only hours later, and wrote by email three days
    ago without an answer yet: the first-response target is missed (switch to chat, reply now)."""
    person = person_new(world, cid, place=_place("CA"), created_at=_ago(world, 240), channels=("email", "chat"))
    orders_random(world, person, 3)
    agent = world.agent("agent")
    specs = [
        TicketSpec(channel, status, topic, daytime(world, person, days), assignee=agent, rating=rating)
        for channel, status, topic, days, rating in (
            ("email", CLOSED, "account", 60, 4),
            ("chat", CLOSED, "product_question", 45, 5),
            ("email", CLOSED, "invoice", 30, 4),
            ("chat", SOLVED, "product_question", 12, 5),
        )
    ]
    specs.append(TicketSpec("email", NEW, "account", daytime(world, person, 3), "urgent", team=None))
    return [Plan(person, specs, consent={"surveys": True})]


SCRIPTS: list[Callable[[World, int], list[Plan]]] = [
    late_order,
    repeat_contacter,
    first_contacts,
    unhappy,
    vip,
    two_channels,
    duplicates,
    cart_abandoner,
    drifting_away,
    prefers_chat,
]
SCRIPTED_CUSTOMERS = 12


def random_plan(world: World, cid: int, tickets: int) -> Plan:
    person = person_new(world, cid)
    rng = world.rng
    orders_random(world, person, rng.choices(range(9), weights=(18, 26, 20, 13, 9, 6, 4, 2, 2))[0])
    person.churn = bool(person.orders) and rng.random() < 0.12
    return Plan(person, tickets_random(world, person, tickets))
