"""Outbound email through a real SMTP server (aiosmtpd on a local port): a reply arrives with the
right recipient, subject and Message-ID; with the server down it ends ``failed`` with the error,
is kept, and a retry delivers it once the server is back."""

import pytest
from django.test import override_settings

from customers.models import Channel
from tests.factories import ContactPointFactory, CustomerFactory, TicketFactory
from tests.integration.local_servers import LocalSMTP
from tickets import services
from tickets.models import Message

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def smtp():
    server = LocalSMTP()
    server.start()
    settings = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": server.port,
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_TIMEOUT": 5,
    }
    with override_settings(**settings):
        yield server
    server.stop()


@pytest.fixture
def ticket():
    customer = CustomerFactory(first_name="Maria")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
    return TicketFactory(customer=customer, subject="Where are my boots?", channel=Channel.EMAIL)


def _reply(ticket, agent, body, capture) -> Message:
    with capture(execute=True):
        message = services.ticket_reply(ticket=ticket, author=agent, body=body, channel=Channel.EMAIL)
    message.refresh_from_db()
    return message


def test_a_reply_arrives_at_the_mail_server_and_is_marked_sent(smtp, ticket, agent, django_capture_on_commit_callbacks):
    message = _reply(ticket, agent, "Your boots ship today.", django_capture_on_commit_callbacks)

    assert message.delivery == Message.Delivery.SENT and message.sent_at is not None
    [(recipients, mail)] = smtp.inbox.received
    assert recipients == ["maria@example.com"]
    assert mail["To"] == "maria@example.com"
    assert mail["Subject"] == f"Re: Where are my boots? [#{ticket.pk}]"
    assert mail["Message-ID"] == message.external_id and message.external_id.startswith("<")
    assert "Your boots ship today." in mail.get_payload(decode=True).decode()


def test_with_the_server_down_the_reply_fails_visibly_and_is_not_lost(
    smtp, ticket, agent, django_capture_on_commit_callbacks
):
    smtp.stop()

    failed = _reply(ticket, agent, "Sorry for the wait.", django_capture_on_commit_callbacks)

    assert failed.delivery == Message.Delivery.FAILED
    assert failed.delivery_error  # e.g. ConnectionRefusedError: [Errno 111] Connection refused
    assert Message.objects.get(pk=failed.pk).body == "Sorry for the wait."

    smtp.start()
    with django_capture_on_commit_callbacks(execute=True):
        services.message_delivery_retry(message=failed)
    failed.refresh_from_db()

    assert failed.delivery == Message.Delivery.SENT
    assert [mail["Subject"] for _to, mail in smtp.inbox.received] == [f"Re: Where are my boots? [#{ticket.pk}]"]
