from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import Channel, Customer
from tests.factories import ContactPointFactory, CustomerFactory, TicketFactory
from tickets import services
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


class TestMessageReceive:
    def test_a_first_message_opens_a_ticket_for_a_new_customer(self):
        message = services.message_receive(
            channel=Channel.EMAIL,
            sender="Ana@Example.com",
            subject="Where is order 1042?",
            body="Hi, my boots have not arrived.",
            external_id="<m1@example.com>",
            first_name="Ana",
        )

        ticket = message.ticket
        assert ticket.subject == "Where is order 1042?"
        assert (ticket.status, ticket.channel) == (Ticket.Status.NEW, Channel.EMAIL)
        assert ticket.customer.first_name == "Ana"
        assert ticket.first_response_due_at == ticket.created_at + timedelta(hours=4)  # shipped normal policy
        assert ticket.customer.contact_points.get().value == "ana@example.com"

    def test_a_second_message_continues_the_open_ticket_on_that_channel(self):
        first = services.message_receive(channel=Channel.CHAT, sender="visitor-1", body="Hello?")
        second = services.message_receive(channel=Channel.CHAT, sender="visitor-1", body="Anyone there?")

        assert second.ticket_id == first.ticket_id
        assert Ticket.objects.count() == 1
        assert Customer.objects.count() == 1

    def test_another_channel_opens_its_own_ticket(self):
        customer = CustomerFactory()
        ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="a@example.com")
        ContactPointFactory(customer=customer, channel=Channel.PHONE, value="+14155550132")

        by_mail = services.message_receive(channel=Channel.EMAIL, sender="a@example.com", body="About my order")
        by_phone = services.message_receive(channel=Channel.PHONE, sender="+1 415 555 0132", body="Call notes")

        assert by_mail.ticket.customer == by_phone.ticket.customer == customer
        assert by_mail.ticket_id != by_phone.ticket_id

    def test_a_reply_to_a_solved_ticket_reopens_it(self):
        first = services.message_receive(channel=Channel.EMAIL, sender="a@example.com", body="Help")
        Ticket.objects.filter(pk=first.ticket_id).update(status=Ticket.Status.PENDING)

        services.message_receive(channel=Channel.EMAIL, sender="a@example.com", body="Still broken")

        assert Ticket.objects.get(pk=first.ticket_id).status == Ticket.Status.OPEN

    def test_the_same_message_delivered_twice_is_stored_once(self):
        kwargs = {"channel": Channel.EMAIL, "sender": "a@example.com", "body": "Hi", "external_id": "<x@y>"}
        first = services.message_receive(**kwargs)
        again = services.message_receive(**kwargs)

        assert again.pk == first.pk
        assert Message.objects.count() == 1

    def test_an_explicit_ticket_is_continued(self):
        ticket = services.message_receive(channel=Channel.EMAIL, sender="a@example.com", body="One").ticket
        services.ticket_update(ticket=ticket, actor=None, status=Ticket.Status.SOLVED)

        later = services.message_receive(channel=Channel.EMAIL, sender="a@example.com", body="Re: One", ticket=ticket)

        assert later.ticket_id == ticket.pk

    @pytest.mark.parametrize(
        ("field", "kwargs"),
        [
            ("channel", {"channel": "pigeon", "sender": "a@example.com", "body": "x"}),
            ("body", {"channel": Channel.EMAIL, "sender": "a@example.com", "body": "  "}),
        ],
    )
    def test_bad_input_names_the_field(self, field, kwargs):
        with pytest.raises(ValidationError) as error:
            services.message_receive(**kwargs)
        assert field in error.value.message_dict


class TestTicketReply:
    def test_a_reply_is_stored_queued_then_delivered_by_email(self, agent, django_capture_on_commit_callbacks):
        customer = CustomerFactory()
        ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="ana@example.com")
        ticket = TicketFactory(customer=customer, subject="Late boots")

        with django_capture_on_commit_callbacks(execute=True):
            message = services.ticket_reply(ticket=ticket, author=agent, body="They ship today.", channel="email")

        message.refresh_from_db()
        ticket.refresh_from_db()
        assert message.delivery == Message.Delivery.SENT
        assert message.external_id.startswith("<")
        assert mail.outbox[0].to == ["ana@example.com"]
        assert "Late boots" in mail.outbox[0].subject
        assert ticket.first_response_at is not None
        assert (ticket.status, ticket.assignee) == (Ticket.Status.OPEN, agent)

    def test_an_internal_note_is_never_delivered(self, agent, django_capture_on_commit_callbacks):
        ticket = TicketFactory()

        with django_capture_on_commit_callbacks(execute=True):
            note = services.ticket_reply(ticket=ticket, author=agent, body="Customer sounds upset", internal=True)

        assert (note.direction, note.delivery) == (Message.Direction.NOTE, "")
        assert mail.outbox == []
        ticket.refresh_from_db()
        assert ticket.first_response_at is None

    def test_a_reply_on_a_channel_the_customer_lacks_is_refused(self, agent):
        ticket = TicketFactory()  # the customer has no contact points

        with pytest.raises(ValidationError) as error:
            services.ticket_reply(ticket=ticket, author=agent, body="Hi", channel="phone")

        assert "channel" in error.value.message_dict
        assert not Message.objects.exists()

    def test_a_failed_delivery_is_visible_and_can_be_retried(self, agent, django_capture_on_commit_callbacks, settings):
        customer = CustomerFactory()
        ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="ana@example.com")
        ticket = TicketFactory(customer=customer)
        settings.EMAIL_BACKEND = "tests.tickets.test_services.BrokenBackend"

        with django_capture_on_commit_callbacks(execute=True):
            message = services.ticket_reply(ticket=ticket, author=agent, body="Hello", channel="email")
        message.refresh_from_db()
        assert message.delivery == Message.Delivery.FAILED
        assert "ConnectionRefusedError" in message.delivery_error

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        with django_capture_on_commit_callbacks(execute=True):
            services.message_delivery_retry(message=message)
        message.refresh_from_db()
        assert message.delivery == Message.Delivery.SENT
        assert len(mail.outbox) == 1


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_solving_records_who_and_when_and_reopening_clears_it(agent):
    ticket = TicketFactory()

    services.ticket_update(ticket=ticket, actor=agent, status=Ticket.Status.SOLVED)
    assert ticket.solved_by == agent and ticket.solved_at <= timezone.now()

    services.ticket_update(ticket=ticket, actor=agent, status=Ticket.Status.OPEN)
    ticket.refresh_from_db()
    assert ticket.solved_at is None and ticket.solved_by is None


def test_a_marketing_reply_needs_marketing_consent(agent):
    customer = CustomerFactory()
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="m@example.com")
    ticket = TicketFactory(customer=customer)

    with pytest.raises(ValidationError) as error:
        services.ticket_reply(ticket=ticket, author=agent, body="20% off!", channel="email", purpose="marketing")
    assert "purpose" in error.value.message_dict

    from customers.services import consent_record

    consent_record(customer=customer, purpose="marketing", granted=True, source="customer")
    sent = services.ticket_reply(ticket=ticket, author=agent, body="20% off!", channel="email", purpose="marketing")
    assert sent.delivery == Message.Delivery.QUEUED
