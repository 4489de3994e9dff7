from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import consent
from customers.models import Channel, ConsentPurpose, ConsentRecord
from tests.factories import ContactPointFactory, CustomerFactory, MacroFactory, OrderFactory, TicketFactory
from tickets.macros import macro_context, macro_render, placeholders_in
from tickets.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket():
    customer = CustomerFactory(first_name="Maria", last_name="López", preferred_name="")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
    OrderFactory(customer=customer, number="1041", placed_at=timezone.now() - timedelta(days=9))
    OrderFactory(customer=customer, number="1042", placed_at=timezone.now() - timedelta(days=2))
    return TicketFactory(customer=customer, subject="Boots")


def _render(body, ticket, agent, purpose=""):
    return macro_render(body=body, context=macro_context(ticket=ticket, agent=agent), purpose=purpose)


def test_allowed_placeholders_are_filled_from_the_customer_order_agent_and_ticket(ticket, agent):
    body = (
        "Hi {{ customer.first_name }}, order {{order.number}} is on its way. #{{ ticket.id }} — {{ agent.first_name }}"
    )

    rendered = _render(body, ticket, agent)

    assert rendered.text == f"Hi Maria, order 1042 is on its way. #{ticket.pk} — Agent"
    assert rendered.sendable
    assert [s.text for s in rendered.segments if s.kind == "filled"] == ["Maria", "1042", str(ticket.pk), "Agent"]


def test_an_unknown_placeholder_is_flagged_kept_and_blocks_sending(ticket, agent):
    rendered = _render("Hello {{ customer.shoe_size }} and {{ customer.first_name|upper }}", ticket, agent)

    assert rendered.text == "Hello {{ customer.shoe_size }} and {{ customer.first_name|upper }}"
    assert rendered.unknown == ["customer.shoe_size", "customer.first_name|upper"]
    assert not rendered.sendable
    assert "Unknown placeholder {{ customer.shoe_size }}" in rendered.problems[0]


def test_a_placeholder_without_a_value_is_never_sent_blank(agent):
    ticket = TicketFactory(customer=CustomerFactory(first_name="Ana"))

    rendered = _render("Your order {{ order.number }}", ticket, agent)

    assert rendered.empty == ["order.number"]
    assert not rendered.sendable
    assert rendered.text == "Your order {{ order.number }}"


def test_template_tags_and_attribute_tricks_are_not_evaluated(ticket, agent):
    body = "{% load static %}{{ customer.__class__ }}{{ ticket.customer.orders.all }}"

    rendered = _render(body, ticket, agent)

    assert rendered.text == body
    assert len(rendered.unknown) == 3


def test_customer_data_is_inserted_as_text_and_not_expanded_again(agent):
    customer = CustomerFactory(first_name="{{ agent.first_name }}<script>")
    ticket = TicketFactory(customer=customer)

    rendered = _render("Hi {{ customer.first_name }}", ticket, agent)

    assert rendered.text == "Hi {{ agent.first_name }}<script>"
    assert rendered.sendable


def test_a_macro_serving_a_purpose_is_refused_without_consent(ticket, agent):
    refused = _render("An offer for you", ticket, agent, purpose=consent.MARKETING)
    ConsentRecord.objects.create(
        customer=ticket.customer,
        purpose=ConsentPurpose.objects.get(code=consent.MARKETING),
        granted=True,
        source=ConsentRecord.Source.CUSTOMER,
    )
    allowed = _render("An offer for you", ticket, agent, purpose=consent.MARKETING)

    assert not refused.sendable and "has not agreed to marketing" in refused.refusal
    assert allowed.sendable


def test_placeholders_in_lists_what_is_left():
    assert placeholders_in("a {{ x }} b {% if %}") == ["x", "% if %"]


class TestComposer:
    def test_the_preview_shows_the_filled_text_and_flags_problems(self, agent_client, ticket):
        macro = MacroFactory(body="Hi {{ customer.first_name }}, {{ customer.nickname }}")

        html = agent_client.get(
            reverse("tickets:macro_preview", args=[ticket.pk]), {"macro_pick": macro.pk}
        ).content.decode()

        assert '<mark class="filled">Maria</mark>' in html
        assert '<mark class="problem" title="Not filled">{{ customer.nickname }}</mark>' in html
        assert "Unknown placeholder {{ customer.nickname }}" in html

    def test_a_reply_with_a_placeholder_left_is_refused_with_a_clear_error(self, agent_client, ticket):
        response = agent_client.post(
            reverse("tickets:reply", args=[ticket.pk]),
            {"body": "Hello {{ customer.nickname }}", "channel": "email"},
        )

        assert response.status_code == 400
        assert "Replace the placeholder {{ customer.nickname }} before sending" in response.content.decode()
        assert not Message.objects.exists()

    def test_a_note_may_mention_placeholders(self, agent_client, ticket):
        agent_client.post(
            reverse("tickets:reply", args=[ticket.pk]),
            {"body": "Use {{ order.number }} in the macro", "channel": "email", "internal": "on"},
        )

        assert Message.objects.get().direction == Message.Direction.NOTE

    def test_a_marketing_macro_is_refused_without_consent_and_says_why(self, agent_client, ticket):
        macro = MacroFactory(body="10% off", purpose=consent.MARKETING)

        response = agent_client.post(
            reverse("tickets:reply", args=[ticket.pk]), {"body": "10% off", "channel": "email", "macro": macro.pk}
        )

        assert response.status_code == 400
        assert "has not agreed to marketing" in response.content.decode()
        assert not Message.objects.exists()

    def test_without_javascript_preview_fills_the_composer(self, agent_client, ticket):
        macro = MacroFactory(body="Hi {{ customer.name }}, about {{ order.number }}")

        response = agent_client.post(
            reverse("tickets:reply", args=[ticket.pk]),
            {"action": "preview", "macro_pick": macro.pk, "body": "", "channel": "email"},
        )

        html = response.content.decode()
        assert response.status_code == 200
        assert ">\nHi Maria, about 1042</textarea>" in html
        assert f'name="macro" value="{macro.pk}"' in html
        assert not Message.objects.exists()

    def test_sending_the_previewed_macro_text(self, agent_client, ticket, django_capture_on_commit_callbacks):
        macro = MacroFactory(body="Hi {{ customer.name }}")

        with django_capture_on_commit_callbacks(execute=True):
            response = agent_client.post(
                reverse("tickets:reply", args=[ticket.pk]),
                {"body": "Hi Maria", "channel": "email", "macro": macro.pk},
            )

        assert response.status_code == 302
        assert Message.objects.get().body == "Hi Maria"
