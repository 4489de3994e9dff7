"""The workspace with the keyboard alone and a screen reader's view of it: every control has a
name, the pages have landmarks, the focused element is always visibly outlined, and a reply
goes out without touching the mouse."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from customers.models import Channel
from customers.services import customer_figures_refresh
from tests.factories import ContactPointFactory, CustomerFactory, MessageFactory, OrderFactory, TicketFactory
from tickets.models import Message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Visible controls with no accessible name: no <label>, no aria-label(ledby), no text, no title.
UNNAMED_CONTROLS = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button, a[href]'
  )].filter(el => el.offsetParent !== null).filter(el => {
    if (el.labels && el.labels.length) return false;
    if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.title) return false;
    if ((el.tagName === 'BUTTON' || el.tagName === 'A') && el.textContent.trim()) return false;
    return true;
  }).map(el => el.outerHTML.slice(0, 120))"""

FOCUS_OUTLINE = """() => {
  const style = getComputedStyle(document.activeElement);
  return {tag: document.activeElement.tagName, style: style.outlineStyle, width: parseFloat(style.outlineWidth)};
}"""


@pytest.fixture
def ticket(db):
    customer = CustomerFactory(first_name="Maria", last_name="García", locale="en")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
    OrderFactory(customer=customer, number="1042", total=Decimal("89.90"))
    customer_figures_refresh(customer=customer)
    ticket = TicketFactory(customer=customer, subject="Where are my boots?", channel=Channel.EMAIL)
    MessageFactory(ticket=ticket, body="Order 1042 has not arrived yet.")
    return ticket


def test_every_control_is_named_and_every_page_has_its_landmarks(page, login, agent, ticket):
    login("agent", "pw-agent")

    for url, aside in (("/", False), (f"/tickets/{ticket.pk}/", True), (f"/customers/{ticket.customer_id}/", True)):
        page.goto(url)
        page.wait_for_load_state("networkidle")  # the lazily loaded panels are in

        assert page.evaluate(UNNAMED_CONTROLS) == [], url
        expect(page.get_by_role("banner")).to_have_count(1)
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        expect(page.get_by_role("main")).to_have_count(1)
        expect(page.get_by_role("search").first).to_be_visible()
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        if aside:
            expect(page.get_by_role("complementary")).to_have_count(1)


def test_the_focused_element_is_always_outlined(page, login, agent, ticket):
    login("agent", "pw-agent")
    page.goto(f"/tickets/{ticket.pk}/")
    page.wait_for_load_state("networkidle")

    seen = set()
    for _ in range(25):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_OUTLINE)
        seen.add(focus["tag"])
        assert focus["style"] != "none" and focus["width"] >= 2, focus

    assert {"A", "SELECT", "BUTTON"} <= seen  # links, the macro picker and buttons were all reached


def test_a_reply_with_the_keyboard_alone(page, login, agent, ticket):
    login("agent", "pw-agent")
    page.goto(f"/tickets/{ticket.pk}/")

    page.locator("body").press("r")
    message_box = page.get_by_role("textbox", name="Message", exact=True)
    expect(message_box).to_be_focused()
    expect(page.get_by_label("Internal note (the customer never sees it)")).not_to_be_checked()
    page.keyboard.type("It left our warehouse this morning.")
    send = page.get_by_role("button", name="Send reply")
    for _ in range(6):
        page.keyboard.press("Tab")
        if send.evaluate("el => el === document.activeElement"):
            break
    expect(send).to_be_focused()
    page.keyboard.press("Enter")

    thread = page.get_by_role("list", name="Messages, oldest first")
    expect(thread).to_contain_text("It left our warehouse this morning.")
    reply = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert (reply.channel, reply.author) == (Channel.EMAIL, agent)
