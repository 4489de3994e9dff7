"""The agent workspace in Chromium: triage, the customer view, macros, notes, merging, live parts.

Every control is found by its label or role, as a screen reader user would find it.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import AuditEvent, Channel, Customer
from customers.services import customer_figures_refresh
from tests.factories import (
    ContactPointFactory,
    CustomerFactory,
    MacroFactory,
    MessageFactory,
    OrderFactory,
    OrderLineFactory,
    TicketFactory,
)
from tickets import services
from tickets.models import Message, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def maria(db):
    customer = CustomerFactory(first_name="Maria", last_name="García", locale="en", timezone="Europe/Madrid")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
    order = OrderFactory(customer=customer, number="1042", total=Decimal("89.90"))
    OrderLineFactory(order=order, name="Walking boots")
    customer_figures_refresh(customer=customer)
    old = TicketFactory(customer=customer, subject="Sizing question", created_at=timezone.now() - timedelta(days=40))
    MessageFactory(ticket=old, body="Do the boots run small?", created_at=timezone.now() - timedelta(days=40))
    ticket = TicketFactory(customer=customer, subject="Where are my boots?", channel=Channel.EMAIL)
    MessageFactory(ticket=ticket, body="Order 1042 has not arrived yet.")
    return ticket


def test_triage_from_the_inbox_with_filters_and_the_keyboard(page, login, agent, maria):
    TicketFactory(subject="Chat about a tent", channel=Channel.CHAT)
    login("agent", "pw-agent")

    page.get_by_label("Channel").select_option("email")

    expect(page.get_by_role("link", name="Chat about a tent")).to_have_count(0)
    page.locator("body").press("j")
    expect(page.locator("tr.is-selected")).to_contain_text("Where are my boots?")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Where are my boots?")).to_be_visible()

    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    expect(page.get_by_label("Search customers and tickets")).to_be_focused()


def test_a_new_ticket_appears_in_the_inbox_without_a_reload(page, login, agent, maria):
    # given an agent looking at the inbox
    login("agent", "pw-agent")
    expect(page.get_by_role("link", name="Where are my boots?")).to_be_visible()
    page.evaluate("window.__same_page = true")

    # when a customer writes in on the web form
    services.message_receive(
        channel=Channel.WEB, sender="new.customer@example.com", subject="Do you ship to Iceland?", body="Hello!"
    )

    # then the row appears by itself (the inbox polls every 8 s), on the same page
    expect(page.get_by_role("link", name="Do you ship to Iceland?")).to_be_visible(timeout=12_000)
    assert page.evaluate("window.__same_page") is True


def test_reading_the_customer_view(page, login, agent, maria):
    login("agent", "pw-agent")
    page.goto(f"/tickets/{maria.pk}/")

    panel = page.get_by_role("complementary")
    expect(panel.locator(".greeting")).to_contain_text("Maria — welcome back")
    panel.get_by_role("link", name="Maria García").click()

    expect(page.get_by_role("heading", name="Maria García")).to_be_visible()
    expect(page.locator(".greeting")).to_contain_text("Maria")
    expect(page.get_by_text("Order #1042").first).to_be_visible()
    expect(page.get_by_text("Walking boots")).to_be_visible()
    timeline = page.get_by_role("list", name="Timeline, newest first")
    expect(timeline).to_contain_text("Order 1042 has not arrived yet.")
    expect(timeline).to_contain_text("Do the boots run small?")

    page.get_by_label("Show").select_option("order")

    expect(timeline).not_to_contain_text("Do the boots run small?")
    expect(timeline).to_contain_text("Order #1042")


def test_each_opening_of_the_profile_is_audited_once_whatever_the_page_loads_after(page, login, agent, maria):
    login("agent", "pw-agent")

    # when the agent opens the ticket, then the customer view, and filters its timeline in place
    page.goto(f"/tickets/{maria.pk}/")
    page.wait_for_load_state("networkidle")  # suggestions, duplicates, history
    page.get_by_role("link", name="Maria García").first.click()
    page.wait_for_load_state("networkidle")
    page.get_by_label("Show").select_option("order")
    expect(page.get_by_role("list", name="Timeline, newest first")).not_to_contain_text("Do the boots run small?")

    # then there are two openings, each audited once, with who and whom
    audits = AuditEvent.objects.filter(action=AuditEvent.Action.PROFILE_VIEWED).order_by("pk")
    assert [(a.customer_id, a.actor_id) for a in audits] == [(maria.customer_id, agent.pk)] * 2


def test_replying_with_a_macro_previews_it_with_the_name_filled(page, login, agent, maria):
    MacroFactory(name="Shipping update", body="Hi {{ customer.first_name }}, order {{ order.number }} ships today.")
    login("agent", "pw-agent")
    page.goto(f"/tickets/{maria.pk}/")

    page.get_by_label("Macro").select_option(label="Shipping update")

    preview = page.locator("#macro-preview")
    expect(preview).to_contain_text("Hi Maria, order 1042 ships today.")
    preview.get_by_role("button", name="Use this text").click()
    expect(page.get_by_role("textbox", name="Message", exact=True)).to_have_value("Hi Maria, order 1042 ships today.")
    page.get_by_role("button", name="Send reply").click()

    expect(page.get_by_role("list", name="Messages, oldest first")).to_contain_text("Hi Maria, order 1042 ships today.")
    expect(page.locator(".message-outbound .delivery").last).to_have_text("Sent")


def test_a_macro_with_an_unknown_placeholder_is_flagged_and_not_sent(page, login, agent, maria):
    MacroFactory(name="Broken", body="Hi {{ customer.nickname }}")
    login("agent", "pw-agent")
    page.goto(f"/tickets/{maria.pk}/")

    page.get_by_label("Macro").select_option(label="Broken")
    expect(page.locator("#macro-preview").get_by_role("alert")).to_contain_text("Unknown placeholder")
    page.get_by_role("button", name="Use this text").click()
    page.get_by_role("button", name="Send reply").click()

    expect(page.get_by_role("alert").first).to_contain_text("Replace the placeholder {{ customer.nickname }}")
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


def test_an_internal_note_from_the_keyboard(page, login, agent, maria):
    login("agent", "pw-agent")
    page.goto(f"/tickets/{maria.pk}/")

    page.locator("body").press("n")
    expect(page.get_by_role("textbox", name="Message", exact=True)).to_be_focused()
    expect(page.get_by_label("Internal note (the customer never sees it)")).to_be_checked()
    page.keyboard.type("Customer called, parcel is at the depot.")
    page.get_by_role("button", name="Add note").click()

    note = page.locator(".message-note").last
    expect(note).to_contain_text("Customer called, parcel is at the depot.")
    expect(note).to_contain_text("Internal note")
    assert Message.objects.get(direction=Message.Direction.NOTE).delivery == ""


def test_merging_two_customers_and_undoing_it(page, login, agent):
    keep = CustomerFactory(first_name="Lucia", last_name="Romero", country="ES", preferred_name="")
    dupe = CustomerFactory(first_name="Lucía", last_name="ROMERO", country="ES", preferred_name="Lu")
    Customer.objects.filter(pk=dupe.pk).update(first_name="LUCIA")
    TicketFactory(customer=dupe, subject="From the duplicate record")
    login("agent", "pw-agent")
    page.goto(f"/customers/{keep.pk}/")

    duplicates = page.get_by_role("region", name="Possible duplicates")
    expect(duplicates).to_contain_text("same country (ES)")
    duplicates.get_by_role("link", name="Review merge…").click()
    expect(page.get_by_role("heading", name="Merge two customer records")).to_be_visible()
    page.get_by_role("group", name="Which record survives?").get_by_label(f"(#{keep.pk})").check()
    page.get_by_role("group", name="Preferred name").get_by_label("Lu").check()
    page.get_by_label("Why are they the same person?").fill("Same person, shouted her name")
    page.get_by_role("button", name="Merge these customers").click()

    expect(page.locator(".flash")).to_contain_text("Merged")
    expect(page.get_by_role("list", name="Timeline, newest first")).to_contain_text("From the duplicate record")
    assert Ticket.objects.get(subject="From the duplicate record").customer_id == keep.pk
    page.get_by_role("button", name="Undo merge").click()

    expect(page.locator(".flash")).to_contain_text("Merge undone")
    assert Ticket.objects.get(subject="From the duplicate record").customer_id == dupe.pk
    keep.refresh_from_db()
    assert keep.preferred_name == ""


def test_fields_are_edited_in_place_and_new_messages_appear_live(page, login, agent, maria):
    login("agent", "pw-agent")
    page.goto(f"/tickets/{maria.pk}/")

    page.get_by_role("link", name="Change status").click()
    page.get_by_label("Status").select_option("pending")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#field-status .status")).to_have_text("Pending")
    assert Ticket.objects.get(pk=maria.pk).status == Ticket.Status.PENDING

    services.message_receive(
        channel=Channel.EMAIL, sender="maria@example.com", body="Any news? It is urgent.", ticket=maria
    )

    expect(page.get_by_role("list", name="Messages, oldest first")).to_contain_text(
        "Any news? It is urgent.", timeout=7_000
    )


def test_others_on_the_ticket_are_shown(browser, live_server, page, login, agent, lead, maria):
    other = browser.new_context(base_url=live_server.url)
    lead_page = other.new_page()
    lead_page.goto("/accounts/login/")
    lead_page.get_by_label("Username").fill("lead")
    lead_page.get_by_label("Password").fill("pw-lead")
    lead_page.get_by_role("button", name="Log in").click()
    lead_page.goto(f"/tickets/{maria.pk}/")

    login("agent", "pw-agent")
    page.goto(f"/tickets/{maria.pk}/")

    expect(page.locator("#presence")).to_contain_text("Lead is viewing")
    other.close()


def test_customer_text_never_runs_as_code(page, login, agent):
    customer = CustomerFactory(first_name='<img src=x onerror="window.__owned=1">')
    ticket = TicketFactory(customer=customer, subject="<script>window.__owned=2</script>Help")
    MessageFactory(ticket=ticket, body="<script>window.__owned=3</script> and onerror=alert(1)")
    login("agent", "pw-agent")

    page.goto(f"/tickets/{ticket.pk}/")

    # The thread, not the history list beside it (loaded by htmx) that quotes the same text.
    thread = page.get_by_role("list", name="Messages, oldest first")
    expect(thread.get_by_text("<script>window.__owned=3</script> and onerror=alert(1)")).to_be_visible()
    assert page.evaluate("window.__owned") is None
    page.goto(f"/customers/{customer.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("<img src=x")
    assert page.evaluate("window.__owned") is None
