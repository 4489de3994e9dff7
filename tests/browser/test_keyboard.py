"""Every flow of the desk with the keyboard alone: Tab, Shift+Tab, Enter, Space, the arrow keys,
Escape and the desk's own shortcuts (``j``/``k``, ``/``, ``r``, ``n``). Nothing is clicked and no
field is filled that the keyboard did not reach first: the tests type with ``page.keyboard``
into whatever has the focus. Each flow checks its effect (in the database or on the page) and
that the focused element is visibly outlined on every page it crosses.

Covered: the inbox (filters, views, moving through tickets, opening one), search, the customer
view reached from a ticket, ticket properties (assign, status, cancelling an edit), an internal
note, a macro put into the composer, suggested actions (accept, dismiss with a reason, snooze),
merging two customers and undoing it, the dashboards (period, drill-down), the privacy pages
(record a consent decision, export, erase), and what customers use: the CSAT survey, the
preference centre and the chat widget.
"""

import importlib
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from customers import consent
from customers.models import Channel, ConsentRecord, Customer, Event, Job, Order, SuggestionFeedback
from customers.privacy.preferences import preference_token
from customers.services import consent_record
from tests.browser import test_chat_widget
from tests.factories import (
    ContactPointFactory,
    CSATSurveyFactory,
    CustomerFactory,
    MacroFactory,
    MessageFactory,
    OrderFactory,
    TicketFactory,
)
from tickets.models import CSATSurvey, Message, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

store_page = test_chat_widget.store  # the store's page on another origin, with the chat widget

# What the focused element looks like: a focus ring the eye can find is an outline of 2 px or
# more that is not "none" (the desk's is 3 px amber under :focus-visible).
FOCUS_RING = """() => {
  let el = document.activeElement;
  const style = getComputedStyle(el);
  return {element: el.outerHTML.slice(0, 100), style: style.outlineStyle, width: parseFloat(style.outlineWidth)};
}"""
IS_FOCUSED = "(el) => el.ownerDocument.activeElement === el"


def focused(target) -> bool:
    return target.evaluate(IS_FOCUSED)


def tab_to(page, target, *, limit: int = 80, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until ``target`` has the focus; fail if it never does."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if focused(target):
            return
        page.keyboard.press(key)
    if not focused(target):
        pytest.fail(f"{target} cannot be reached with {key} ({limit} presses)")


def choose(page, select, value: str) -> None:
    """With the focus on a closed <select>, press the arrow keys until ``value`` is chosen."""
    assert focused(select), f"{select} does not have the focus"
    wanted = select.evaluate("(el, value) => [...el.options].findIndex((o) => o.value === value)", value)
    assert wanted >= 0, f"{select} has no option {value!r}"
    for _ in range(20):
        current = select.evaluate("(el) => el.selectedIndex")
        if current == wanted:
            return
        page.keyboard.press("ArrowDown" if current < wanted else "ArrowUp")
    pytest.fail(f"the arrow keys never chose {value!r} in {select}")


def assert_focus_visible(page) -> None:
    ring = page.evaluate(FOCUS_RING)
    assert ring["style"] != "none" and ring["width"] >= 2, ring


def sign_in(page, username: str) -> None:
    """The login form, typed: Tab to the username, type, Tab, type the password, Enter."""
    page.goto("/accounts/login/")
    tab_to(page, page.get_by_label("Username"), limit=10)
    assert_focus_visible(page)
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(f"pw-{username}")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def press_enter_and_wait(page, key: str = "Enter") -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


@pytest.fixture(autouse=True)
def shipped_purposes(db):
    """A transactional test starts from an empty database: put the shipped purposes back."""
    importlib.import_module("customers.migrations.0002_shipped_purposes").create_purposes(apps, None)


@pytest.fixture
def maria(db):
    """Maria's late boots: an email ticket with an order, an older conversation, a macro."""
    cache.clear()
    customer = CustomerFactory(first_name="Maria", last_name="García", preferred_name="", locale="en")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
    OrderFactory(
        customer=customer,
        number="1042",
        total=Decimal("89.90"),
        status=Order.Status.SHIPPED,
        promised_delivery=timezone.localdate() - timedelta(days=4),
        carrier="DHL",
        tracking_number="JD0142",
    )
    ticket = TicketFactory(customer=customer, subject="Where are my boots?", channel=Channel.EMAIL)
    MessageFactory(ticket=ticket, body="Order 1042 has not arrived yet.")
    MacroFactory(name="Shipping update", body="Hi {{ customer.first_name }}, order {{ order.number }} ships today.")
    return ticket


def test_inbox_filters_views_and_moving_through_tickets(page, live_server, agent, maria):
    TicketFactory(subject="Chat about a tent", channel=Channel.CHAT)
    TicketFactory(subject="Phone call about socks", channel=Channel.PHONE, assignee=agent)
    sign_in(page, "agent")
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    rows = page.locator("table.inbox tbody tr[data-ticket]")
    expect(rows).to_have_count(3)

    # given the first Tab stop, the skip link, Enter takes the focus past the navigation
    skip = page.get_by_role("link", name="Skip to content")
    tab_to(page, skip, limit=3)
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    # and "?" opens the shortcuts, with the focus in the dialog; Escape closes it
    page.keyboard.press("?")
    shortcuts = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(shortcuts).to_be_visible()
    assert shortcuts.evaluate("(el) => el.contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(shortcuts).to_be_hidden()

    # given the agent on the Channel filter, the arrow keys choose Email and the list follows
    channel = page.get_by_label("Channel")
    tab_to(page, channel)
    assert_focus_visible(page)
    choose(page, channel, "email")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Where are my boots?")
    expect(channel).to_be_focused()  # the list was redrawn, the focus stayed where it was
    assert "channel=email" in page.url

    # when they clear the filters and switch to the Unassigned view with Tab and Enter
    tab_to(page, page.get_by_role("link", name="Clear filters"))
    press_enter_and_wait(page)
    expect(rows).to_have_count(3)
    unassigned = page.get_by_role("navigation", name="Inbox views").get_by_role("link", name=re.compile("^Unassigned"))
    tab_to(page, unassigned)
    assert_focus_visible(page)
    press_enter_and_wait(page)
    expect(unassigned).to_have_attribute("aria-current", "page")
    expect(rows).to_have_count(2)

    # then j and k move through the tickets, each focused and outlined, and Enter opens one
    page.keyboard.press("Escape")  # leave whatever has the focus; shortcuts work from the page
    page.keyboard.press("j")
    first = page.locator("tr.is-selected")
    expect(first).to_have_count(1)
    page.keyboard.press("j")
    second_subject = page.locator("tr.is-selected .row-link").inner_text()
    page.keyboard.press("k")
    page.keyboard.press("j")
    selected = page.locator("tr.is-selected .row-link")
    expect(selected).to_have_text(second_subject)
    expect(selected).to_be_focused()
    assert_focus_visible(page)
    press_enter_and_wait(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(second_subject)


def test_search_from_the_box_and_the_customer_view_from_a_ticket(page, live_server, agent, maria):
    for hours in range(30):  # more than a page of timeline
        MessageFactory(
            ticket=maria, body=f"Earlier message {hours}", created_at=timezone.now() - timedelta(hours=hours + 1)
        )
    sign_in(page, "agent")

    # given the inbox, "/" puts the focus in the search box; type and Enter
    page.keyboard.press("/")
    box = page.get_by_label("Search customers and tickets")
    expect(box).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.type("1042")
    press_enter_and_wait(page)
    expect(page.get_by_role("heading", name="Search", level=1)).to_be_visible()

    # when they Tab to the ticket found and open it
    found = page.get_by_role("region", name=re.compile("^Tickets")).get_by_role("link", name=re.compile("Where are"))
    tab_to(page, found)
    assert_focus_visible(page)
    press_enter_and_wait(page)
    expect(page).to_have_url(f"{live_server.url}/tickets/{maria.pk}/")

    # then from the ticket, Tab reaches the customer's name and Enter opens the customer view
    name = page.locator(".ticket-head").get_by_role("link", name="Maria García")
    tab_to(page, name)
    assert_focus_visible(page)
    press_enter_and_wait(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Maria García")

    # and "Older" pages back in place, the focus on the list it loaded (not dropped on the page)
    timeline = page.get_by_role("list", name="Timeline, newest first")
    expect(timeline).to_contain_text("Order 1042 has not arrived yet.")
    expect(timeline).not_to_contain_text("Earlier message 29")
    tab_to(page, page.get_by_role("link", name="Older"), limit=120)
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(timeline).to_contain_text("Earlier message 29")
    expect(timeline).to_be_focused()

    # and its filter works from the keyboard too
    show = page.get_by_label("Show")
    tab_to(page, show)
    choose(page, show, "order")
    expect(timeline).not_to_contain_text("Order 1042 has not arrived yet.")
    expect(timeline).to_contain_text("#1042")
    expect(show).to_be_focused()  # the timeline was redrawn around the filter, which kept the focus


def test_ticket_properties_an_internal_note_and_a_macro(page, live_server, agent, maria):
    sign_in(page, "agent")
    page.goto(f"/tickets/{maria.pk}/")

    # given the ticket, "Assign to me" with Tab and Enter assigns it, and the focus stays nearby
    assign = page.get_by_role("button", name="Assign to me")
    tab_to(page, assign)
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.locator("#field-assignee")).to_contain_text("Agent")
    expect(page.get_by_role("link", name="Change assignee")).to_be_focused()
    assert Ticket.objects.get(pk=maria.pk).assignee == agent

    # when they change the status: Enter on "Change status", arrows in the select, Tab, Enter
    change = page.get_by_role("link", name="Change status")
    tab_to(page, change, backwards=True)
    page.keyboard.press("Enter")
    status = page.locator("#field-status select")
    expect(status).to_be_focused()
    choose(page, status, "pending")
    page.keyboard.press("Tab")
    expect(page.locator("#field-status").get_by_role("button", name="Save")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#field-status .status")).to_have_text("Pending")
    expect(change).to_be_focused()
    assert Ticket.objects.get(pk=maria.pk).status == Ticket.Status.PENDING

    # and Escape cancels an edit, giving the focus back to the link that opened it
    priority = page.get_by_role("link", name="Change priority")
    tab_to(page, priority)
    page.keyboard.press("Enter")
    expect(page.locator("#field-priority select")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#field-priority select")).to_have_count(0)
    expect(priority).to_be_focused()

    # and a consent choice the customer stated is recorded from the panel beside the ticket
    stated = page.locator("summary", has_text="Record a consent choice the customer stated")
    tab_to(page, stated, limit=60)
    page.keyboard.press("Enter")
    decision = page.locator(f"#agent-decision-{maria.customer_id}")
    purpose = decision.get_by_label("Purpose")
    page.keyboard.press("Tab")
    expect(purpose).to_be_focused()
    choose(page, purpose, "marketing")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowRight")  # from "grants it" to "withdraws it", checking it
    expect(decision.get_by_label("withdraws it")).to_be_checked()
    tab_to(page, decision.get_by_role("button", name="Record the customer's choice"), limit=6)
    page.keyboard.press("Enter")
    recorded = decision.get_by_role("status")
    expect(recorded).to_contain_text("Recorded: Offers and reminders withdrawn")
    expect(page.locator(f"#agent-decision-{maria.customer_id}").get_by_role("status")).to_be_focused()
    record = ConsentRecord.objects.get(customer=maria.customer)
    assert (record.purpose.code, record.granted, record.actor) == ("marketing", False, agent)

    # then "n" writes an internal note, sent with Tab and Enter
    page.keyboard.press("n")
    body = page.get_by_role("textbox", name="Message", exact=True)
    expect(body).to_be_focused()
    page.keyboard.type("Customer called, parcel is at the depot.")
    tab_to(page, page.get_by_role("button", name="Add note"), limit=6)
    assert_focus_visible(page)
    press_enter_and_wait(page)
    expect(page.locator(".message-note").last).to_contain_text("Customer called, parcel is at the depot.")
    assert Message.objects.get(direction=Message.Direction.NOTE).body == "Customer called, parcel is at the depot."

    # and a macro: "r", Shift+Tab to the picker, an arrow key previews it, Enter on "Use this text"
    page.keyboard.press("r")
    expect(body).to_be_focused()
    picker = page.get_by_label("Macro")
    tab_to(page, picker, backwards=True, limit=6)
    assert_focus_visible(page)
    page.keyboard.press("ArrowDown")
    use = page.get_by_role("button", name="Use this text")
    expect(page.locator("#macro-preview")).to_contain_text("Hi Maria, order 1042 ships today.")
    tab_to(page, use, limit=4)
    page.keyboard.press("Enter")
    expect(body).to_have_value("Hi Maria, order 1042 ships today.")
    expect(body).to_be_focused()
    tab_to(page, page.get_by_role("button", name="Send reply"), limit=6)
    press_enter_and_wait(page)
    expect(page.get_by_role("list", name="Messages, oldest first")).to_contain_text("Hi Maria, order 1042 ships today.")
    reply = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert (reply.body, reply.author) == ("Hi Maria, order 1042 ships today.", agent)


def test_suggestions_accepted_dismissed_with_a_reason_and_snoozed(page, live_server, agent, maria):
    # given Maria also left a cart behind, so three suggestions are on her ticket
    customer = maria.customer
    for code in ("marketing", "behavioral_tracking"):
        consent_record(customer=customer, purpose=code, granted=True, source="customer")
    Event.objects.create(customer=customer, kind=Event.Kind.CART_ABANDONED, payload={"items": ["Hat"]})
    sign_in(page, "agent")
    page.goto(f"/tickets/{maria.pk}/")
    panel = page.locator("#suggestions")
    late = panel.locator("li.suggestion[data-rule='order_delayed']")
    welcome = panel.locator("li.suggestion[data-rule='first_contact']")
    cart = panel.locator("li.suggestion[data-rule='cart_abandoned']")
    for item in (late, welcome, cart):
        expect(item).to_have_count(1)

    # when the agent Tabs to "Accept and use reply" and presses Enter
    tab_to(page, late.get_by_role("button", name="Accept and use reply"), limit=120)
    assert_focus_visible(page)
    page.keyboard.press("Enter")

    # then the reply is in the composer, which has the focus
    body = page.get_by_role("textbox", name="Message", exact=True)
    expect(body).to_have_value(re.compile(r"^Hi Maria,\n\nI'm sorry: order #1042 was due on"))
    expect(body).to_be_focused()
    expect(late).to_have_count(0)

    # when they open "Dismiss…" on the welcome with Enter, pick a reason with the arrows, note it
    tab_to(page, welcome.locator("summary", has_text="Dismiss…"), limit=120)
    page.keyboard.press("Enter")
    reason = welcome.get_by_label("Why dismiss it?")
    page.keyboard.press("Tab")
    expect(reason).to_be_focused()
    choose(page, reason, "Already done")
    page.keyboard.press("Tab")
    page.keyboard.type("Welcomed her on the phone")
    page.keyboard.press("Tab")
    expect(welcome.get_by_role("button", name="Dismiss", exact=True)).to_be_focused()
    page.keyboard.press("Enter")

    # then it is gone, and the focus is on the panel (not lost to the page) to go on from there
    expect(welcome).to_have_count(0)
    expect(panel).to_contain_text("Dismissed.")
    expect(page.get_by_role("heading", name="Suggested next actions")).to_be_focused()
    assert_focus_visible(page)

    # when they open "Snooze…" with Space and snooze the cart reminder for an hour
    tab_to(page, cart.locator("summary", has_text="Snooze…"), limit=20)
    page.keyboard.press(" ")
    hours = cart.get_by_label("Snooze for")
    page.keyboard.press("Tab")
    choose(page, hours, "1")
    page.keyboard.press("Tab")
    expect(cart.get_by_role("button", name="Snooze", exact=True)).to_be_focused()
    page.keyboard.press("Enter")

    # then every verdict is stored with what the agent chose
    expect(cart).to_have_count(0)
    expect(page.get_by_role("heading", name="Suggested next actions")).to_be_focused()
    feedback = {f.rule: f for f in SuggestionFeedback.objects.all()}
    assert {rule: f.verdict for rule, f in feedback.items()} == {
        "order_delayed": "accepted",
        "first_contact": "dismissed",
        "cart_abandoned": "snoozed",
    }
    assert feedback["first_contact"].reason == "Already done: Welcomed her on the phone"
    snoozed = feedback["cart_abandoned"].until - timezone.now()
    assert timedelta(minutes=55) < snoozed <= timedelta(hours=1)


def choose_radio(page, group, name: str) -> None:
    """Tab into a radio group, then press the arrow keys until the radio ``name`` is checked."""
    radio = group.get_by_role("radio", name=name)
    for _ in range(30):
        if group.evaluate("(el) => el.contains(document.activeElement)"):
            break
        page.keyboard.press("Tab")
    else:
        pytest.fail(f"{group} cannot be reached with Tab")
    for _ in range(10):
        if radio.is_checked():
            return
        page.keyboard.press("ArrowDown")
    pytest.fail(f"the arrow keys never checked {name!r}")


def test_merging_two_customers_and_undoing_it(page, live_server, agent):
    keep = CustomerFactory(first_name="Lucia", last_name="Romero", country="ES", preferred_name="")
    dupe = CustomerFactory(first_name="Lucía", last_name="ROMERO", country="ES", preferred_name="Lu")
    Customer.objects.filter(pk=dupe.pk).update(first_name="LUCIA")
    TicketFactory(customer=dupe, subject="From the duplicate record")
    sign_in(page, "agent")
    page.goto(f"/customers/{keep.pk}/")

    # given the possible duplicate beside the customer, Tab and Enter on "Review merge…"
    review = page.get_by_role("region", name="Possible duplicates").get_by_role("link", name="Review merge…")
    tab_to(page, review, limit=120)
    assert_focus_visible(page)
    press_enter_and_wait(page)
    expect(page.get_by_role("heading", name="Merge two customer records")).to_be_visible()

    # when the agent chooses with the arrow keys, types the reason and presses Enter on Merge
    choose_radio(page, page.get_by_role("group", name="Which record survives?"), f"#{keep.pk}")
    assert_focus_visible(page)
    choose_radio(page, page.get_by_role("group", name="Preferred name"), f"Lu from #{dupe.pk}")
    tab_to(page, page.get_by_label("Why are they the same person?"), limit=20)
    page.keyboard.type("Same person, shouted her name")
    tab_to(page, page.get_by_role("button", name="Merge these customers"), limit=5)
    press_enter_and_wait(page)

    # then they are merged as chosen
    expect(page.locator(".flash")).to_contain_text("Merged")
    assert Ticket.objects.get(subject="From the duplicate record").customer_id == keep.pk
    keep.refresh_from_db()
    assert keep.preferred_name == "Lu"

    # and "Undo merge" is reached and pressed with the keyboard too
    tab_to(page, page.get_by_role("button", name="Undo merge"), limit=150)
    press_enter_and_wait(page)
    expect(page.locator(".flash")).to_contain_text("Merge undone")
    assert Ticket.objects.get(subject="From the duplicate record").customer_id == dupe.pk


def test_a_lead_changes_the_period_and_follows_a_drill_down(page, live_server, lead):
    # given a rating of 1 answered 45 days ago: outside the default 30 days, inside the last 90
    answered = timezone.now() - timedelta(days=45)
    ticket = TicketFactory(
        subject="Boots arrived damaged",
        status="solved",
        created_at=answered - timedelta(days=3),
        solved_at=answered - timedelta(days=2),
    )
    CSATSurveyFactory(ticket=ticket, sent_at=answered - timedelta(days=1), answered_at=answered, rating=1)
    sign_in(page, "lead")

    # when the lead Tabs to Dashboards in the main navigation and presses Enter
    tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboards"), limit=10)
    assert_focus_visible(page)
    press_enter_and_wait(page)
    low = page.get_by_role("region", name="Latest low ratings")
    expect(low.get_by_text("No low ratings in this period.")).to_be_visible()

    # and chooses the last 90 days with the arrow keys, then Tab to "Show" and Enter
    period = page.get_by_label("Period", exact=True)
    tab_to(page, period)
    assert_focus_visible(page)
    choose(page, period, "90d")
    tab_to(page, page.get_by_role("button", name="Show"), limit=12)
    press_enter_and_wait(page)

    # then the figures are of the 90 days, and the low rating's figure drills down to its ticket
    assert "period=90d" in page.url
    expect(low.get_by_role("link", name=f"#{ticket.pk} Boots arrived damaged")).to_be_visible()
    figure = page.get_by_role("link", name="Low ratings, this period: 1. Show the tickets")
    tab_to(page, figure, limit=30)
    assert_focus_visible(page)
    press_enter_and_wait(page)
    expect(page.get_by_role("heading", name="Low CSAT ratings")).to_be_visible()
    behind = page.get_by_role("link", name=f"#{ticket.pk} Boots arrived damaged")
    tab_to(page, behind, limit=30)
    press_enter_and_wait(page)
    expect(page).to_have_url(f"{live_server.url}/tickets/{ticket.pk}/")


def test_an_admin_records_a_decision_exports_and_erases_a_customer(page, live_server, admin_user):
    customer = CustomerFactory(first_name="Zebulon", last_name="Quixworth")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="zq@example.org")
    sign_in(page, "admin")

    # given the admin finds the customer from the privacy overview, by keyboard
    tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy"), limit=10)
    press_enter_and_wait(page)
    tab_to(page, page.get_by_role("search").get_by_role("textbox"), limit=20)
    page.keyboard.type("zq@example.org")
    press_enter_and_wait(page)
    tab_to(page, page.get_by_role("link", name=re.compile("Zebulon Quixworth")), limit=30)
    press_enter_and_wait(page)
    expect(page.get_by_role("heading", name="Zebulon Quixworth")).to_be_visible()

    # when they record a decision: purpose by the arrows, "Granted" by the arrows, a reason, Enter
    record = page.get_by_role("region", name="Record a decision")
    purpose = record.get_by_label("Purpose")
    tab_to(page, purpose)
    assert_focus_visible(page)
    choose(page, purpose, "marketing")
    page.keyboard.press("Tab")
    decision = record.get_by_role("group", name="Decision")
    expect(decision.get_by_role("radio").first).to_be_focused()
    page.keyboard.press("Space")
    expect(decision.get_by_role("radio", name="Granted")).to_be_checked()
    tab_to(page, record.get_by_label("Reason"), limit=4)
    page.keyboard.type("Signed paper form received by post")
    tab_to(page, record.get_by_role("button", name="Record decision"), limit=4)
    press_enter_and_wait(page)

    # then it is in the ledger
    expect(page.get_by_role("region", name="Consent ledger")).to_contain_text("Signed paper form received by post")
    latest = ConsentRecord.objects.get(customer=customer)
    assert (latest.purpose.code, latest.granted) == ("marketing", True)
    assert consent.allows(customer, "marketing")

    # when they start an export with a reason
    export = page.get_by_role("region", name="Export their data")
    tab_to(page, export.get_by_label("Reason"), limit=60)
    page.keyboard.type("Access request of 3 May")
    tab_to(page, export.get_by_role("button", name="Start export"), limit=4)
    press_enter_and_wait(page)

    # then the job ran and its download is a Tab away
    expect(page.get_by_role("link", name="Download the export (JSON)")).to_be_visible()
    assert Job.objects.get(kind=Job.Kind.CUSTOMER_EXPORT).status == Job.Status.SUCCEEDED
    tab_to(page, page.get_by_role("link", name=f"Back to customer #{customer.pk}"), limit=20)
    press_enter_and_wait(page)

    # when they start an erasure: the reason, the confirmation word, Enter on "Erase customer"
    erase = page.get_by_role("region", name="Erase this customer")
    tab_to(page, erase.get_by_label("Why"), limit=60)
    page.keyboard.type("Erasure request received by email on 3 May")
    tab_to(page, erase.get_by_label("Type ERASE to confirm"), limit=4)
    page.keyboard.type("ERASE")
    tab_to(page, erase.get_by_role("button", name="Erase customer"), limit=4)
    assert_focus_visible(page)
    press_enter_and_wait(page)

    # then the customer is erased
    expect(page.get_by_text("The customer was erased.")).to_be_visible()
    assert Customer.objects.get(pk=customer.pk).erased


def test_a_customer_answers_the_survey_and_changes_a_preference(page, agent):
    ticket = TicketFactory(subject="Where are my boots?")
    survey = CSATSurveyFactory(ticket=ticket, agent=agent, sent_at=timezone.now())

    # given the survey, Tab into the ratings and choose 4 with the arrow keys
    page.goto(f"/survey/{survey.token}/")
    ratings = page.get_by_role("group", name=re.compile("How"))
    for _ in range(10):
        if ratings.evaluate("(el) => el.contains(document.activeElement)"):
            break
        page.keyboard.press("Tab")
    assert_focus_visible(page)
    rating = ratings.get_by_role("radio").nth(3)
    for _ in range(6):
        if rating.is_checked():
            break
        page.keyboard.press("ArrowDown")
    expect(rating).to_be_checked()
    wanted = rating.get_attribute("value")

    # when they Tab to the comment, type, Tab to the button and press Enter
    page.keyboard.press("Tab")
    page.keyboard.type("Quick and kind.")
    tab_to(page, page.get_by_role("button", name="Send my answer"), limit=3)
    press_enter_and_wait(page)

    # then the answer is stored
    survey = CSATSurvey.objects.get(pk=survey.pk)
    assert (str(survey.rating), survey.comment) == (wanted, "Quick and kind.")

    # given the customer's preference centre, Tab to "Allow: Offers and reminders" and press Enter
    customer = ticket.customer
    page.goto(f"/preferences/{preference_token(customer=customer)}/")
    allow = page.get_by_role("button", name="Allow: Offers and reminders")
    tab_to(page, allow, limit=20)
    assert_focus_visible(page)
    press_enter_and_wait(page)

    # then the choice is saved, and said so
    expect(page.get_by_role("status")).to_contain_text("Saved")
    expect(page.locator('[data-purpose="marketing"]')).to_contain_text("You allow this.")
    assert consent.allows(customer, "marketing")


def test_a_visitor_opens_the_chat_writes_sends_and_closes_it(page, store_page):
    # given the store's page, Tab reaches "Chat with us", visibly, and Enter opens the chat
    page.goto(store_page)
    toggle = page.get_by_role("button", name="Chat with us")
    tab_to(page, toggle, limit=5)
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    frame = page.frame_locator("#desk-chat-frame")
    expect(frame.get_by_role("status")).to_contain_text("Connected")
    expect(toggle).to_have_attribute("aria-expanded", "true")

    # then the focus is in the message box, where they type and press Enter to send
    box = frame.get_by_label("Your message")
    expect(box).to_be_focused()
    page.keyboard.type("Do you have these boots in size 39?")
    page.keyboard.press("Enter")
    expect(frame.locator(".chat-line.visitor")).to_have_text("YouDo you have these boots in size 39?")
    assert Ticket.objects.get().channel == Channel.CHAT

    # when they press Escape, the chat closes and the focus is back on "Chat with us"
    page.keyboard.press("Escape")
    expect(page.locator("#desk-chat-frame")).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()

    # and Enter opens it again, on the message box, with the conversation still there
    page.keyboard.press("Enter")
    expect(box).to_be_focused()
    expect(frame.locator(".chat-line.visitor")).to_have_count(1)
    ring = frame.locator("body").evaluate(FOCUS_RING)
    assert ring["style"] != "none" and ring["width"] >= 2, ring

    # and "Close chat", reached with Shift+Tab, closes it too
    tab_to(page, frame.get_by_role("button", name="Close chat"), backwards=True, limit=10)
    page.keyboard.press("Enter")
    expect(page.locator("#desk-chat-frame")).to_be_hidden()
    expect(toggle).to_be_focused()
