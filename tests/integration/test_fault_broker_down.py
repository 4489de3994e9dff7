"""The broker down while agents reply and mail arrives by webhook: every reply and every delivery
is stored and answered normally, and once the broker is back the beat sweeper (``outbox_sweep``)
enqueues the stranded replies and the outbound webhooks the new tickets raised, which a real
worker then delivers once each.

The broker is a throwaway ``redis-server`` on a port of its own (the shared one is never
stopped); the worker and this process both use it as their broker.
"""

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from customers.models import Channel
from supportdesk.models import WebhookDelivery, WebhookOutbox, WebhookSubscription
from supportdesk.webhook_signatures import signature_headers
from tests.factories import ContactPointFactory, CustomerFactory, TicketFactory
from tests.integration.conftest import (
    MAIL_FILE_SEPARATOR,
    WORKER,
    tasks_sent_to,
    worker_start,
    worker_stop,
)
from tests.integration.local_servers import LocalRedis, wait_for
from tickets import tasks
from tickets.models import Message, Ticket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@contextmanager
def producing_to(url: str) -> Iterator[None]:
    """Make this process publish tasks to the broker at ``url`` (its connection pools rebuilt)."""
    from supportdesk.celery import app

    def reset() -> None:
        # Only drop the app's references: kombu keeps one pool per broker URL for the whole
        # process, and closing the shared broker's would break every later test's tasks.
        app._pool = None
        app.amqp._producer_pool = None

    # Celery reads CELERY_BROKER_URL from the environment before its own settings.
    previous = os.environ.get("CELERY_BROKER_URL")
    reset()
    os.environ["CELERY_BROKER_URL"] = url
    try:
        assert app.connection_for_write().as_uri().endswith(f":{url.rsplit(':', 1)[1]}")
        yield
    finally:
        reset()
        if previous is None:
            del os.environ["CELERY_BROKER_URL"]
        else:
            os.environ["CELERY_BROKER_URL"] = previous


def _inbound_email(number: int) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Buyer {number} <buyer{number}@example.org>"
    mail["To"] = "support@desk.example.com"
    mail["Subject"] = f"Order {9000 + number} has not arrived"
    mail["Message-ID"] = f"<broker-down-{number}@mail.example.org>"
    mail["Date"] = format_datetime(timezone.now())
    mail.set_content(f"Hello, order {9000 + number} is late.")
    return bytes(mail)


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records every webhook POSTed to it."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.posts.append((self.headers["X-Desk-Delivery"], self.headers["X-Desk-Event"], json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/desk"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_with_the_broker_down_nothing_is_lost_and_all_goes_out_once_it_is_back(
    request, database_url, tmp_path, agent, client, settings
):
    # given a broker of our own with a worker on it, three tickets to reply to, and a system
    # subscribed to new tickets
    settings.DESK_WEBHOOK_SECRETS = {**settings.DESK_WEBHOOK_SECRETS, "email": "email-secret"}
    broker = LocalRedis(tmp_path)
    broker.start()
    receiver = Receiver()
    WebhookSubscription.objects.create(url=receiver.url, events=["ticket.created"], secret="hook-secret")
    worker = worker_start(
        broker_url=broker.url,
        database_url=database_url,
        directory=tmp_path,
        env={"DESK_WEBHOOKS_OUT_ALLOW_PRIVATE": "true"},
    )
    request.node.stash[WORKER] = worker
    tickets = []
    for number in range(3):
        customer = CustomerFactory(first_name=f"Reader{number}")
        ContactPointFactory(customer=customer, channel=Channel.EMAIL, value=f"reader{number}@example.com")
        tickets.append(TicketFactory(customer=customer, subject=f"Question {number}", channel=Channel.EMAIL))
    client.force_login(agent)
    try:
        with producing_to(broker.url), tasks_sent_to(worker.queue):
            # when the broker goes down
            broker.stop()

            # and agents reply: each request answers as usual (the reply is stored, queued)
            for ticket in tickets:
                response = client.post(
                    reverse("tickets:reply", args=[ticket.pk]), {"body": f"About {ticket.subject}", "channel": "email"}
                )
                assert response.status_code == 302, response.content.decode()[:500]
            # and mail arrives by webhook: each delivery is stored and answered 200
            for number in range(2):
                body = _inbound_email(number)
                headers = signature_headers(secret="email-secret", body=body, delivery_id=f"broker-down-{number}")
                response = client.post("/webhooks/email/", data=body, content_type="message/rfc822", headers=headers)
                assert response.status_code == 200, response.content.decode()[:500]

            replies = Message.objects.filter(direction=Message.Direction.OUTBOUND)
            assert sorted(replies.values_list("delivery", flat=True)) == [Message.Delivery.QUEUED] * 3
            assert WebhookDelivery.objects.filter(source="email").count() == 2
            assert Ticket.objects.filter(subject__startswith="Order 900").count() == 2
            assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 2
            outbox = WebhookOutbox.objects.filter(event="ticket.created")
            assert list(outbox.values_list("status", flat=True)) == [WebhookOutbox.Status.QUEUED] * 2

            # when the broker is back and the beat sweeper runs after the stale delay
            broker.start()
            waited = timedelta(seconds=settings.DESK_OUTBOX_STALE_SECONDS + 1)
            replies.update(created_at=F("created_at") - waited)
            outbox.update(created_at=F("created_at") - waited)
            swept = tasks.outbox_sweep.delay()

            # then it re-enqueued the three replies and the two webhooks, and the worker
            # delivered each once
            assert swept.get(timeout=60) == 5
            wait_for(
                lambda: (
                    replies.filter(delivery=Message.Delivery.SENT).count() == 3
                    and outbox.filter(status=WebhookOutbox.Status.SENT).count() == 2
                ),
                what="the three replies and two webhooks to be delivered",
                seconds=60,
            )
            # and a second sweep finds nothing left to send
            assert tasks.outbox_sweep.delay().get(timeout=30) == 0
        assert list(replies.values_list("delivery_attempts", flat=True)) == [1, 1, 1]
        assert sorted(delivery for delivery, _event, _body in receiver.posts) == sorted(
            outbox.values_list("delivery_id", flat=True)
        )
        assert sorted(body["data"]["subject"] for _d, _e, body in receiver.posts) == [
            "Order 9000 has not arrived",
            "Order 9001 has not arrived",
        ]
        mails = [
            chunk
            for path in worker.mail_dir.iterdir()
            for chunk in path.read_text().split(MAIL_FILE_SEPARATOR)
            if chunk.strip()
        ]
        recipients = sorted(line for mail in mails for line in mail.splitlines() if line.startswith("To: "))
        assert recipients == [f"To: reader{number}@example.com" for number in range(3)]
    finally:
        worker_stop(worker)
        broker.stop()
        receiver.close()
