"""The mail server down while a real worker delivers a reply: the task retries with growing
waits, then the message is marked failed with the error, shown on the ticket with a retry
button; once the server is back, that button delivers it, once. Nothing is dropped silently.

The backoff starts at 0.2 s here (``DESK_DELIVERY_RETRY_SECONDS``; 30 s in production)."""

import re

import pytest
from django.db import transaction
from django.urls import reverse

from customers.models import Channel
from tests.factories import ContactPointFactory, CustomerFactory, TicketFactory
from tests.integration.conftest import WORKER, _forget_queue, tasks_sent_to, worker_start, worker_stop
from tests.integration.local_servers import LocalSMTP, wait_for
from tickets import services, tasks
from tickets.models import Message

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_with_the_mail_server_down_a_reply_retries_then_fails_visibly_and_the_retry_button_sends_it(
    request, broker_url, database_url, tmp_path, agent, client
):
    # given a worker whose mail server is down
    smtp = LocalSMTP()  # its port is reserved but nothing listens yet
    worker = worker_start(
        broker_url=broker_url,
        database_url=database_url,
        directory=tmp_path,
        env={"EMAIL_URL": smtp.url, "DESK_DELIVERY_RETRY_SECONDS": "0.2", "EMAIL_TIMEOUT": "5"},
    )
    request.node.stash[WORKER] = worker
    customer = CustomerFactory(first_name="Lena")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="lena@example.com")
    ticket = TicketFactory(customer=customer, subject="Broken zip on jacket", channel=Channel.EMAIL)
    try:
        with tasks_sent_to(worker.queue):
            # when an agent replies
            with transaction.atomic():
                message = services.ticket_reply(ticket=ticket, author=agent, body="A new jacket is on its way.")

            # then the worker retries with doubling waits, and after the last retry marks it failed
            wait_for(
                lambda: Message.objects.get(pk=message.pk).delivery == Message.Delivery.FAILED,
                what="the reply to be marked failed",
                seconds=60,
            )
            waits = [float(s) for s in re.findall(r"retry: Retry in ([0-9.]+)s", worker.log_text())]
            assert waits == [0.2, 0.4, 0.8, 1.6, 3.2][: tasks.MAX_DELIVERY_RETRIES]
            message.refresh_from_db()
            assert "Connection refused" in message.delivery_error
            assert message.body == "A new jacket is on its way."

            # and the agent sees it failed, with the reason and a retry button
            client.force_login(agent)
            page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
            assert "Not delivered: " in page and "Connection refused" in page
            retry_url = reverse("tickets:message_retry", args=[message.pk])
            assert f'action="{retry_url}"' in page and "Retry delivery" in page

            # when the server is back and the agent presses retry
            smtp.start()
            response = client.post(retry_url)
            assert response.status_code == 302

            # then it is delivered, once
            wait_for(
                lambda: Message.objects.get(pk=message.pk).delivery == Message.Delivery.SENT,
                what="the retried reply to be delivered",
            )
        [(recipients, mail)] = smtp.inbox.received
        assert recipients == ["lena@example.com"]
        assert mail["Subject"] == f"Re: Broken zip on jacket [#{ticket.pk}]"
        message.refresh_from_db()
        assert message.delivery_error == "" and message.sent_at is not None
    finally:
        worker_stop(worker)
        smtp.stop()
        _forget_queue(broker_url, worker.queue)
