import pytest
from django.urls import reverse

from customers.models import AuditEvent, Channel
from tests.factories import (
    ContactPointFactory,
    CustomerFactory,
    MessageFactory,
    OrderFactory,
    OrderLineFactory,
    TicketFactory,
)
from tickets.models import Message

pytestmark = pytest.mark.django_db

# Query budgets: they hold whatever the size of the history.
INBOX_BUDGET = 12
TICKET_PAGE_BUDGET = 15
CUSTOMER_PAGE_BUDGET = 15


def _customer_with_history(tickets: int, messages: int):
    customer = CustomerFactory(first_name="Maria")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value=f"maria{tickets}{messages}@example.com")
    for _ in range(3):
        OrderLineFactory(order=OrderFactory(customer=customer))
    ticket = TicketFactory(customer=customer)
    MessageFactory.create_batch(messages, ticket=ticket)
    TicketFactory.create_batch(tickets - 1, customer=customer)
    return customer, ticket


def test_inbox_lists_open_tickets_within_budget(agent_client, django_assert_max_num_queries):
    TicketFactory.create_batch(30)

    with django_assert_max_num_queries(INBOX_BUDGET):
        response = agent_client.get(reverse("tickets:inbox"))

    assert response.status_code == 200
    assert len(response.context["page"]) == 25


def test_inbox_views_filter_mine_and_unassigned(agent_client, agent):
    mine = TicketFactory(assignee=agent, subject="Assigned to me")
    TicketFactory(subject="Nobody's yet")

    mine_page = agent_client.get(reverse("tickets:inbox"), {"view": "mine"}).content.decode()
    unassigned_page = agent_client.get(reverse("tickets:inbox"), {"view": "unassigned"}).content.decode()

    assert mine.subject in mine_page and "Nobody&#x27;s yet" not in mine_page
    assert "Nobody&#x27;s yet" in unassigned_page and mine.subject not in unassigned_page


@pytest.mark.parametrize("history", [1, 200])
def test_ticket_page_query_budget_does_not_grow_with_history(agent_client, django_assert_max_num_queries, history):
    _, ticket = _customer_with_history(tickets=history, messages=history)

    with django_assert_max_num_queries(TICKET_PAGE_BUDGET):
        response = agent_client.get(reverse("tickets:detail", args=[ticket.pk]))

    assert response.status_code == 200
    assert "Maria" in response.content.decode()


@pytest.mark.parametrize("history", [1, 200])
def test_customer_page_query_budget_does_not_grow_with_history(agent_client, django_assert_max_num_queries, history):
    customer, _ = _customer_with_history(tickets=history, messages=history)

    with django_assert_max_num_queries(CUSTOMER_PAGE_BUDGET):
        response = agent_client.get(reverse("customers:detail", args=[customer.pk]))

    assert response.status_code == 200


def test_opening_a_profile_is_audited(agent_client, agent):
    customer = CustomerFactory()

    agent_client.get(reverse("customers:detail", args=[customer.pk]))

    audit = AuditEvent.objects.get(action=AuditEvent.Action.PROFILE_VIEWED)
    assert (audit.customer, audit.actor) == (customer, agent)


def test_customer_text_is_escaped(agent_client):
    customer = CustomerFactory(first_name="<script>alert(1)</script>")
    ticket = TicketFactory(customer=customer, subject="<img src=x onerror=alert(2)>")
    MessageFactory(ticket=ticket, body="<script>alert(3)</script>")

    html = agent_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in html


def test_replying_from_the_ticket_page(agent_client, django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="c@example.com")
    ticket = TicketFactory(customer=customer)

    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            reverse("tickets:reply", args=[ticket.pk]), {"body": "On its way!", "channel": "email"}
        )

    assert response.status_code == 302
    message = Message.objects.get(ticket=ticket)
    assert (message.body, message.delivery) == ("On its way!", Message.Delivery.SENT)


def test_an_empty_reply_re_renders_with_the_error_and_keeps_nothing(agent_client):
    customer = CustomerFactory()
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="c@example.com")
    ticket = TicketFactory(customer=customer)

    response = agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "", "channel": "email"})

    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not Message.objects.exists()


def test_a_reply_on_an_unreachable_channel_is_refused_with_a_message(agent_client):
    ticket = TicketFactory()
    ContactPointFactory(customer=ticket.customer, channel=Channel.EMAIL, value="c@example.com")

    response = agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "Hi", "channel": "phone"})

    assert response.status_code == 400
    assert "phone is not one of the available choices" in response.content.decode()


def test_updating_status_and_assignee(agent_client, agent):
    ticket = TicketFactory()

    agent_client.post(
        reverse("tickets:update", args=[ticket.pk]),
        {"status": "solved", "priority": "high", "assignee": agent.pk},
    )

    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee, ticket.solved_by) == ("solved", "high", agent, agent)
