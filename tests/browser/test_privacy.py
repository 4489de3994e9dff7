"""Consent and privacy in Chromium: an admin rewords a purpose and changes its default; a customer
withdraws marketing in the preference centre and the agent's view follows; an agent records a
stated choice; an admin erases a customer."""

import importlib
import re

import pytest
from django.apps import apps
from playwright.sync_api import expect

from customers import consent
from customers.models import Channel, ConsentPurpose, Customer, Event
from customers.privacy.preferences import preference_customer, preference_token
from customers.services import consent_record
from tests.factories import ContactPointFactory, CustomerFactory, MessageFactory, TicketFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def shipped_purposes(db):
    """A transactional test starts from an empty database: put the shipped purposes back."""
    importlib.import_module("customers.migrations.0002_shipped_purposes").create_purposes(apps, None)


def test_an_admin_changes_a_purposes_wording_and_default(page, login, admin_user, browser, live_server):
    login("admin", "pw-admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy").click()
    page.get_by_role("navigation", name="Privacy sections").get_by_role("link", name="Purposes").click()
    page.get_by_role("link", name="Offers and reminders").click()

    page.get_by_label("Wording the customer reads").fill("Offers, cart reminders and discounts, at most weekly.")
    page.get_by_label("Granted by default (for customers who never decided)").check()
    page.get_by_role("button", name="Save purpose").click()

    expect(page.locator(".flash")).to_contain_text("saved")
    versions = page.get_by_role("region", name="Wording versions")
    expect(versions).to_contain_text("Version 2")
    expect(versions).to_contain_text("Offers, cart reminders and discounts, at most weekly.")
    expect(versions).to_contain_text("Version 1")
    marketing = ConsentPurpose.objects.get(code="marketing")
    assert marketing.default_granted and marketing.wordings.count() == 2
    customer = CustomerFactory()
    assert consent.allows(customer, "marketing")

    # and a customer now reads the new wording, and a decision on it points at version 2
    own = browser.new_context(base_url=live_server.url)
    try:
        centre = own.new_page()
        centre.goto(f"/preferences/{preference_token(customer=customer)}/")
        item = centre.locator("#purpose-marketing")
        expect(item).to_contain_text("Offers, cart reminders and discounts, at most weekly.")
        centre.get_by_role("button", name="Withdraw: Offers and reminders").click()
        expect(centre.get_by_role("status")).to_contain_text("Saved")
    finally:
        own.close()
    assert customer.consents.get().wording.version == 2


def test_a_customer_withdraws_marketing_and_the_agents_view_updates(page, login, agent, browser, live_server):
    # given a customer who granted marketing and left a cart behind, whose ticket an agent has open
    ticket = TicketFactory(customer=CustomerFactory(first_name="Maria", last_name="Lopez"), channel=Channel.EMAIL)
    customer = ticket.customer
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
    for code in ("marketing", "behavioral_tracking"):
        consent_record(customer=customer, purpose=code, granted=True, source="customer")
    Event.objects.create(customer=customer, kind=Event.Kind.CART_ABANDONED, payload={"items": ["Hat"]})
    login("agent", "pw-agent")
    page.goto(f"/tickets/{ticket.pk}/")
    badge = page.locator(".consent", has_text="Offers and reminders").first
    expect(badge).to_contain_text("granted")
    expect(badge).not_to_contain_text("not granted")
    expect(page.locator("#suggestions li.suggestion[data-rule='cart_abandoned']")).to_have_count(1)

    # when the customer, in their own browser and not signed in, withdraws marketing
    own = browser.new_context(base_url=live_server.url)
    try:
        centre = own.new_page()
        centre.goto(f"/preferences/{preference_token(customer=customer)}/")
        expect(centre.get_by_role("heading", name="Your privacy choices")).to_be_visible()
        centre.get_by_role("button", name="Withdraw: Offers and reminders").click()
        expect(centre.get_by_role("status")).to_contain_text("Saved")
        expect(centre.locator('[data-purpose="marketing"]')).to_contain_text("You do not allow this.")
        expect(centre.get_by_role("button", name="Allow: Offers and reminders")).to_be_visible()
    finally:
        own.close()

    # then the agent's ticket page shows marketing not granted, and why the reminder is held back
    page.reload()
    marketing = page.locator(".consent", has_text="Offers and reminders").first
    expect(marketing).to_contain_text("not granted")
    expect(marketing).to_contain_text("via preference centre")
    expect(page.locator("#suggestions li.suggestion[data-rule='cart_abandoned']")).to_have_count(0)
    held_back = page.locator(".suggestions-blocked")
    held_back.locator("summary").click()
    expect(held_back).to_contain_text("Offers and reminders not granted (withdrawn")
    expect(held_back).to_contain_text("via preference centre")
    assert not consent.allows(Customer.objects.get(pk=customer.pk), "marketing")


def test_an_agent_records_a_choice_the_customer_stated(page, login, agent):
    # given a conversation where the customer asks for no more offers
    message = MessageFactory(body="Please do not send me any more offers.")
    customer = message.ticket.customer
    consent_record(customer=customer, purpose="marketing", granted=True, source="customer")
    login("agent", "pw-agent")
    page.goto(f"/tickets/{message.ticket_id}/")

    # when the agent records it from the ticket page, linked to that message
    page.get_by_text("Record a consent choice the customer stated").click()
    form = page.locator(f"#agent-decision-{customer.pk}")
    form.get_by_label("Purpose").select_option("marketing")
    form.get_by_label("withdraws it").check()
    expect(form.get_by_label("Said in")).to_have_value(str(message.pk))
    form.get_by_role("button", name="Record the customer's choice").click()

    # then it is recorded in place, saying where it was said
    expect(page.locator(".agent-decision .flash-success")).to_contain_text(
        f"message {message.pk} on ticket {message.ticket_id}"
    )
    assert not consent.allows(customer, "marketing")
    page.locator(f"#agent-decision-{customer.pk}").get_by_role("link", name="Get the preference-centre link").click()
    link = page.get_by_label("Preference-centre link (copy it into a reply on any channel)")
    expect(link).to_have_value(re.compile(r"/preferences/[^/]+/$"))
    assert preference_customer(token=link.input_value().rstrip("/").rsplit("/", 1)[-1]) == customer


def test_an_admin_erases_a_customer_and_reads_the_result(page, login, admin_user):
    customer = CustomerFactory(first_name="Zebulon", last_name="Quixworth")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="zq@example.org")
    login("admin", "pw-admin")
    page.goto(f"/privacy/customers/{customer.pk}/")
    expect(page.get_by_role("heading", name="Zebulon Quixworth")).to_be_visible()

    erase = page.get_by_role("region", name="Erase this customer")
    erase.get_by_label("Why").fill("Erasure request received by email on 3 May")
    erase.get_by_label("Type ERASE to confirm").fill("ERASE")
    erase.get_by_role("button", name="Erase customer").click()

    expect(page.get_by_text("The customer was erased.")).to_be_visible()
    page.get_by_role("link", name=f"Back to customer #{customer.pk}").click()
    expect(page.get_by_role("heading", name="Erased customer")).to_be_visible()
    assert Customer.objects.get(pk=customer.pk).erased
