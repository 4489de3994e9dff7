from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Channel
from customers.selectors import customer_get, customer_profile
from tests.factories import CSATSurveyFactory, CustomerFactory, TeamFactory, TicketFactory, UserFactory
from tickets import presence, selectors
from tickets.models import Tag, Ticket
from tickets.selectors import InboxQuery, inbox_counts, inbox_fingerprint, inbox_tickets, ticket_get
from tickets.sla import sla_state

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _inbox(user, **query) -> list[int]:
    return [t.pk for t in inbox_tickets(user=user, query=InboxQuery(**query), now=NOW)]


class TestInbox:
    def test_views_mine_unassigned_open_all_and_team(self, agent):
        team = TeamFactory(name="Billing")
        mine = TicketFactory(assignee=agent)
        nobody = TicketFactory(team=team)
        solved = TicketFactory(status=Ticket.Status.SOLVED, assignee=agent)

        assert _inbox(agent, view="mine") == [mine.pk]
        assert _inbox(agent, view="unassigned") == [nobody.pk]
        assert set(_inbox(agent, view="open")) == {mine.pk, nobody.pk}
        assert set(_inbox(agent, view="all")) == {mine.pk, nobody.pk, solved.pk}
        assert _inbox(agent, view="team", team=team.pk) == [nobody.pk]

    def test_filters_by_channel_status_priority_and_tag(self, agent):
        chat = TicketFactory(channel=Channel.CHAT, priority="urgent", status=Ticket.Status.OPEN)
        TicketFactory(channel=Channel.EMAIL)
        chat.tags.add(Tag.objects.create(name="vip"))

        assert _inbox(agent, channel="chat") == [chat.pk]
        assert _inbox(agent, status="open") == [chat.pk]
        assert _inbox(agent, priority="urgent") == [chat.pk]
        assert _inbox(agent, tag="vip") == [chat.pk]

    def test_the_sla_filter_is_done_in_sql_with_the_same_rules_as_the_badge(self, agent):
        breached = TicketFactory(first_response_due_at=NOW - timedelta(minutes=5))
        soon = TicketFactory(first_response_due_at=NOW + timedelta(minutes=10))
        answered_breached = TicketFactory(
            first_response_at=NOW - timedelta(hours=1),
            first_response_due_at=NOW + timedelta(hours=1),
            resolution_due_at=NOW - timedelta(minutes=1),
        )
        paused = TicketFactory(status=Ticket.Status.PENDING, first_response_due_at=None, sla_paused_at=NOW)
        fine = TicketFactory(first_response_due_at=NOW + timedelta(days=1))

        assert set(_inbox(agent, sla="breached")) == {breached.pk, answered_breached.pk}
        assert _inbox(agent, sla="due_soon") == [soon.pk]
        assert _inbox(agent, sla="paused") == [paused.pk]
        for ticket in inbox_tickets(user=agent, query=InboxQuery(), now=NOW):
            assert ticket.sla_state == sla_state(ticket, now=NOW), ticket.pk
        assert fine.pk in _inbox(agent, sla="ok")

    def test_sorting_by_priority_and_by_due_time(self, agent):
        low = TicketFactory(priority="low", first_response_due_at=NOW + timedelta(hours=1))
        urgent = TicketFactory(priority="urgent", first_response_due_at=NOW + timedelta(hours=3))
        high = TicketFactory(priority="high", first_response_due_at=None)

        assert _inbox(agent, sort="priority") == [urgent.pk, high.pk, low.pk]
        assert _inbox(agent, sort="due") == [low.pk, urgent.pk, high.pk]

    def test_counts_per_view_and_team_in_two_queries(self, agent, django_assert_num_queries):
        team = TeamFactory(name="Tier 1")
        TicketFactory(assignee=agent, team=team)
        TicketFactory()
        TicketFactory(status=Ticket.Status.CLOSED)

        with django_assert_num_queries(2):
            counts = inbox_counts(user=agent)

        assert (counts.mine, counts.unassigned, counts.open, counts.all) == (1, 1, 2, 3)
        assert [(t.name, t.open_count) for t in counts.teams] == [("Tier 1", 1)]

    def test_the_fingerprint_changes_when_a_ticket_arrives_or_changes(self, agent):
        ticket = TicketFactory()
        tickets = inbox_tickets(user=agent)
        before = inbox_fingerprint(tickets=tickets)

        same = inbox_fingerprint(tickets=inbox_tickets(user=agent))
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now() + timedelta(seconds=1))
        changed = inbox_fingerprint(tickets=inbox_tickets(user=agent))
        TicketFactory()
        arrived = inbox_fingerprint(tickets=inbox_tickets(user=agent))

        assert before == same
        assert len({before, changed, arrived}) == 3


class TestTicketFigures:
    def test_the_ticket_carries_the_customers_conversation_figures(self, django_assert_num_queries):
        customer = CustomerFactory()
        first = TicketFactory(customer=customer, channel=Channel.EMAIL, created_at=NOW - timedelta(days=30))
        CSATSurveyFactory(ticket=first, rating=4, answered_at=NOW - timedelta(days=20))
        TicketFactory(customer=customer, channel=Channel.CHAT)
        TicketFactory(customer=customer, channel=Channel.EMAIL, status=Ticket.Status.CLOSED)
        current = TicketFactory(customer=customer, channel=Channel.EMAIL)

        with django_assert_num_queries(2):  # the ticket with every figure, and its tags
            ticket = ticket_get(ticket_id=current.pk)

        assert ticket.earlier_conversation
        assert ticket.open_elsewhere == 1  # the chat; the other email ticket is not "elsewhere"
        assert ticket.customer.conversation_count == 4
        assert ticket.customer.open_conversation_count == 3
        assert ticket.customer.last_csat_rating == 4

    def test_a_first_conversation_is_not_welcomed_back(self):
        ticket = TicketFactory()

        loaded = ticket_get(ticket_id=ticket.pk)

        assert not loaded.earlier_conversation

    def test_the_customer_profile_has_the_same_figures(self):
        customer = CustomerFactory(first_name="Ana")
        TicketFactory.create_batch(2, customer=customer)

        profile = customer_profile(customer=customer_get(customer_id=customer.pk))

        assert profile.figures["conversation_count"] == 2
        assert profile.greeting.returning
        assert profile.greeting.name == "Ana"

    def test_assignable_agents_are_the_people_who_work_tickets(self, agent, lead, nobody):
        UserFactory(username="gone", is_active=False)

        assert set(selectors.assignable_agents()) == {agent, lead}


class TestPresence:
    def test_others_see_who_views_and_who_replies(self, agent, lead):
        ticket = TicketFactory()

        presence.presence_beat(ticket_id=ticket.pk, user=agent, state=presence.REPLYING)
        presence.presence_beat(ticket_id=ticket.pk, user=lead)

        seen_by_lead = presence.presence_others(ticket_id=ticket.pk, user=lead)
        assert [(p.name, p.state) for p in seen_by_lead] == [("Agent", "replying")]
        assert [p.state for p in presence.presence_others(ticket_id=ticket.pk, user=agent)] == ["viewing"]

    def test_a_silent_page_disappears_after_the_ttl(self, agent, lead, monkeypatch):
        ticket = TicketFactory()
        presence.presence_beat(ticket_id=ticket.pk, user=agent)
        later = timezone.now() + timedelta(seconds=presence.TTL + 1)
        monkeypatch.setattr(presence.timezone, "now", lambda: later)

        assert presence.presence_others(ticket_id=ticket.pk, user=lead) == []

    def test_leaving_removes_the_agent_at_once(self, agent, lead):
        ticket = TicketFactory()
        presence.presence_beat(ticket_id=ticket.pk, user=agent)

        presence.presence_leave(ticket_id=ticket.pk, user=agent)

        assert presence.presence_others(ticket_id=ticket.pk, user=lead) == []
