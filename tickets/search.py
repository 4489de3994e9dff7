"""The desk's one search box: customers (by name, email, phone, order number) and tickets
(by number, subject and message text), grouped.

On PostgreSQL, tickets match through the full-text indexes of tickets/migrations/0003, whose
expressions are ``to_tsvector('simple', subject)`` and ``to_tsvector('simple', body)``: the
queries below use exactly those (Django's ``SearchVector`` would wrap the column in COALESCE
and miss the index). Words match by prefix ("refun" finds "refund"). SQLite falls back to
case-insensitive substring matching. Four queries in all, whatever the data size.
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connection
from django.db.models import Func, OuterRef, QuerySet, Subquery
from django.db.models.functions import Substr

from customers.models import Customer
from customers.selectors import customer_search, search_candidates

from .models import Message, Ticket

RESULT_LIMIT = 20
# How many matches each branch of a PostgreSQL search may bring before they are sorted.
SEARCH_CANDIDATES = 200
_WORD = re.compile(r"\w+", re.UNICODE)


class SimpleVector(Func):
    """``to_tsvector('simple', <column>)``, the indexed expression."""

    template = "to_tsvector('simple', %(expressions)s)"
    output_field = SearchVectorField()


def prefix_query(text: str) -> SearchQuery | None:
    """Every word of ``text`` as a prefix, all required: ``'maria':* & 'boots':*``."""
    words = _WORD.findall(text.lower())[:8]
    if not words:
        return None
    raw = " & ".join(f"'{word}':*" for word in words)
    return SearchQuery(raw, config="simple", search_type="raw")


def ticket_search(*, query: str, limit: int = RESULT_LIMIT) -> list[Ticket]:
    """Tickets whose number, subject or any message matches, latest activity first.

    Each carries ``snippet``: the start of the newest matching message, if any.
    """
    query = " ".join((query or "").split())
    if not query:
        return []
    number = query.lstrip("#")
    by_number = (
        Ticket.objects.filter(pk=int(number)) if number.isdigit() and len(number) < 12 else Ticket.objects.none()
    )
    if connection.vendor == "postgresql":
        terms = prefix_query(query)
        if terms is None:
            return []
        by_subject = Ticket.objects.annotate(subject_vector=SimpleVector("subject")).filter(subject_vector=terms)
        messages = Message.objects.annotate(body_vector=SimpleVector("body")).filter(body_vector=terms)
    else:
        by_subject = Ticket.objects.filter(subject__icontains=query)
        messages = Message.objects.filter(body__icontains=query)
    subject_ids = by_subject.order_by().values("pk")
    message_ids = messages.order_by().values("ticket_id")
    number_ids = by_number.order_by().values("pk")
    if connection.vendor == "postgresql":
        # Each branch brings at most SEARCH_CANDIDATES matches through its index (see
        # customers.selectors.search_candidates): a word found in most messages costs what a rare
        # one does. The price: for a word with more matches than that, the newest of those
        # candidates are shown, not always the newest of all; another word narrows it.
        ids = search_candidates(subject_ids, message_ids, number_ids, limit=SEARCH_CANDIDATES)
    else:
        # One id set per index, unioned.
        ids = subject_ids.union(message_ids, number_ids)
    snippet = Subquery(
        messages.filter(ticket_id=OuterRef("pk")).order_by("-created_at").values(text=Substr("body", 1, 240))[:1]
    )
    found: QuerySet[Ticket] = (
        Ticket.objects.filter(pk__in=ids)
        .annotate(snippet=snippet)
        .select_related("customer", "assignee")
        .order_by("-last_message_at", "-pk")
    )
    return list(found[:limit])


@dataclass(frozen=True)
class SearchResults:
    query: str
    customers: list[Customer]
    tickets: list[Ticket]

    @property
    def empty(self) -> bool:
        return not self.customers and not self.tickets


def search_everything(*, query: str) -> SearchResults:
    query = " ".join((query or "").split())[:200]
    if not query:
        return SearchResults(query, [], [])
    return SearchResults(
        query=query,
        customers=list(customer_search(query=query, limit=RESULT_LIMIT)),
        tickets=ticket_search(query=query),
    )
