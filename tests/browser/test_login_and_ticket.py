"""The first flow a person does: log in, see the inbox, open a ticket beside its customer, reply."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from customers.models import Channel
from tests.factories import ContactPointFactory, CustomerFactory, MessageFactory, OrderFactory, TicketFactory
from tickets.models import Message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ticket():
    customer = CustomerFactory(first_name="Maria", last_name="García", preferred_name="")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
    OrderFactory(customer=customer, number="1042", total=Decimal("89.90"))
    ticket = TicketFactory(customer=customer, subject="Where are my boots?", channel=Channel.EMAIL)
    MessageFactory(ticket=ticket, channel=Channel.EMAIL, body="Order 1042 has not arrived yet.")
    return ticket


def test_an_agent_logs_in_opens_a_ticket_and_replies(page, login, live_server, agent, ticket):
    # given the demo agent at the login form
    # when they sign in
    login("agent", "pw-agent")

    # then they land on the inbox, with the ticket in a row beside its customer
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Where are my boots?")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Maria García")

    # when they open it
    row.get_by_role("link", name=re.compile("Where are my boots")).click()

    # then the conversation sits beside the single-customer view
    expect(page).to_have_url(f"{live_server.url}/tickets/{ticket.pk}/")
    expect(page.get_by_role("heading", name=f"#{ticket.pk} Where are my boots?", level=1)).to_be_visible()
    thread = page.get_by_role("list", name="Messages, oldest first")
    expect(thread).to_contain_text("Order 1042 has not arrived yet.")
    panel = page.get_by_role("complementary")
    expect(panel.get_by_role("heading", name="Maria García")).to_be_visible()
    expect(panel.get_by_text("Order #1042").first).to_be_visible()
    expect(panel).to_contain_text("maria@example.com")

    # when they write a reply and send it
    page.get_by_label("Message", exact=True).fill("Your boots ship today, Maria.")
    page.get_by_role("button", name="Send reply").click()

    # then the reply is in the thread with its delivery state (tasks run in-process here)
    reply = thread.get_by_role("article", name=re.compile("^Reply to the customer"))
    expect(reply).to_have_count(1)
    expect(reply).to_contain_text("Your boots ship today, Maria.")
    expect(reply.locator(".delivery")).to_have_text("Sent")
    expect(page.get_by_role("status").filter(has_text="Reply queued for delivery.")).to_be_visible()
    sent = Message.objects.get(ticket=ticket, direction=Message.Direction.OUTBOUND)
    assert (sent.body, sent.channel, sent.delivery) == ("Your boots ship today, Maria.", "email", "sent")


def test_a_wrong_password_shows_an_error_and_stays_on_the_login_page(page, login, live_server, agent):
    login("agent", "not-the-password")

    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("enter a correct username and password")
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)


def test_an_agent_is_not_offered_the_django_admin(page, login, agent):
    login("agent", "pw-agent")

    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Inbox")).to_be_visible()
    expect(page.get_by_role("link", name="Admin", exact=True)).to_have_count(0)
