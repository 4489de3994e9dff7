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
from supportdesk.compiled import compiled_query

from .models import Message, Ticket

RESULT_LIMIT = 20
# How many matches each branch of a PostgreSQL search may bring before they are sorted.
SEARCH_CANDIDATES = 200
_WORD = re.compile(r"\w+", re.UNICODE)


class SimpleVector(Func):
    """``to_tsvector('simple', <column>)``, the indexed expression."""

    template = "to_tsvector('simple', %(expressions)s)"
    output_field = SearchVectorField()


def prefix_terms(text: str) -> str | None:
    """Every word of ``text`` as a prefix, all required: ``'maria':* & 'boots':*`` (a raw tsquery)."""
    words = _WORD.findall(text.lower())[:8]
    return " & ".join(f"'{word}':*" for word in words) if words else None


def ticket_search(*, query: str, limit: int = RESULT_LIMIT) -> list[Ticket]:
    """Tickets whose number, subject or any message matches, latest activity first.

    Each carries ``snippet``: the start of the newest matching message, if any. The query is
    compiled once per shape (``supportdesk.compiled``): the words and the number are its values.
    """
    query = " ".join((query or "").split())
    if not query:
        return []
    number = query.lstrip("#")
    values: dict = {}
    if number.isdigit() and len(number) < 12:
        values["number"] = int(number)
    if connection.vendor == "postgresql":
        terms = prefix_terms(query)
        if terms is None:
            return []
        values["terms"] = terms
    else:
        values["text"] = query
    # SEARCH_CANDIDATES is written into the SQL (each branch's LIMIT): it is part of the shape.
    return _ticket_matches(shape=(connection.vendor, "number" in values, limit, SEARCH_CANDIDATES), **values)


@compiled_query(Ticket, shaped=True)
def _ticket_matches(shape: tuple, *, terms: str = "", text: str = "", number: int | None = None) -> QuerySet:
    vendor, _has_number, limit, candidates = shape
    by_number = Ticket.objects.filter(pk=number) if number is not None else Ticket.objects.none()
    if vendor == "postgresql":
        words = SearchQuery(terms, config="simple", search_type="raw")
        by_subject = Ticket.objects.annotate(subject_vector=SimpleVector("subject")).filter(subject_vector=words)
        messages = Message.objects.annotate(body_vector=SimpleVector("body")).filter(body_vector=words)
    else:
        by_subject = Ticket.objects.filter(subject__icontains=text)
        messages = Message.objects.filter(body__icontains=text)
    subject_ids = by_subject.order_by().values("pk")
    message_ids = messages.order_by().values("ticket_id")
    number_ids = by_number.order_by().values("pk")
    if vendor == "postgresql":
        # Each branch brings at most SEARCH_CANDIDATES matches through its index (see
        # customers.selectors.search_candidates): a word found in most messages costs what a rare
        # one does. The price: for a word with more matches than that, the newest of those
        # candidates are shown, not always the newest of all; another word narrows it.
        ids = search_candidates(subject_ids, message_ids, number_ids, limit=candidates)
    else:
        # One id set per index, unioned.
        ids = subject_ids.union(message_ids, number_ids)
    snippet = Subquery(
        messages.filter(ticket_id=OuterRef("pk")).order_by("-created_at").values(text=Substr("body", 1, 240))[:1]
    )
    return (
        Ticket.objects.filter(pk__in=ids)
        .annotate(snippet=snippet)
        .select_related("customer", "assignee")
        .order_by("-last_message_at", "-pk")[:limit]
    )


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
