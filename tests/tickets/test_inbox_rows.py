"""The inbox rows and SLA badge rendered in Python: the markup, the states and the escaping."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import CustomerFactory, TeamFactory, TicketFactory, UserFactory
from tickets.models import Tag, Ticket
from tickets.selectors import InboxQuery, inbox_tickets
from tickets.templatetags.inbox import inbox_rows, sla_badge

pytestmark = pytest.mark.django_db
NOW = timezone.now()


@pytest.mark.parametrize(
    ("state", "due", "expected"),
    [
        ("breached", NOW - timedelta(hours=1), '<span class="sla sla-breached" title="Was due '),
        ("due_soon", NOW + timedelta(minutes=10), '<span class="sla sla-due_soon" title="Due '),
        ("paused", None, '<span class="sla sla-paused">Paused</span>'),
        ("ok", NOW + timedelta(hours=5), '<span class="sla sla-ok" title="Due '),
        ("ok", None, '<span class="meta">—</span>'),
    ],
)
def test_the_sla_badge_says_where_the_ticket_stands(state, due, expected):
    ticket = Ticket(status=Ticket.Status.OPEN)
    ticket.sla_state, ticket.next_due_at = state, due
    html = sla_badge(ticket, NOW)
    assert html.startswith(expected)
    if state == "due_soon":
        assert "Due in 10\xa0minutes" in html or "Due in 9\xa0minutes" in html


def test_a_solved_ticket_with_a_due_date_shows_no_badge():
    ticket = Ticket(status=Ticket.Status.SOLVED)
    ticket.sla_state, ticket.next_due_at = "ok", NOW + timedelta(hours=1)
    assert sla_badge(ticket, NOW) == '<span class="meta">—</span>'


def test_a_row_shows_the_ticket_escaped_with_its_people_and_tags(agent):
    lead = UserFactory(first_name="Ana", last_name="Lead")
    customer = CustomerFactory(first_name="<b>Bo</b>", last_name="Diaz")
    ticket = TicketFactory(
        customer=customer, subject='Refund <script>alert("x")</script>', assignee=lead, team=TeamFactory(name="Billing")
    )
    ticket.tags.add(Tag.objects.create(name="vip & co"))
    unassigned = TicketFactory(customer=customer, subject="Where is my order")
    html = inbox_rows(inbox_tickets(user=agent, query=InboxQuery(view="open"), now=NOW), NOW)

    assert f'<tr data-ticket="{ticket.pk}" class="row-sla-' in html
    assert f'<a href="/tickets/{ticket.pk}/" class="row-link">#{ticket.pk} Refund &lt;script&gt;' in html
    assert "<script>" not in html and "<b>" not in html
    assert ' <span class="tag">vip &amp; co</span>' in html
    assert "Ana Lead" in html and '<span class="meta">· Billing</span>' in html
    assert f"#{unassigned.pk} Where is my order</a></td>" in html
    assert html.count('<span class="meta">Unassigned</span>') == 1
    assert html.count("<tr ") == 2 and " ago</time>" in html


def test_search_hits_are_escaped_with_their_contacts_orders_and_snippet():
    from customers.models import Channel, ContactPoint
    from tests.factories import ContactPointFactory, MessageFactory
    from tickets.search import search_everything
    from tickets.templatetags.inbox import customer_results, ticket_results

    customer = CustomerFactory(first_name="<i>Zed</i>", last_name="Quill", preferred_name="Z&Q", order_count=1)
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="zed.quill@example.com")
    lone = CustomerFactory(first_name="Zed", last_name="Quillon", order_count=0)
    ContactPoint.objects.filter(customer=lone).delete()
    ticket = TicketFactory(customer=customer, subject="Quill <b>broken</b>")
    MessageFactory(ticket=ticket, body="The quill " + "x" * 300)
    results = search_everything(query="quill")

    people = customer_results(results.customers)
    assert '&lt;i&gt;Zed&lt;/i&gt; Quill</a> <span class="meta">goes by Z&amp;Q</span>' in people
    assert "· 1 order</span>" in people and "· 0 orders</span>" in people
    assert '<span class="channel channel-email">' in people and "zed.quill@example.com" in people
    assert '<span class="meta">No contact points</span>' in people

    found = ticket_results(results.tickets)
    assert f'<a href="/tickets/{ticket.pk}/">#{ticket.pk} Quill &lt;b&gt;broken&lt;/b&gt;</a>' in found
    assert '<p class="snippet">The quill xxx' in found and "…</p>" in found
    assert "<b>" not in found and "<i>" not in people
