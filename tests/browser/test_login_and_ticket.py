"""The first flow a person does: log in, see the inbox, open a ticket, reply."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from customers.models import Channel
from tests.factories import ContactPointFactory, CustomerFactory, MessageFactory, OrderFactory, TicketFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ticket(db):
    customer = CustomerFactory(first_name="Maria", last_name="García")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
    OrderFactory(customer=customer, number="1042", total=Decimal("89.90"))
    ticket = TicketFactory(customer=customer, subject="Where are my boots?", channel=Channel.EMAIL)
    MessageFactory(ticket=ticket, body="Order 1042 has not arrived yet.")
    return ticket


def test_an_agent_logs_in_opens_a_ticket_and_replies(page, login, agent, ticket):
    login("agent", "pw-agent")
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()

    page.get_by_role("link", name="Where are my boots?").click()

    expect(page.get_by_role("heading", name="Where are my boots?")).to_be_visible()
    expect(page.get_by_text("Order 1042 has not arrived yet.").first).to_be_visible()
    expect(page.get_by_role("complementary").get_by_text("#1042").first).to_be_visible()
    expect(page.get_by_role("complementary").get_by_text("Maria").first).to_be_visible()

    page.locator("#id_body").fill("Your boots ship today, Maria.")
    page.get_by_role("button", name="Send reply").click()

    expect(page.get_by_text("Your boots ship today, Maria.")).to_be_visible()
    expect(page.locator(".delivery").last).to_have_text("Sent")


def test_a_wrong_password_keeps_the_person_on_the_login_page(page, login, agent):
    login("agent", "not-the-password")

    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("enter a correct username and password")


def test_an_agent_is_not_offered_the_django_admin(page, login, agent):
    login("agent", "pw-agent")

    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox")).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
