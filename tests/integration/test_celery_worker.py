"""A real Celery worker on Redis runs the desk's tasks end to end."""

import time

import pytest
from django.db import transaction

from customers.models import Channel
from tickets import services, tasks
from tickets.models import Message
from tests.factories import ContactPointFactory, CustomerFactory, TicketFactory

pytestmark = pytest.mark.integration


def _wait_for(predicate, *, seconds: float = 30.0, log=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail("Timed out waiting for the worker." + (f"\nWorker log:\n{log.read_text()}" if log else ""))


def test_a_worker_answers_a_task(celery_worker_process):
    result = tasks.ping.apply_async(args=["desk"], queue=celery_worker_process["queue"])

    assert result.get(timeout=30) == "pong:desk"


def test_a_reply_is_delivered_by_the_worker(celery_worker_process, agent):
    # given a customer reachable by email and a ticket
    customer = CustomerFactory(first_name="Ana")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="ana@example.com")
    ticket = TicketFactory(customer=customer, subject="Late parcel")

    # when an agent replies (delivery is queued on commit)
    with transaction.atomic():
        message = services.ticket_reply(ticket=ticket, author=agent, body="It ships today.", channel="email")

    # then the worker delivers it and marks it sent
    _wait_for(
        lambda: Message.objects.get(pk=message.pk).delivery == Message.Delivery.SENT,
        log=celery_worker_process["log"],
    )
    mails = list(celery_worker_process["mail_dir"].iterdir())
    assert len(mails) == 1
    sent = mails[0].read_text()
    assert "To: ana@example.com" in sent
    assert "Late parcel" in sent
