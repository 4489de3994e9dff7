"""Suggested next actions in the ticket page: an agent accepts one and finds its reply, with the
customer's name filled in, in the composer; dismisses another, and it stays gone.

Needs the panel slot in the ticket page (``templates/tickets/detail.html`` loads
``customers/partials/suggestions.html`` into ``#suggestions``); the ``wired`` fixture fails
loudly without it.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import Channel, Order, SuggestionFeedback
from tests.factories import ContactPointFactory, CustomerFactory, MessageFactory, OrderFactory, TicketFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TICKET_TEMPLATE = Path(settings.BASE_DIR) / "templates" / "tickets" / "detail.html"


@pytest.fixture
def wired():
    """The ticket page loads the panel into its ``#suggestions`` slot (htmx, or a link without JS)."""
    assert 'id="suggestions"' in TICKET_TEMPLATE.read_text()


@pytest.fixture
def ticket(db):
    cache.clear()
    customer = CustomerFactory(first_name="Maria", last_name="García", preferred_name="")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
    OrderFactory(
        customer=customer,
        number="1042",
        status=Order.Status.SHIPPED,
        promised_delivery=timezone.localdate() - timedelta(days=4),
        carrier="DHL",
        tracking_number="JD0142",
    )
    ticket = TicketFactory(customer=customer, subject="Where are my boots?", channel=Channel.EMAIL)
    MessageFactory(ticket=ticket, body="Order 1042 has not arrived yet.")
    return ticket


def test_accept_puts_the_reply_in_the_composer_and_a_dismissal_sticks(page, login, agent, ticket, wired):
    login("agent", "pw-agent")
    page.goto(f"/tickets/{ticket.pk}/")
    panel = page.locator("#suggestions")
    late = panel.locator("li.suggestion[data-rule='order_delayed']")
    welcome = panel.locator("li.suggestion[data-rule='first_contact']")
    expect(late).to_contain_text("Order #1042 was promised for")
    expect(welcome).to_contain_text("is the first conversation Maria ever opened")

    late.get_by_role("button", name="Accept and use reply").click()

    composer = page.locator("#id_body")
    expect(composer).to_have_value(re.compile(r"^Hi Maria,\n\nI'm sorry: order #1042 was due on"))
    expect(composer).to_be_focused()
    expect(panel.locator("li.suggestion[data-rule='order_delayed']")).to_have_count(0)

    welcome = panel.locator("li.suggestion[data-rule='first_contact']")
    welcome.get_by_text("Dismiss…").click()
    welcome.get_by_label("Why dismiss it?").select_option("Already done")
    welcome.get_by_role("button", name="Dismiss").click()

    expect(panel.locator("li.suggestion[data-rule='first_contact']")).to_have_count(0)
    expect(panel).to_contain_text("Dismissed.")
    page.reload()
    expect(page.locator("#suggestions")).to_be_visible()
    expect(page.locator("#suggestions li.suggestion[data-rule='first_contact']")).to_have_count(0)
    verdicts = dict(SuggestionFeedback.objects.values_list("rule", "verdict"))
    assert verdicts == {"order_delayed": "accepted", "first_contact": "dismissed"}


def test_without_javascript_the_forms_still_work(browser, live_server, agent, ticket, wired):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("agent")
    page.get_by_label("Password").fill("pw-agent")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/tickets/{ticket.pk}/")
    page.get_by_role("link", name="Show suggested next actions").click()
    late = page.locator("#suggestions li.suggestion[data-rule='order_delayed']")

    late.get_by_role("button", name="Accept and use reply").click()

    expect(page.get_by_text("Hi Maria,", exact=False).first).to_be_visible()
    assert SuggestionFeedback.objects.filter(rule="order_delayed", verdict="accepted").exists()
    context.close()


@pytest.fixture
def slow_email_quick_chat(db):
    """Maria answers chat within a minute and email after hours, and wrote by email again now."""
    cache.clear()
    now = timezone.now()
    customer = CustomerFactory(first_name="Maria", preferred_name="")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
    ContactPointFactory(customer=customer, channel=Channel.CHAT, value="visitor-42")
    for days, channel, answered_after in (
        (20, Channel.EMAIL, timedelta(hours=6)),
        (15, Channel.EMAIL, timedelta(hours=9)),
        (10, Channel.CHAT, timedelta(minutes=1)),
        (5, Channel.CHAT, timedelta(minutes=1)),
    ):
        asked = now - timedelta(days=days)
        earlier = TicketFactory(
            customer=customer, channel=channel, status="solved", created_at=asked, solved_at=asked + timedelta(days=1)
        )
        MessageFactory(ticket=earlier, channel=channel, direction="outbound", created_at=asked)
        MessageFactory(ticket=earlier, channel=channel, direction="inbound", created_at=asked + answered_after)
    ticket = TicketFactory(customer=customer, subject="Another question", channel=Channel.EMAIL)
    MessageFactory(ticket=ticket, channel=Channel.EMAIL, body="One more thing about my order.")
    return ticket


def test_accepting_switch_channel_sets_send_on(page, login, agent, slow_email_quick_chat, wired):
    # given the agent in the email conversation, where the panel proposes chat
    login("agent", "pw-agent")
    page.goto(f"/tickets/{slow_email_quick_chat.pk}/")
    switch = page.locator("#suggestions li.suggestion[data-rule='preferred_channel']")
    expect(switch).to_contain_text("Answers on Live chat in about 1 minute")
    expect(page.locator("#id_channel")).to_have_value("email")

    # when they accept it
    switch.get_by_role("button", name="Accept", exact=True).click()

    # then the reply goes out on chat, and the composer has the focus
    expect(page.locator("#id_channel")).to_have_value("chat")
    expect(page.locator("#id_body")).to_be_focused()
    assert SuggestionFeedback.objects.filter(rule="preferred_channel", verdict="accepted").exists()
