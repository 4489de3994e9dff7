"""Search, on whichever database the suite runs: SQLite (substring fallback) or PostgreSQL
(trigram and full-text indexes). Both must find the same things."""

import pytest
from django.db import connection
from django.urls import reverse

from customers.models import Channel
from tests.factories import ContactPointFactory, CustomerFactory, MessageFactory, OrderFactory, TicketFactory
from tickets.search import search_everything, ticket_search

pytestmark = pytest.mark.django_db


@pytest.fixture
def maria():
    customer = CustomerFactory(first_name="Maria", last_name="Lopez", preferred_name="Mari")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria.lopez@example.com")
    ContactPointFactory(customer=customer, channel=Channel.PHONE, value="+34612345678")
    OrderFactory(customer=customer, number="100234")
    CustomerFactory(first_name="Other", last_name="Person")
    return customer


@pytest.mark.parametrize(
    "query",
    ["Maria Lopez", "maria", "LOPEZ", "Mari", "maria.lopez@", "example.com", "+34 612 345 678", "612345678", "#100234"],
)
def test_customers_are_found_by_name_email_phone_and_order_number(maria, query):
    assert [c.pk for c in search_everything(query=query).customers] == [maria.pk]


def test_a_merged_away_customer_is_not_listed(maria):
    CustomerFactory(first_name="Maria", last_name="Lopez", merged_into=maria)

    assert [c.pk for c in search_everything(query="Maria Lopez").customers] == [maria.pk]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram similarity is PostgreSQL only")
def test_on_postgresql_a_misspelt_name_still_finds_the_customer(maria):
    assert maria.pk in [c.pk for c in search_everything(query="Maria Lopes").customers]


def test_tickets_are_found_by_subject_message_text_and_number(maria):
    by_subject = TicketFactory(customer=maria, subject="Refund for the walking boots")
    by_message = TicketFactory(customer=maria, subject="Question")
    MessageFactory(ticket=by_message, body="The zipper of my tent broke on the second night")
    TicketFactory(subject="Something else entirely")

    assert [t.pk for t in ticket_search(query="walking boots")] == [by_subject.pk]
    assert [t.pk for t in ticket_search(query="refund")] == [by_subject.pk]
    found = ticket_search(query="zipper")
    assert [t.pk for t in found] == [by_message.pk]
    assert "zipper of my tent" in found[0].snippet
    assert [t.pk for t in ticket_search(query=f"#{by_message.pk}")] == [by_message.pk]


def test_punctuation_in_a_query_is_harmless(maria):
    assert search_everything(query="'); drop table --  & | ! :*").empty


def test_the_search_page_groups_results_within_a_fixed_query_budget(agent_client, maria, django_assert_max_num_queries):
    for n in range(30):
        ticket = TicketFactory(customer=maria, subject=f"Maria's order problem {n}")
        MessageFactory(ticket=ticket, body="maria writes again")

    with django_assert_max_num_queries(9):
        response = agent_client.get(reverse("tickets:search"), {"q": "maria"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Customers" in html and "Tickets" in html
    assert reverse("customers:detail", args=[maria.pk]) in html
    assert len(response.context["results"].tickets) == 20


def test_customer_text_in_results_is_escaped(agent_client):
    customer = CustomerFactory(first_name="<img src=x onerror=alert(1)>")
    TicketFactory(customer=customer, subject="<script>alert(2)</script> help")

    html = agent_client.get(reverse("tickets:search"), {"q": "help"}).content.decode()

    assert "<script>alert(2)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt; help" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_second_search_reuses_the_compiled_query_and_finds_its_own_words():
    # given two conversations with different words
    from tickets.search import _ticket_matches

    boots = TicketFactory(subject="Boots arrived wet")
    refund = TicketFactory(subject="Refund for the jacket")
    # when the desk is searched for one word, then for the other, then by number
    first = [t.pk for t in ticket_search(query="boots")]
    second = [t.pk for t in ticket_search(query="jacket")]
    third = [t.pk for t in ticket_search(query=f"#{refund.pk}")]
    # then each finds its own ticket, however the shape was stored
    assert first == [boots.pk]
    assert second == [refund.pk]
    assert refund.pk in third
    assert len(_ticket_matches.shapes) >= 2
