"""The customer's preference centre (signed link, public) and the agent's side: recording what the
customer stated in a conversation, and getting or sending the preference-centre link."""

import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from customers import consent
from customers.models import AuditEvent, Channel, ConsentPurpose, ConsentRecord
from customers.privacy.preferences import (
    PREFERENCE_SALT,
    preference_customer,
    preference_decide,
    preference_token,
    preference_url,
)
from customers.services import consent_record
from tests.factories import ContactPointFactory, CustomerFactory, MessageFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()


def _url(customer) -> str:
    return reverse("preference_centre", kwargs={"token": preference_token(customer=customer)})


class TestTheLink:
    def test_a_link_leads_to_its_customer(self):
        customer = CustomerFactory()
        assert preference_customer(token=preference_token(customer=customer)) == customer
        assert preference_url(customer=customer).startswith("http")

    def test_a_forged_link_leads_nowhere(self):
        forged = signing.dumps({"c": str(CustomerFactory().public_id)}, salt="another-salt")
        assert preference_customer(token=forged) is None
        assert preference_customer(token="garbage") is None

    @override_settings(DESK_PREFERENCE_LINK_MAX_AGE_DAYS=1)
    def test_an_old_link_expires(self, monkeypatch):
        customer = CustomerFactory()
        token = preference_token(customer=customer)
        later = timezone.now().timestamp() + 2 * 24 * 3600
        monkeypatch.setattr(signing.time, "time", lambda: later)
        assert preference_customer(token=token) is None

    def test_a_merged_customer_link_leads_to_the_survivor_and_an_erased_one_nowhere(self):
        survivor = CustomerFactory()
        merged = CustomerFactory(merged_into=survivor)
        erased = CustomerFactory(erased=True)
        assert preference_customer(token=preference_token(customer=merged)) == survivor
        assert preference_customer(token=preference_token(customer=erased)) is None

    def test_the_salt_is_the_preference_centres_own(self):
        customer = CustomerFactory()
        assert signing.loads(preference_token(customer=customer), salt=PREFERENCE_SALT)["c"] == str(customer.public_id)


class TestThePage:
    def test_the_customer_sees_every_active_purpose_in_plain_words(self, client):
        customer = CustomerFactory()
        ConsentPurpose.objects.filter(code="surveys").update(active=False)

        response = client.get(_url(customer))

        page = response.content.decode()
        assert response.status_code == 200
        assert "We may send you offers, reminders about your cart and discounts." in page
        assert "Offers and reminders" in page and "Satisfaction surveys" not in page
        assert response["Cache-Control"] == "private, no-store"

    def test_withdrawing_is_one_click_like_granting(self, client):
        # given a customer who granted marketing
        customer = CustomerFactory()
        consent_record(customer=customer, purpose="marketing", granted=True, source="customer")
        url = _url(customer)
        wording = ConsentPurpose.objects.get(code="marketing").wordings.get(version=1)

        # when they press Withdraw
        response = client.post(url, {"purpose": "marketing", "granted": "0", "wording": wording.pk})

        # then it is recorded as theirs, on the wording they saw, and the page says so
        assert response.status_code == 302
        assert not consent.allows(customer, "marketing")
        record = ConsentRecord.objects.filter(customer=customer).first()
        assert (record.source, record.wording, record.evidence) == ("customer", wording, "preference centre (en)")
        page = client.get(response["Location"]).content.decode()
        assert "Saved" in page and "Allow: Offers and reminders" in page

        # and granting again is the same single click
        client.post(url, {"purpose": "marketing", "granted": "1", "wording": wording.pk})
        assert consent.allows(customer, "marketing")

    def test_pressing_twice_records_one_decision(self, client):
        customer = CustomerFactory()
        url = _url(customer)
        for _ in range(2):
            client.post(url, {"purpose": "marketing", "granted": "1"})
        assert ConsentRecord.objects.filter(customer=customer).count() == 1

    def test_the_wording_seen_is_recorded_even_after_a_rewording(self):
        customer = CustomerFactory()
        marketing = ConsentPurpose.objects.get(code="marketing")
        seen = marketing.wordings.get(version=1)
        ConsentPurpose.objects.filter(pk=marketing.pk).update(description="New words.")

        record = preference_decide(customer=customer, purpose="marketing", granted=True, wording_id=seen.pk)

        assert record.wording == seen

    def test_the_page_speaks_the_customers_language_where_a_translation_exists(self, client):
        customer = CustomerFactory(locale="es")
        ConsentPurpose.objects.filter(code="marketing").update(
            translations={"es": {"name": "Ofertas y avisos", "description": "Podemos enviarte ofertas y descuentos."}}
        )

        response = client.get(_url(customer))

        page = response.content.decode()
        assert '<html lang="es">' in page
        assert "Ofertas y avisos" in page and "Podemos enviarte ofertas y descuentos." in page
        # a purpose without a translation falls back to the admin's wording
        assert "We keep a record of the pages and products you view in our store." in page
        # and the page's own words are Spanish (locale/es)
        assert "Your privacy choices" not in page and "Permitir: Ofertas y avisos" in page

    def test_a_bad_link_gets_a_plain_page(self, client):
        response = client.get(reverse("preference_centre", kwargs={"token": "not-a-token"}))
        assert response.status_code == 404
        assert b"This link does not work" in response.content

    @override_settings(DESK_PREFERENCE_RATE_LIMIT="3/60")
    def test_it_is_rate_limited(self, client):
        url = _url(CustomerFactory())
        statuses = [client.get(url).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]

    def test_an_unknown_purpose_is_refused(self, client):
        customer = CustomerFactory()
        response = client.post(_url(customer), {"purpose": "telepathy", "granted": "1"})
        assert response.status_code == 400
        assert b"no longer offered" in response.content
        assert not ConsentRecord.objects.filter(customer=customer).exists()


class TestAgents:
    def test_an_agent_records_what_the_customer_said_linked_to_the_message(self, client, agent):
        # given a customer who wrote "please stop sending me offers"
        message = MessageFactory(body="Please stop sending me offers")
        customer = message.ticket.customer
        client.force_login(agent)

        # when the agent records it from the conversation
        response = client.post(
            reverse("privacy:agent_decision", kwargs={"customer_id": customer.pk}),
            {"purpose": "marketing", "granted": "0", "message": message.pk, "next": f"/tickets/{message.ticket_id}/"},
        )

        # then the ledger holds it as stated to an agent, pointing at the message
        assert response.status_code == 302 and response["Location"] == f"/tickets/{message.ticket_id}/"
        record = ConsentRecord.objects.get(customer=customer)
        assert (record.source, record.actor, record.granted) == ("agent", agent, False)
        assert record.evidence == f"message {message.pk} on ticket {message.ticket_id}"
        assert consent.blocked_reason(customer, "marketing").endswith("as stated to an agent)")

    def test_a_message_of_another_customer_is_refused(self, client, agent):
        other = MessageFactory()
        customer = CustomerFactory()
        client.force_login(agent)
        response = client.post(
            reverse("privacy:agent_decision", kwargs={"customer_id": customer.pk}),
            {"purpose": "marketing", "granted": "1", "message": other.pk},
        )
        assert response.status_code == 400
        assert not ConsentRecord.objects.exists()

    def test_without_a_message_the_agent_says_where(self, client, agent):
        customer = CustomerFactory()
        client.force_login(agent)
        url = reverse("privacy:agent_decision", kwargs={"customer_id": customer.pk})

        assert client.post(url, {"purpose": "marketing", "granted": "1"}).status_code == 400
        client.post(url, {"purpose": "marketing", "granted": "1", "evidence": "phone call of 3 May"})

        assert ConsentRecord.objects.get(customer=customer).evidence == "phone call of 3 May"

    def test_with_htmx_the_partial_comes_back_updated(self, client, agent):
        message = MessageFactory()
        client.force_login(agent)
        response = client.post(
            reverse("privacy:agent_decision", kwargs={"customer_id": message.ticket.customer_id}),
            {"purpose": "marketing", "granted": "1", "message": message.pk},
            HTTP_HX_REQUEST="true",
        )
        page = response.content.decode()
        assert response.status_code == 200
        assert "Recorded: Offers and reminders granted" in page
        assert "Offers and reminders (now granted)" in page
        assert "<html" not in page

    def test_the_partial_renders_inside_a_conversation(self, rf, agent):
        from django.template.loader import render_to_string

        message = MessageFactory(body="Stop the offers please")
        ticket = message.ticket
        reply = MessageFactory(ticket=ticket, direction="outbound", body="Noted")
        request = rf.get(f"/tickets/{ticket.pk}/")
        request.user = agent
        html = render_to_string(
            "privacy/partials/agent_decision.html",
            {
                "customer": ticket.customer,
                "consents": consent.consent_states(ticket.customer),
                "thread": [message, reply],
            },
            request=request,
        )
        # the latest message from the customer comes first, so it is the one chosen unless changed
        options = re.findall(r'<option value="(\d*)">', html.split('name="message"')[1])
        assert options == [str(message.pk), ""]
        assert f'value="/tickets/{ticket.pk}/"' in html

    def test_an_agent_gets_and_sends_the_preference_link(self, client, agent, django_capture_on_commit_callbacks):
        customer = CustomerFactory(first_name="Maria", locale="en")
        ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
        client.force_login(agent)
        url = reverse("privacy:preference_link", kwargs={"customer_id": customer.pk})

        page = client.get(url, HTTP_HX_REQUEST="true").content.decode()
        assert "/preferences/" in page

        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, HTTP_HX_REQUEST="true")
        assert "Sent to maria@example.com" in response.content.decode()
        assert mail.outbox[-1].to == ["maria@example.com"]
        assert "/preferences/" in mail.outbox[-1].body and "Hello Maria," in mail.outbox[-1].body
        assert AuditEvent.objects.filter(action=AuditEvent.Action.PREFERENCE_LINK_SENT, customer=customer).exists()

    def test_the_email_speaks_the_customers_language(self, agent, django_capture_on_commit_callbacks):
        from customers.privacy.preferences import preference_link_send

        customer = CustomerFactory(first_name="Jean", locale="fr")
        ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="jean@example.fr")
        with django_capture_on_commit_callbacks(execute=True):
            preference_link_send(customer=customer, actor=agent)
        assert mail.outbox[-1].subject != "Your privacy choices"
        assert mail.outbox[-1].body.startswith("Bonjour Jean")

    def test_sending_needs_an_email_address(self, client, agent):
        customer = CustomerFactory()
        client.force_login(agent)
        response = client.post(reverse("privacy:preference_link", kwargs={"customer_id": customer.pk}))
        assert response.status_code == 400
        assert b"no email address" in response.content


def test_the_customer_page_badge_follows_the_preference_centre(client, agent):
    # given a customer whose consents the agent sees on the customer page
    ticket = TicketFactory()
    customer = ticket.customer
    consent_record(customer=customer, purpose="marketing", granted=True, source="customer")
    client.force_login(agent)
    detail = reverse("customers:detail", kwargs={"customer_id": customer.pk})
    assert "Offers and reminders: <strong>granted</strong>" in client.get(detail).content.decode()

    # when the customer withdraws marketing in the preference centre
    client.post(_url(customer), {"purpose": "marketing", "granted": "0"})

    # then the agent's view shows it withdrawn
    page = client.get(detail).content.decode()
    assert "Offers and reminders: <strong>not granted</strong>" in page


def test_old_decisions_do_not_expire(client):
    customer = CustomerFactory()
    consent_record(
        customer=customer,
        purpose="marketing",
        granted=True,
        source="import",
        recorded_at=timezone.now() - timedelta(days=3000),
    )
    assert consent.allows(customer, "marketing")


def test_an_agent_records_a_stated_choice_from_the_ticket_page(client, agent):
    # given a ticket where the customer asked to stop the offers
    message = MessageFactory(body="Please stop sending me offers")
    ticket = message.ticket
    consent_record(customer=ticket.customer, purpose="marketing", granted=True, source="customer")
    client.force_login(agent)

    # when the agent opens the ticket, the form offers the customer's message
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Record a consent choice the customer stated" in page
    assert f'<option value="{message.pk}">message {message.pk}' in page

    # and records the withdrawal from it
    response = client.post(
        f"/privacy/customers/{ticket.customer_id}/stated/",
        {"purpose": "marketing", "granted": "0", "message": message.pk, "next": f"/tickets/{ticket.pk}/"},
    )

    # then they are back on the ticket, and the ledger says who, how and where it was said
    assert response.status_code == 302 and response["Location"] == f"/tickets/{ticket.pk}/"
    record = ConsentRecord.objects.filter(customer=ticket.customer).latest("recorded_at", "id")
    assert (record.granted, record.source, record.actor) == (False, "agent", agent)
    assert record.evidence == f"message {message.pk} on ticket {ticket.pk}"
