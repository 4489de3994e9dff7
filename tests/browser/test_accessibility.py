"""axe-core (npm, pinned in package.json, installed by ``npm ci``) run in Chromium on every main
page: the inbox, a ticket, the customer view, search, the dashboards, the privacy pages, the
CSAT survey, the preference centre and the chat widget. No serious or critical violation.
And the main flow — sign in, open a ticket, reply — done with the keyboard alone.

axe is injected from node_modules with ``add_script_tag``, which the desk's CSP (no inline
script) would refuse, so these pages open in a context that bypasses CSP; the CSP itself is
checked by every other browser test."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import Channel
from customers.privacy.preferences import preference_token
from tests.conftest import service_unavailable
from tests.factories import (
    ContactPointFactory,
    CSATSurveyFactory,
    CustomerFactory,
    MessageFactory,
    OrderFactory,
    TicketFactory,
)
from tickets.models import Message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter((v) => ['serious', 'critical'].includes(v.impact))
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' '))}));
}"""


@pytest.fixture
def axe_page(browser, live_server):
    if not AXE.exists():
        service_unavailable(f"axe-core is not installed ({AXE}); run `npm ci`")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def _violations(page, url: str) -> list[dict]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE)


def _sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(f"pw-{username}")
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


@pytest.fixture
def desk(agent):
    customer = CustomerFactory(first_name="Maria", last_name="García", preferred_name="")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
    OrderFactory(customer=customer, number="1042", total=Decimal("89.90"))
    ticket = TicketFactory(customer=customer, subject="Where are my boots?", channel=Channel.EMAIL, assignee=agent)
    MessageFactory(ticket=ticket, channel=Channel.EMAIL, body="Order 1042 has not arrived yet.")
    MessageFactory(
        ticket=ticket,
        channel=Channel.EMAIL,
        direction=Message.Direction.OUTBOUND,
        author=agent,
        body="Sorry, looking into it.",
        delivery=Message.Delivery.FAILED,
        delivery_error="ConnectionRefusedError",
    )
    survey = CSATSurveyFactory(ticket=ticket, agent=agent, sent_at=timezone.now())
    return customer, ticket, survey


def test_agent_pages_have_no_serious_accessibility_violation(axe_page, desk):
    customer, ticket, _survey = desk
    _sign_in(axe_page, "agent")
    pages = {
        "inbox": "/",
        "ticket": f"/tickets/{ticket.pk}/",
        "customer": f"/customers/{customer.pk}/",
        "search": "/search/?q=maria",
    }
    found = {name: _violations(axe_page, url) for name, url in pages.items()}
    assert not any(found.values()), found


def test_lead_and_admin_pages_have_no_serious_accessibility_violation(axe_page, desk, lead, admin_user):
    customer, _ticket, _survey = desk
    _sign_in(axe_page, "lead")
    found = {"dashboards": _violations(axe_page, "/dashboards/")}
    found["dashboard tickets"] = _violations(axe_page, "/dashboards/tickets/")
    found["dashboard suggestions"] = _violations(axe_page, "/dashboards/suggestions/")
    found["suggestion verdicts"] = _violations(axe_page, "/dashboards/tickets/?verdict=accepted")
    axe_page.context.clear_cookies()
    _sign_in(axe_page, "admin")
    for name, url in {
        "privacy": "/privacy/",
        "privacy purposes": "/privacy/purposes/",
        "privacy customers": "/privacy/customers/",
        "privacy customer": f"/privacy/customers/{customer.pk}/",
        "retention": "/privacy/retention/",
        "audit": "/privacy/audit/",
    }.items():
        found[name] = _violations(axe_page, url)
    assert not any(found.values()), found


def test_customer_facing_pages_have_no_serious_accessibility_violation(axe_page, desk):
    customer, _ticket, survey = desk
    found = {
        "login form": _violations(axe_page, "/accounts/login/"),
        "survey": _violations(axe_page, f"/survey/{survey.token}/"),
        "preference centre": _violations(axe_page, f"/preferences/{preference_token(customer=customer)}/"),
        "chat widget": _violations(axe_page, "/chat/frame/"),
    }
    assert not any(found.values()), found


def test_an_agent_signs_in_opens_a_ticket_and_replies_with_the_keyboard_alone(page, live_server, desk):
    _customer, ticket, _survey = desk
    # given the login form; everything below is typed or tabbed, never clicked
    page.goto("/accounts/login/")
    page.keyboard.press("Tab")
    for _ in range(20):
        if page.evaluate("document.activeElement.id") == "id_username":
            break
        page.keyboard.press("Tab")
    page.keyboard.type("agent")
    page.keyboard.press("Tab")
    page.keyboard.type("pw-agent")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()

    # when they tab to the ticket's link and open it
    link = page.get_by_role("link", name="Where are my boots?").first
    for _ in range(80):
        if link.evaluate("(el) => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    else:
        pytest.fail("the ticket's link cannot be reached with Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/tickets/{ticket.pk}/")

    # and tab to the reply box, type, tab to "Send reply" and press Enter
    box = page.get_by_label("Message", exact=True)
    for _ in range(120):
        if box.evaluate("(el) => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    else:
        pytest.fail("the reply box cannot be reached with Tab")
    page.keyboard.type("Your boots ship today.")
    send = page.get_by_role("button", name="Send reply")
    for _ in range(20):
        if send.evaluate("(el) => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    else:
        pytest.fail("the send button cannot be reached with Tab")
    page.keyboard.press("Enter")

    # then the reply is in the thread
    thread = page.get_by_role("list", name="Messages, oldest first")
    expect(thread).to_contain_text("Your boots ship today.")


def test_the_check_finds_what_it_looks_for(axe_page):
    # given a page with an image without text and a field without a label
    axe_page.goto("/accounts/login/")
    axe_page.evaluate(
        """() => { document.querySelector('main, body').insertAdjacentHTML('beforeend',
        '<img src="/static/missing.png"><input type="text"><button></button>'); }"""
    )
    axe_page.add_script_tag(path=str(AXE))

    # then axe reports them as serious or critical
    found = {violation["id"] for violation in axe_page.evaluate(RUN_AXE)}
    assert {"image-alt", "label", "button-name"} <= found, found
