"""Generating the whole demo: scripted customers first, then random ones, in chunks that are
written (COPY or bulk_create) as they are made, so memory stays flat at any size."""

# ruff: noqa: S311 - demo data: reproducible pseudo-randomness is the point, not secrecy

import functools
import random
from collections.abc import Callable
from itertools import accumulate

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from customers.models import ConsentPurpose, Customer, Order
from customers.services import consent_wording_current
from supportdesk import roles
from tickets.models import SLAPolicy, Ticket
from tickets.sla import calendar_for_team

from .catalogue import PLACES
from .conversations import chat_sessions_write, ticket_write
from .load import checks_deferred, next_id, sequences_reset
from .people import PURPOSES, consent_write, contacts_write, customer_write, events_write, orders_write
from .scenarios import SCRIPTS, Plan, random_plan
from .staff import STAFF, setup_ensure
from .world import LAYOUT, Agent, Tables, World

TICKETS_PER_CUSTOMER = 5
CHUNK = 1000  # customers generated and written together


@functools.cache
def name_pools(seed: int) -> dict[str, tuple[list[str], list[str]]]:
    """First and last names per Faker locale, drawn once (Faker is slow; the demo draws millions)."""
    try:
        from faker import Faker
    except ImportError as exc:  # a dev dependency: installed by `make setup`
        raise RuntimeError("seed_demo needs Faker: pip install -r requirements-dev.txt") from exc
    pools = {}
    for locale in sorted({place.faker for place in PLACES}):
        fake = Faker(locale)
        fake.seed_instance(seed)
        pools[locale] = ([fake.first_name() for _ in range(400)], [fake.last_name() for _ in range(400)])
    return pools


def world_new(*, seed: int, users: dict[str, AbstractBaseUser]) -> World:
    rng = random.Random(seed)
    now = timezone.now()
    team_ids, tag_ids, products = setup_ensure(users=users)
    purposes = {
        p.code: (p.pk, consent_wording_current(purpose=p).pk, p.default_granted)
        for p in ConsentPurpose.objects.filter(code__in=PURPOSES, active=True).order_by("position", "code")
    }
    return World(
        rng=rng,
        now=now,
        today=timezone.localdate(now),
        names=name_pools(seed),
        products=products,
        agents=[Agent(users[m.username].pk, m.username, m.first_name) for m in STAFF if m.role == roles.AGENT],
        teams=team_ids,
        tags=tag_ids,
        purposes=purposes,
        sla={
            p.priority: (p.first_response_minutes, p.resolution_minutes) for p in SLAPolicy.objects.filter(active=True)
        },
        calendars={tid: calendar_for_team(team_id=tid) for tid in [None, *team_ids.values()]},
        tables=Tables(now),
        ids={"customer": next_id(Customer), "order": next_id(Order), "ticket": next_id(Ticket)},
    )


def plan_commit(world: World, plan: Plan) -> None:
    """Write one customer and everything about them, in the order their figures depend on."""
    person = plan.person
    if plan.consent_random or plan.consent:
        consent_write(world, person, plan.consent)
    else:
        person.consent = {code: default for code, (_, _, default) in world.purposes.items()}
    written = [ticket_write(world, person, spec) for spec in sorted(plan.specs, key=lambda s: s.created_at)]
    chat_sessions_write(world, person, written)
    events_write(world, person, abandoned_cart_at=plan.abandoned_cart_at)
    contacts_write(world, person)
    orders_write(world, person)
    customer_write(world, person)


def _customer_rng(seed: int, position: int) -> random.Random:
    """Each customer draws from their own stream: what one customer's data looks like does not
    depend on how many random draws the customers before them made (which varies with the clock)."""
    return random.Random(seed * 1_000_003 + position)


def ticket_shares(rng: random.Random, customers: int, tickets: int) -> list[int]:
    """Split ``tickets`` over ``customers``: most have a few, some many, the total is exact."""
    if customers <= 0:
        return []
    cumulative = list(accumulate(rng.expovariate(1.0) for _ in range(customers)))
    edges = [round(tickets * c / cumulative[-1]) for c in cumulative]
    return [b - a for a, b in zip([0, *edges], edges, strict=False)]


def demo_build(
    *, customers: int, seed: int, users: dict[str, AbstractBaseUser], progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Generate and write the demo data for ``customers`` customers. Returns rows written per table.

    Call inside a transaction on a database without customers; ``users`` are the demo staff.
    """
    with checks_deferred(*(model for _, model, _ in LAYOUT)):
        return _build(customers=customers, seed=seed, users=users, progress=progress)


def _build(
    *, customers: int, seed: int, users: dict[str, AbstractBaseUser], progress: Callable[[int], None] | None
) -> dict[str, int]:
    world = world_new(seed=seed, users=users)
    first = world.ids["customer"]
    cid, scripted_tickets, pending = first, 0, 0
    for script in SCRIPTS:
        world.rng = _customer_rng(seed, cid - first)
        for plan in script(world, cid)[: first + customers - cid]:
            plan_commit(world, plan)
            scripted_tickets += len(plan.specs)
            cid += 1
            pending += 1
        if cid >= first + customers:
            break
    budget = max(0, TICKETS_PER_CUSTOMER * customers - scripted_tickets)
    shares = ticket_shares(random.Random(seed), first + customers - cid, budget)
    for tickets in shares:
        world.rng = _customer_rng(seed, cid - first)
        plan_commit(world, random_plan(world, cid, tickets))
        cid += 1
        pending += 1
        if pending >= CHUNK:
            world.tables.flush()
            if progress:
                progress(pending)
            pending = 0
    world.tables.flush()
    if progress and pending:
        progress(pending)
    sequences_reset(Customer, Order, Ticket)
    return world.tables.counts()
