from datetime import timedelta

import pytest
from django.utils import timezone

from customers import consent
from customers.models import Channel, ConsentPurpose, ConsentRecord
from customers.timeline import Cursor, timeline_for_customer
from tests.factories import (
    CSATSurveyFactory,
    CustomerFactory,
    EventFactory,
    MessageFactory,
    OrderFactory,
    RefundFactory,
    TicketFactory,
)
from tickets.models import Message

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _tracking(customer, granted=True):
    ConsentRecord.objects.create(
        customer=customer,
        purpose=ConsentPurpose.objects.get(code=consent.BEHAVIORAL_TRACKING),
        granted=granted,
        source=ConsentRecord.Source.CUSTOMER,
    )


@pytest.fixture
def history():
    """One customer with something of every kind, an hour apart, newest first:
    note, csat, inbound chat message, ticket, refund, event, order."""
    customer = CustomerFactory(first_name="Maria")
    _tracking(customer)
    order = OrderFactory(customer=customer, number="1042", placed_at=NOW - timedelta(hours=7))
    EventFactory(customer=customer, occurred_at=NOW - timedelta(hours=6), payload={"product": "Boots"})
    RefundFactory(order=order, requested_at=NOW - timedelta(hours=5))
    ticket = TicketFactory(customer=customer, channel=Channel.CHAT, created_at=NOW - timedelta(hours=4))
    MessageFactory(ticket=ticket, channel=Channel.CHAT, body="Where is 1042?", created_at=NOW - timedelta(hours=3))
    CSATSurveyFactory(ticket=ticket, channel=Channel.CHAT, rating=5, answered_at=NOW - timedelta(hours=2))
    MessageFactory(
        ticket=ticket,
        channel=Channel.CHAT,
        direction=Message.Direction.NOTE,
        body="VIP",
        created_at=NOW - timedelta(hours=1),
    )
    return customer


def test_every_kind_of_history_is_in_one_timeline_newest_first(history, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):  # the union, plus the consent check
        page = timeline_for_customer(customer=history)

    assert [item.kind for item in page.items] == ["note", "csat", "message", "ticket", "refund", "event", "order"]
    assert page.items[0].private and not page.items[2].private
    assert page.items[-1].title == "Order #1042"
    assert page.items[-2].detail == "Boots"
    assert page.next_cursor == ""


def test_browsing_events_need_tracking_consent(history):
    _tracking(history, granted=False)

    page = timeline_for_customer(customer=history)

    assert "event" not in [item.kind for item in page.items]
    assert page.hidden_kinds == ["event"]


def test_filters_by_kind_and_by_channel(history):
    only_orders = timeline_for_customer(customer=history, kinds=["order", "refund"])
    on_chat = timeline_for_customer(customer=history, channel=Channel.CHAT)

    assert [item.kind for item in only_orders.items] == ["refund", "order"]
    assert {item.kind for item in on_chat.items} == {"note", "csat", "message", "ticket"}


@pytest.mark.parametrize("size", [1, 200])
def test_pages_are_one_query_whatever_the_history_size(size, django_assert_num_queries):
    customer = CustomerFactory()
    ticket = TicketFactory(customer=customer)
    MessageFactory.create_batch(size, ticket=ticket)

    with django_assert_num_queries(1):
        page = timeline_for_customer(customer=customer, limit=25, allowed_purposes=set())

    assert len(page.items) == min(size + 1, 25)


def test_paging_never_repeats_or_skips_even_on_equal_timestamps():
    customer = CustomerFactory()
    same_moment = NOW - timedelta(days=1)
    ticket = TicketFactory(customer=customer, created_at=same_moment)
    MessageFactory.create_batch(7, ticket=ticket, created_at=same_moment)
    OrderFactory.create_batch(4, customer=customer, placed_at=same_moment)
    expected = 1 + 7 + 4

    seen, cursor = [], None
    for _ in range(10):
        page = timeline_for_customer(customer=customer, cursor=cursor, limit=5, allowed_purposes=set())
        seen += [(item.kind, item.title, item.url) for item in page.items]
        cursor = page.next_cursor
        if not cursor:
            break

    assert len(seen) == expected
    assert len(set(seen)) == expected


def test_a_tampered_cursor_starts_from_the_top(history):
    first = timeline_for_customer(customer=history)

    again = timeline_for_customer(customer=history, cursor="not-a-cursor!")

    assert [i.title for i in again.items] == [i.title for i in first.items]
    assert Cursor.decode("not-a-cursor!") is None


def test_the_timeline_of_one_customer_holds_nothing_of_another(history):
    other = CustomerFactory()
    OrderFactory(customer=other, number="9999")

    page = timeline_for_customer(customer=history)

    assert "Order #9999" not in [item.title for item in page.items]


def test_a_ticket_page_can_leave_out_its_own_conversation(history):
    # given the history, and a second conversation on email
    other = TicketFactory(customer=history, channel=Channel.EMAIL, created_at=NOW - timedelta(minutes=30))
    MessageFactory(ticket=other, channel=Channel.EMAIL, body="Second question", created_at=NOW - timedelta(minutes=20))
    chat = history.tickets.get(channel=Channel.CHAT)

    # when the chat ticket's page asks for everything but its own conversation
    page = timeline_for_customer(customer=history, exclude_ref=(("ticket", "message", "note"), chat.pk))

    # then the other conversation, the orders, refunds, events and the CSAT answer stay
    assert [item.kind for item in page.items] == ["message", "ticket", "csat", "refund", "event", "order"]
    assert all(f"/tickets/{chat.pk}/" not in item.url for item in page.items if item.kind != "csat")
