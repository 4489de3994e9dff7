"""The load run's data: the benchmark's dataset at a chosen size, agents who can log in, the
catalogue the webhook store sells from, and what the agents search for.

The desk under load is a working one: the benchmark's generator (``supportdesk.bench.dataset``)
builds it with COPY, with a backlog of recent open tickets assigned across the agents. The load
run adds only what the benchmark does not need: a password for each agent (a fresh one every
run, never printed) and the store's products.
"""

import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from customers.models import ContactPoint, Customer, Order, Product
from supportdesk import roles
from supportdesk.bench.dataset import BuildReport, Scale, dataset_build, dataset_exists
from tickets.models import Team

AGENT_PREFIX = "bench-agent-"  # the benchmark's agents, who hold the dataset's tickets
STORE_SOURCE = "loadstore"  # the source system of the burst's orders (``X-Desk-Source``)
STORE_PRODUCTS = 60


@dataclass(frozen=True)
class Prepared:
    agents: list[str]
    search_terms: list[str]
    build: BuildReport | None


def scale_for(*, customers: int, agents: int) -> Scale:
    """The benchmark's proportions (per customer: 3 tickets of 5 messages, 3 orders, 10 events)."""
    return Scale(
        customers=customers,
        tickets=customers * 3,
        messages_per_ticket=5,
        orders=customers * 3,
        lines_per_order=3,
        events=customers * 10,
        csat=customers,
        whale_tickets=min(500, customers // 10),
        whale_events=min(5000, customers),
        products=min(500, max(20, customers // 20)),
        agents=agents,
    )


def dataset_prepare(*, customers: int, agents: int, password: str, seed: int, progress=None) -> Prepared:
    """Build the dataset if the database is empty, then give ``agents`` agents ``password``."""
    build = None
    if not dataset_exists():
        build = dataset_build(scale_for(customers=customers, agents=agents), progress=progress)
    names = agents_ensure(count=agents, password=password)
    catalogue_ensure()
    return Prepared(agents=names, search_terms=search_terms(seed=seed), build=build)


@transaction.atomic
def agents_ensure(*, count: int, password: str) -> list[str]:
    """``count`` agents (the dataset's, plus any more a bigger run needs), all with ``password``.

    One hash for all of them: hashing fifty times would cost seconds of Argon2 for nothing, and
    each login still verifies the password in full on the server.
    """
    User = get_user_model()
    group = Group.objects.get(name=roles.AGENT)
    team, _ = Team.objects.get_or_create(name="Bench team")
    names = [f"{AGENT_PREFIX}{i}" for i in range(count)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    for name in names:
        if name not in existing:
            user = User.objects.create(username=name, first_name=f"Agent{name.removeprefix(AGENT_PREFIX)}")
            user.groups.add(group)
            team.members.add(user)
    User.objects.filter(username__in=names).update(password=make_password(password), is_active=True)
    return names


def catalogue_ensure() -> None:
    """The store's products, as its catalogue sync would have sent them before any order."""
    Product.objects.bulk_create(
        [
            Product(
                source=STORE_SOURCE,
                external_id=f"LP{i}",
                sku=f"LOAD-{i:04d}",
                name=f"Store item {i}",
                price=5 + (i * 7) % 150,
            )
            for i in range(1, STORE_PRODUCTS + 1)
        ],
        ignore_conflicts=True,
    )


def search_terms(*, seed: int, count: int = 60) -> list[str]:
    """What agents type into search: customers' emails, phones, last names and order numbers."""
    rng = random.Random(seed)  # noqa: S311 — test data, not secrets
    ids = list(Customer.objects.filter(erased=False).order_by("?").values_list("id", flat=True)[:count])
    contacts = ContactPoint.objects.filter(customer_id__in=ids).values_list("channel", "value")
    names = Customer.objects.filter(id__in=ids).values_list("last_name", flat=True)
    numbers = Order.objects.filter(customer_id__in=ids).values_list("number", flat=True)[:count]
    terms = [value for channel, value in contacts if channel in ("email", "phone")]
    terms += [name for name in names if name] + list(numbers)
    rng.shuffle(terms)
    return terms
