"""Outbound email through a real SMTP server (aiosmtpd on a local port): a reply arrives with the
right recipient, subject and Message-ID; with the server down it ends ``failed`` with the error,
is kept, and a retry delivers it once the server is back."""

import socket
from email import message_from_bytes
from email.message import Message as EmailMessage

import pytest
from django.test import override_settings

from customers.models import Channel
from tests.conftest import service_unavailable
from tests.factories import ContactPointFactory, CustomerFactory, TicketFactory
from tickets import services
from tickets.models import Message

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalSMTP:
    """A real SMTP server on a free local port that can be stopped and started again."""

    def __init__(self, controller_class) -> None:
        self.controller_class = controller_class
        self.inbox = Inbox()
        self.port = _free_port()
        self.controller = None

    def start(self) -> None:
        # A stopped aiosmtpd controller cannot restart; a new one takes the same port.
        self.controller = self.controller_class(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        service_unavailable("aiosmtpd is not installed")
    server = LocalSMTP(Controller)
    try:
        server.start()
    except OSError as exc:
        service_unavailable(f"cannot start a local SMTP server: {exc}")
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
