"""Querysets compiled once per process (supportdesk.compiled): same answers, no recompiling."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from supportdesk.compiled import compiled_query
from tests.factories import CustomerFactory, MessageFactory, TicketFactory
from tickets.models import Message, Tag, Ticket

pytestmark = pytest.mark.django_db


def _message_counts():
    return Coalesce(
        Subquery(
            Message.objects.filter(ticket=OuterRef("pk"))
            .order_by()
            .values("ticket_id")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
        0,
    )


def _plain(customer_id):
    return list(
        Ticket.objects.filter(customer_id=customer_id)
        .annotate(n=_message_counts())
        .order_by("pk")
        .values_list("pk", "n")
    )


@pytest.fixture
def two_customers():
    first, second = CustomerFactory(), CustomerFactory()
    for customer, messages in ((first, 3), (second, 1)):
        for _ in range(2):
            ticket = TicketFactory(customer=customer)
            for _ in range(messages):
                MessageFactory(ticket=ticket)
    return first, second


def test_a_shape_is_compiled_once_and_answers_as_the_plain_queryset(two_customers):
    @compiled_query(Ticket)
    def tickets_of(*, customer_id):
        return Ticket.objects.filter(customer_id=customer_id).annotate(n=_message_counts()).order_by("pk")

    first, second = two_customers
    assert [(t.pk, t.n) for t in tickets_of(customer_id=first.pk)] == _plain(first.pk)
    with mock.patch.object(SQLCompiler, "as_sql", side_effect=AssertionError("compiled again")):
        again = tickets_of(customer_id=second.pk)
    assert [(t.pk, t.n) for t in again] == _plain(second.pk)
    assert {t.n for t in again} == {1}
    (stored,) = tickets_of.shapes.values()
    assert stored is not None
    assert tickets_of(customer_id=-1) == []


def test_a_parameter_derived_inside_the_builder_is_never_stored(two_customers):
    @compiled_query(Ticket)
    def recent(*, customer_id, now):
        return Ticket.objects.filter(customer_id=customer_id, created_at__gte=now - timedelta(days=1))

    first, _ = two_customers
    now = timezone.now()
    assert len(recent(customer_id=first.pk, now=now)) == 2
    assert recent(customer_id=first.pk, now=now + timedelta(days=3)) == []
    assert list(recent.shapes.values()) == [None]


def test_datetime_values_are_bound_where_the_backend_passes_them_through(two_customers):
    @compiled_query(Ticket)
    def since(*, customer_id, since):
        return Ticket.objects.filter(customer_id=customer_id, created_at__gte=since)

    first, _ = two_customers
    now = timezone.now()
    assert len(since(customer_id=first.pk, since=now - timedelta(days=1))) == 2
    assert since(customer_id=first.pk, since=now + timedelta(days=1)) == []
    (stored,) = since.shapes.values()
    # PostgreSQL takes datetimes as they are; SQLite's backend turns them into text while
    # compiling, so there the shape is built each time instead (and still answers right).
    assert (stored is not None) == (connection.vendor == "postgresql")


def test_each_shape_is_compiled_on_its_own_and_prefetches_still_run(two_customers):
    @compiled_query(Ticket, shaped=True)
    def latest(limit, *, customer_id):
        return Ticket.objects.filter(customer_id=customer_id).prefetch_related("tags").order_by("-pk")[:limit]

    first, _ = two_customers
    newest = Ticket.objects.filter(customer=first).latest("pk")
    newest.tags.add(Tag.objects.create(name="vip"))
    assert [t.pk for t in latest(shape=1, customer_id=first.pk)] == [newest.pk]
    two = latest(shape=2, customer_id=first.pk)
    assert len(two) == 2
    assert [tag.name for tag in two[0].tags.all()] == ["vip"]
    assert len(latest.shapes) == 2


def test_a_boolean_value_is_not_mistaken_for_a_number(two_customers):
    @compiled_query(Ticket)
    def by_flag(*, customer_id, solved):
        statuses = (Ticket.Status.SOLVED, Ticket.Status.CLOSED) if solved else Ticket.UNSOLVED
        return Ticket.objects.filter(customer_id=customer_id, status__in=statuses)

    first, _ = two_customers
    assert len(by_flag(customer_id=first.pk, solved=False)) == 2
    assert by_flag(customer_id=first.pk, solved=True) == []
    assert list(by_flag.shapes.values()) == [None]


def test_a_shape_that_can_match_nothing_answers_empty(two_customers):
    @compiled_query(Ticket, shaped=True)
    def window(bounds, *, customer_id):
        start, stop = bounds
        return Ticket.objects.filter(customer_id=customer_id).order_by("pk")[start:stop]

    first, _ = two_customers
    assert window(shape=(0, 0), customer_id=first.pk) == []
    assert len(window(shape=(0, 5), customer_id=first.pk)) == 2
