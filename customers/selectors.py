"""Reads the customer pages and the API share; each has a bounded number of queries."""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from .consent import ConsentState, consent_states
from .models import ContactPoint, Customer, Order, OrderLine, Refund

RECENT_ORDERS = 5


def customer_get(*, customer_id: int) -> Customer:
    return Customer.objects.get(pk=customer_id)


def customer_recent_orders(*, customer: Customer, limit: int = RECENT_ORDERS) -> list[Order]:
    """The latest orders with their lines and refunds, in three queries."""
    return list(
        Order.objects.filter(customer=customer)
        .order_by("-placed_at")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("position")),
            Prefetch("refunds", queryset=Refund.objects.order_by("-requested_at")),
        )[:limit]
    )


@dataclass(frozen=True)
class CustomerProfile:
    customer: Customer
    contact_points: list[ContactPoint]
    consents: dict[str, ConsentState]
    recent_orders: list[Order]


def customer_profile(*, customer: Customer) -> CustomerProfile:
    """Everything the single-customer view shows about the person, in a fixed query count."""
    return CustomerProfile(
        customer=customer,
        contact_points=list(customer.contact_points.all()),
        consents=consent_states(customer),
        recent_orders=customer_recent_orders(customer=customer),
    )


def customer_search(*, query: str) -> QuerySet[Customer]:
    from django.db.models import Q

    query = query.strip()
    return Customer.objects.filter(
        Q(first_name__icontains=query)
        | Q(last_name__icontains=query)
        | Q(contact_points__value__icontains=query.lower())
        | Q(orders__number=query.lstrip("#"))
    ).distinct()
