"""A real Celery worker on Redis runs the desk's tasks end to end: it answers a ping through the
result backend, and delivers an agent's reply that was queued when the transaction committed."""

import time
import uuid
from collections.abc import Callable
from email import message_from_string, policy

import pytest
from django.db import transaction

from customers.models import Channel
from tests.factories import ContactPointFactory, CustomerFactory, TicketFactory
from tickets import services, tasks
from tickets.models import Message

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# The file backend writes one file per connection, messages separated by a line of 79 dashes.
MAIL_SEPARATOR = "\n" + "-" * 79 + "\n"


def _wait_for(predicate: Callable[[], bool], *, what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {seconds:.0f} s waiting for {what}.", pytrace=False)
        time.sleep(0.2)


def test_a_worker_answers_a_task(celery_worker_process):
    # given a worker on its own queue
    token = uuid.uuid4().hex

    # when a task is sent to the broker
    result = tasks.ping.delay(token)

    # then that worker ran it and its answer comes back through the result backend
    assert result.get(timeout=30) == f"pong:{token}"
    assert f"tickets.tasks.ping[{result.id}]" in celery_worker_process.log_text()


def test_a_reply_is_delivered_by_the_worker(celery_worker_process, agent):
    # given a customer reachable by email and a ticket
    customer = CustomerFactory(first_name="Ana", last_name="Ruiz")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="ana.ruiz@example.com")
    ticket = TicketFactory(customer=customer, subject="Late parcel to Valencia", channel=Channel.EMAIL)

    # when an agent replies (the message is stored queued; delivery is enqueued on commit)
    with transaction.atomic():
        message = services.ticket_reply(ticket=ticket, author=agent, body="It ships today.", channel=Channel.EMAIL)
        assert message.delivery == Message.Delivery.QUEUED

    # then the worker process delivers it and marks it sent
    _wait_for(
        lambda: Message.objects.get(pk=message.pk).delivery != Message.Delivery.QUEUED,
        what=f"message {message.pk} to leave the queue",
    )
    message.refresh_from_db()
    assert message.delivery == Message.Delivery.SENT, message.delivery_error
    assert message.sent_at is not None and message.delivery_attempts == 1
    assert "tickets.tasks.message_deliver[" in celery_worker_process.log_text()

    # and the email it wrote is addressed to the customer, about the ticket
    files = sorted(celery_worker_process.mail_dir.iterdir())
    mails = [
        message_from_string(chunk, policy=policy.default)
        for path in files
        for chunk in path.read_text().split(MAIL_SEPARATOR)
        if chunk.strip()
    ]
    assert len(mails) == 1, [mail["Subject"] for mail in mails]
    [mail] = mails
    assert mail["To"] == "ana.ruiz@example.com"
    assert "Late parcel to Valencia" in mail["Subject"]
    assert "It ships today." in mail.get_body(preferencelist=("plain",)).get_content()
