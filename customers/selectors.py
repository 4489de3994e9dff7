"""Reads the customer pages and the API share; each has a bounded number of queries."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection
from django.db.models import CharField, Count, Expression, Func, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from supportdesk.compiled import compiled_query

from .consent import ConsentState, consent_states
from .greeting import Greeting, greeting_for
from .identity import contact_normalise
from .models import Channel, ContactPoint, Customer, CustomerMerge, Order, OrderLine, Refund

RECENT_ORDERS = 5
SEARCH_LIMIT = 20

# Figures other apps add to a customer, as annotations (subqueries), so the profile costs no
# extra query: ``tickets`` adds the conversation counts and the last CSAT answer. A provider
# takes the name of the customer id in the outer query ("pk" on Customer, "customer_id" on a
# ticket) and returns {name: expression}.
ProfileFigures = Callable[[str], dict[str, Expression]]
_profile_figure_providers: dict[str, ProfileFigures] = {}
# The figure a provider may add that says how many conversations the customer had; the
# greeting's "welcome back" reads it.
CONVERSATION_COUNT = "conversation_count"


def profile_figures_register(name: str, provider: ProfileFigures) -> None:
    """Let another app add figures to every customer profile (idempotent per ``name``)."""
    _profile_figure_providers[name] = provider
    _figure_names.clear()


_figure_names: list[tuple[str, ...]] = []  # the names, worked out once per registration


def profile_figure_names() -> tuple[str, ...]:
    """The names of the registered figures, without building their expressions each time."""
    if not _figure_names:
        _figure_names.append(tuple(profile_figures("pk")))
    return _figure_names[0]


def profile_figures(customer_ref: str = "pk") -> dict[str, Expression]:
    figures: dict[str, Expression] = {}
    for provider in _profile_figure_providers.values():
        figures.update(provider(customer_ref))
    return figures


@compiled_query(Customer, shaped=True)
def _customer_with_figures(_figures: tuple[str, ...], *, customer_id: int) -> QuerySet[Customer]:
    return Customer.objects.select_related("merged_into").annotate(**profile_figures("pk")).filter(pk=customer_id)


def customer_get(*, customer_id: int) -> Customer:
    """The customer with every registered figure annotated, in one query (compiled once per
    process: ``supportdesk.compiled``)."""
    # The registered figures are part of the shape: a provider added later compiles anew.
    rows = _customer_with_figures(shape=profile_figure_names(), customer_id=customer_id)
    if not rows:
        raise Customer.DoesNotExist(f"No customer {customer_id}.")
    return rows[0]


@compiled_query(Order, shaped=True)
def _orders_with_refund_summary(limit: int, *, customer_id: int) -> QuerySet[Order]:
    refunds = Refund.objects.filter(order=OuterRef("pk"))
    latest = refunds.order_by("-requested_at", "-pk")
    return (
        Order.objects.filter(customer_id=customer_id)
        .order_by("-placed_at")
        .annotate(
            refund_count=Coalesce(
                Subquery(refunds.order_by().values("order_id").annotate(n=Count("pk")).values("n")[:1]), 0
            ),
            latest_refund_kind=Subquery(latest.values("kind")[:1]),
            latest_refund_status=Subquery(latest.values("status")[:1]),
            latest_refund_amount=Subquery(latest.values("amount")[:1]),
        )
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("position")))[:limit]
    )


def customer_recent_orders(
    *, customer: Customer, limit: int = RECENT_ORDERS, summarise_refunds: bool = False
) -> list[Order]:
    """The latest orders with their lines and refunds, in three queries.

    With ``summarise_refunds`` (the side panel beside a ticket, where every query counts) the
    refunds are not loaded: each order carries ``refund_count`` and ``latest_refund`` (a
    short text) from subqueries instead, in two queries.
    """
    orders = Order.objects.filter(customer=customer).order_by("-placed_at")
    if not summarise_refunds:
        return list(
            orders.prefetch_related(
                Prefetch("lines", queryset=OrderLine.objects.order_by("position")),
                Prefetch("refunds", queryset=Refund.objects.order_by("-requested_at")),
            )[:limit]
        )
    rows = _orders_with_refund_summary(shape=limit, customer_id=customer.pk)
    for order in rows:
        order.latest_refund = ""
        if order.refund_count:
            kind = Refund.Kind(order.latest_refund_kind).label if order.latest_refund_kind in Refund.Kind.values else ""
            status = (
                Refund.Status(order.latest_refund_status).label
                if order.latest_refund_status in Refund.Status.values
                else ""
            )
            amount = Decimal(str(order.latest_refund_amount or 0)).quantize(Decimal("0.01"))
            order.latest_refund = f"{kind} of {amount} {order.currency} — {status}"
    return rows


@dataclass(frozen=True)
class CustomerProfile:
    customer: Customer
    contact_points: list[ContactPoint]
    consents: dict[str, ConsentState]
    recent_orders: list[Order]
    greeting: Greeting | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    refunds_summarised: bool = False

    @property
    def allowed_purposes(self) -> frozenset[str]:
        return frozenset(code for code, state in self.consents.items() if state.granted)

    @property
    def reachable(self) -> set[str]:
        """Contact channels the customer has (email, phone, chat, social...)."""
        return {point.channel for point in self.contact_points}

    @property
    def churn_factors(self) -> list[tuple[str, Any]]:
        factors = self.customer.churn_factors
        if isinstance(factors, dict):
            return sorted(factors.items(), key=lambda item: str(item[0]))
        if isinstance(factors, list):
            return [(str(item), "") for item in factors]
        return []


def customer_profile(
    *,
    customer: Customer,
    returning: bool | None = None,
    now: datetime | None = None,
    with_orders: bool = True,
    summarise_refunds: bool = False,
) -> CustomerProfile:
    """Everything the single-customer view shows about the person, in a fixed query count.

    ``returning`` (for the greeting) defaults to "has ordered, or had more than one
    conversation"; the ticket page passes its own answer (an earlier conversation than this one).
    Figures annotated by ``customer_get`` are collected into ``figures``.
    """
    figure_names = profile_figure_names()
    figures = {name: getattr(customer, name) for name in figure_names if hasattr(customer, name)}
    if returning is None:
        returning = bool(customer.order_count or customer.last_order_at) or (figures.get(CONVERSATION_COUNT) or 0) > 1
    return CustomerProfile(
        customer=customer,
        contact_points=list(customer.contact_points.all()),
        consents=consent_states(customer),
        recent_orders=(
            customer_recent_orders(customer=customer, summarise_refunds=summarise_refunds) if with_orders else []
        ),
        refunds_summarised=summarise_refunds,
        greeting=greeting_for(customer=customer, returning=returning, now=now),
        figures=figures,
    )


@compiled_query(CustomerMerge, shaped=True)
def _merges_of(limit: int, *, customer_id: int) -> QuerySet[CustomerMerge]:
    return (
        CustomerMerge.objects.filter(Q(survivor_id=customer_id) | Q(merged_id=customer_id))
        .select_related("survivor", "merged", "actor", "undone_by")
        .order_by("-created_at")[:limit]
    )


def customer_merges(*, customer: Customer, limit: int = 10) -> list[CustomerMerge]:
    """Merges this customer took part in, newest first, with both sides and the actors."""
    return _merges_of(shape=limit, customer_id=customer.pk)


# Search ----------------------------------------------------------------------------------------


class NameKey(Func):
    """``lower(first_name || ' ' || last_name)``: the expression the trigram index is built on
    (customers/migrations/0003), so PostgreSQL can use the index."""

    template = "lower(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = CharField()

    def __init__(self) -> None:
        super().__init__("first_name", "last_name")


def search_candidates(*branches: QuerySet, limit: int) -> RawSQL:
    """The union of a search's branches, each brought to at most ``limit`` ids, as a subquery
    for ``pk__in`` (PostgreSQL).

    Every branch is a one-column ``values()`` queryset. An unordered branch (an index filter:
    trigram, full text, equality) is a ``MATERIALIZED`` common table expression, planned as if
    for all its rows: so PostgreSQL reads it through its index (a bitmap scan, cut at
    ``limit``) and never trades that, on a guess that matches abound, for a scan of the whole
    table hoping to meet ``limit`` of them early (a LIMIT reaches into a plain or ``OFFSET 0``
    subquery, not into a materialised CTE). An ordered branch (a nearest-first index walk) is
    taken as it is, already sliced by the caller. The few ids that come out are then joined by
    primary key: the planner expects a handful of rows, because there are.
    """
    parts, params = [], []
    for number, branch in enumerate(branches):
        try:
            sql, branch_params = branch.query.sql_with_params()
        except EmptyResultSet:  # a branch that cannot match (``.none()``) adds nothing
            continue
        if not branch.query.order_by:
            sql = f"WITH branch_{number} AS MATERIALIZED ({sql}) SELECT * FROM branch_{number} LIMIT {int(limit)}"  # noqa: S608
        parts.append(f"({sql})")
        params.extend(branch_params)
    if not parts:
        return RawSQL("SELECT NULL::bigint WHERE FALSE", [])
    return RawSQL(" UNION ".join(parts), params)  # noqa: S611


# How many candidates each branch of a PostgreSQL search may bring before they are ranked.
SEARCH_CANDIDATES = 200
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]{6,}$")


def phone_query(query: str, region: str | None = None) -> str | None:
    """The E.164 form of ``query`` when it looks like a phone number, else None."""
    if not _PHONE_LIKE.match(query) or sum(ch.isdigit() for ch in query) < 6:
        return None
    try:
        return contact_normalise(channel=Channel.PHONE, value=query, region=region)
    except ValidationError:
        return None


def customer_search(*, query: str, limit: int | None = None) -> QuerySet[Customer]:
    """Customers matching ``query`` by first and last name, email, phone, social handle or
    order number.

    Merged-away customers are left out (their survivor matches instead). On PostgreSQL names
    match by trigram similarity as well as by substring, best match first, and emails and
    handles by substring, both through the trigram indexes; SQLite matches substrings.
    Two queries: the customers, and their contact points. ``limit`` slices the result (the
    search page); the API pages through the whole queryset, which on PostgreSQL holds at most
    ``SEARCH_CANDIDATES`` of each kind of match.
    """
    query = " ".join((query or "").split())
    if not query:
        return Customer.objects.none()
    lowered = query.lower()
    contact_match = Q(value__contains=lowered)
    phone = phone_query(query)
    digits = "".join(ch for ch in query if ch.isdigit())
    if phone:
        contact_match |= Q(channel=Channel.PHONE, value=phone)
    if len(digits) >= 6:
        # A national number without its country code still finds the E.164 form.
        contact_match |= Q(channel=Channel.PHONE, value__endswith=digits.lstrip("0"))
    keyed = Customer.objects.annotate(name_key=NameKey()).order_by()
    contacts = ContactPoint.objects.filter(contact_match).order_by().values("customer_id")
    orders = Order.objects.filter(number=query.lstrip("#")).order_by().values("customer_id")
    if connection.vendor == "postgresql":
        # Names that hold the query and names like it are two branches: a full name typed out
        # ("maria garcia") is always among the few that hold it, however many names are merely
        # like it. Each branch brings at most SEARCH_CANDIDATES, so a common surname costs what
        # a rare one does; among that many the closest are ranked first below.
        holding = keyed.filter(name_key__contains=lowered).values("pk")
        similar = keyed.filter(name_key__trigram_similar=lowered).values("pk")
        ids = search_candidates(holding, similar, contacts, orders, limit=SEARCH_CANDIDATES)
    else:
        # One id set per index (names, contact values, order numbers), unioned.
        ids = keyed.filter(name_key__contains=lowered).values("pk").union(contacts, orders)
    customers = Customer.objects.filter(pk__in=ids, merged_into__isnull=True)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import TrigramSimilarity

        customers = customers.annotate(similarity=TrigramSimilarity(NameKey(), lowered))
        ordering = ["-similarity", "last_name", "first_name", "pk"]
    else:
        ordering = ["last_name", "first_name", "pk"]
    found = customers.prefetch_related(
        Prefetch("contact_points", queryset=ContactPoint.objects.order_by("channel", "-is_primary"))
    ).order_by(*ordering)
    return found[:limit] if limit else found
