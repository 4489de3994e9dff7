"""A search reads a bounded number of candidates per index on PostgreSQL, however common the word."""

import pytest
from django.db import connection

from customers import selectors as customer_selectors
from tests.factories import CustomerFactory, MessageFactory, TicketFactory
from tickets import search


@pytest.fixture
def few_candidates(monkeypatch):
    monkeypatch.setattr(search, "SEARCH_CANDIDATES", 2)
    monkeypatch.setattr(customer_selectors, "SEARCH_CANDIDATES", 2)


def test_a_common_word_brings_at_most_the_candidates_of_each_branch(db, few_candidates):
    # given six tickets whose subject holds the word, and six whose message does
    for _ in range(6):
        TicketFactory(subject="Parcel missing")
        MessageFactory(ticket=TicketFactory(subject="Hello"), body="my parcel is late")
    # when searching for it
    found = search.ticket_search(query="parcel")
    # then PostgreSQL ranks two candidates of each branch; SQLite, with no index to bound, all
    expected = 4 if connection.vendor == "postgresql" else 12
    assert len(found) == expected


def test_a_ticket_number_and_a_rare_word_are_always_found(db, few_candidates):
    # given many tickets with a common word and one with a rare one
    for _ in range(5):
        TicketFactory(subject="Parcel missing")
    rare = TicketFactory(subject="Zanzibar parcel")
    # when searching by the rare word and by number, then that ticket is found
    assert [t.pk for t in search.ticket_search(query="zanzibar")] == [rare.pk]
    assert rare.pk in [t.pk for t in search.ticket_search(query=f"#{rare.pk}")]


def test_the_closest_names_come_first_even_for_a_common_surname(db, few_candidates):
    # given many customers sharing a surname, and the one the agent means
    for first in ("Ana", "Luis", "Pedro", "Rosa", "Juan"):
        CustomerFactory(first_name=first, last_name="Garcia")
    maria = CustomerFactory(first_name="Maria", last_name="Garcia")
    # when searching for her full name
    found = list(customer_selectors.customer_search(query="maria garcia", limit=20))
    # then she is first
    assert found[0].pk == maria.pk
