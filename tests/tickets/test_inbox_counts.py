"""The inbox's view counts: exact for the open views, the total estimated only for a large table."""

from django.db import connection

from tests.factories import TeamFactory, TicketFactory
from tickets import selectors
from tickets.models import Ticket


def test_open_views_are_counted_exactly_and_teams_count_only_their_open_tickets(agent):
    # given open and solved tickets, some of them the agent's and some of a team
    team = TeamFactory()
    TicketFactory(status=Ticket.Status.OPEN, assignee=agent, team=team)
    TicketFactory(status=Ticket.Status.PENDING)
    TicketFactory(status=Ticket.Status.SOLVED, assignee=agent, team=team)
    # when the inbox counts its views
    counts = selectors.inbox_counts(user=agent)
    # then each view holds what it shows, and a small table's total is exact
    assert (counts.mine, counts.unassigned, counts.open, counts.all) == (1, 1, 2, 3)
    assert [(t.pk, t.open_count) for t in counts.teams] == [(team.pk, 1)]
    assert counts.all_estimated is False


def test_the_total_of_a_large_table_is_the_databases_estimate(agent, monkeypatch):
    # given a table "large" for the purpose of the test, its statistics up to date
    monkeypatch.setattr(selectors, "EXACT_COUNT_LIMIT", 2)
    for _ in range(4):
        TicketFactory(status=Ticket.Status.OPEN)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tickets_ticket")
    # when the inbox counts its views
    counts = selectors.inbox_counts(user=agent)
    # then PostgreSQL answers with its estimate and says so; SQLite counts
    assert counts.open == 4
    assert counts.all == 4
    assert counts.all_estimated is (connection.vendor == "postgresql")


def test_with_no_open_ticket_the_total_is_still_read(agent):
    # given only solved tickets
    TicketFactory(status=Ticket.Status.SOLVED)
    # when the inbox counts its views, then the open views are empty and the total is not
    counts = selectors.inbox_counts(user=agent)
    assert (counts.open, counts.all) == (0, 1)


def test_the_plain_views_fingerprints_come_with_the_counts_and_match_a_view_scan(agent):
    # given open tickets across teams and people, and a solved one
    team = TeamFactory()
    TicketFactory(status=Ticket.Status.OPEN, assignee=agent, team=team)
    TicketFactory(status=Ticket.Status.NEW, team=team)
    TicketFactory(status=Ticket.Status.PENDING)
    TicketFactory(status=Ticket.Status.SOLVED, team=team)
    counts = selectors.inbox_counts(user=agent)
    # then every plain view's figures equal those of scanning that view on its own
    for query in (
        selectors.InboxQuery(view="open"),
        selectors.InboxQuery(view="mine"),
        selectors.InboxQuery(view="unassigned"),
        selectors.InboxQuery(view="team", team=team.pk),
        selectors.InboxQuery(view="team", team=team.pk + 99),
    ):
        known = counts.stats_for(query)
        scanned = selectors.inbox_view_stats(tickets=selectors.inbox_tickets(user=agent, query=query))
        assert (known.n, known.fingerprint()) == scanned, query
    # and a filtered view or "all" is scanned on its own
    assert counts.stats_for(selectors.InboxQuery(view="open", channel="email")) is None
    assert counts.stats_for(selectors.InboxQuery(view="all")) is None
