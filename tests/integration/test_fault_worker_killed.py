"""A Celery worker killed (SIGKILL) in the middle of delivering a reply: the task runs again and
the customer gets the mail once.

The mail server is a real SMTP server (aiosmtpd) that holds the first message without answering,
so the worker is provably inside the task when it is killed. Two ways to die:
- the pool's child process is killed: the worker sees it lost and, with ``acks_late`` and
  ``task_reject_on_worker_lost``, puts the task back at once;
- the whole worker is killed: nothing is acknowledged, and Redis hands the task to the next
  worker once the visibility timeout has passed (shortened here, 3 hours in production).
"""

import json
import os
import signal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from customers.models import Channel
from tests.factories import ContactPointFactory, CustomerFactory, TicketFactory
from tests.integration.conftest import WORKER, _forget_queue, tasks_sent_to, worker_start, worker_stop
from tests.integration.local_servers import HoldingInbox, LocalSMTP, wait_for
from tickets import services, tasks
from tickets.models import Message

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stalling_smtp():
    server = LocalSMTP(HoldingInbox())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def ticket():
    customer = CustomerFactory(first_name="Ines")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="ines@example.com")
    return TicketFactory(customer=customer, subject="Refund for order 7781", channel=Channel.EMAIL)


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _reply(ticket, agent) -> Message:
    with transaction.atomic():
        return services.ticket_reply(ticket=ticket, author=agent, body="Your refund is on its way.")


def _sent_once(smtp: LocalSMTP, message: Message) -> None:
    wait_for(
        lambda: Message.objects.get(pk=message.pk).delivery == Message.Delivery.SENT,
        what=f"message {message.pk} to be delivered after the kill",
        seconds=60,
    )
    message.refresh_from_db()
    # The held first attempt was never accepted; the second was, and only it.
    assert smtp.inbox.attempts == 2
    [(recipients, mail)] = smtp.inbox.received
    assert recipients == ["ines@example.com"]
    assert mail["Message-ID"] == message.external_id
    assert message.delivery_attempts == 1  # the killed attempt's transaction rolled back


def test_a_killed_pool_process_puts_the_task_back_and_the_mail_goes_once(
    request, broker_url, database_url, tmp_path, stalling_smtp, ticket, agent
):
    # given a prefork worker (tasks run in a child process) and a mail server that stalls
    worker = worker_start(
        broker_url=broker_url,
        database_url=database_url,
        directory=tmp_path,
        pool="prefork",
        env={"EMAIL_URL": stalling_smtp.url},
    )
    request.node.stash[WORKER] = worker
    try:
        with tasks_sent_to(worker.queue):
            message = _reply(ticket, agent)
            wait_for(stalling_smtp.inbox.holding.is_set, what="the worker to start sending the mail")

            # when the child running the task is killed in the middle of it
            [child] = _children(worker.process.pid)
            os.kill(child, signal.SIGKILL)

            # then the worker notices, puts the task back, a new child runs it, the mail goes once
            _sent_once(stalling_smtp, message)
        log = worker.log_text()
        assert "WorkerLostError" in log and "signal 9" in log
        assert log.count("tickets.tasks.message_deliver[") >= 2
    finally:
        worker_stop(worker)
        _forget_queue(broker_url, worker.queue)


def test_a_killed_worker_leaves_the_task_to_the_next_one_and_the_mail_goes_once(
    request, broker_url, database_url, tmp_path, stalling_smtp, ticket, agent
):
    # given a worker, and a mail server that stalls
    first = worker_start(
        broker_url=broker_url, database_url=database_url, directory=tmp_path, env={"EMAIL_URL": stalling_smtp.url}
    )
    request.node.stash[WORKER] = first
    second = None
    try:
        with tasks_sent_to(first.queue):
            message = _reply(ticket, agent)
            wait_for(stalling_smtp.inbox.holding.is_set, what="the worker to start sending the mail")

            # when the whole worker is killed in the middle of the task (nothing acknowledged)
            os.killpg(first.process.pid, signal.SIGKILL)
            first.process.wait(timeout=10)

            # then the next worker on the queue gets the task once the visibility timeout is
            # over (two seconds here), and the mail goes once
            options = {"visibility_timeout": 2, "unacked_restore_interval": 1, "unacked_restore_throttle": 1}
            second = worker_start(
                broker_url=broker_url,
                database_url=database_url,
                directory=tmp_path,
                queue=first.queue,
                name="second",
                env={"EMAIL_URL": stalling_smtp.url, "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps(options)},
            )
            request.node.stash[WORKER] = second
            _sent_once(stalling_smtp, message)
        assert "tickets.tasks.message_deliver[" in second.log_text()
    finally:
        worker_stop(first)
        if second is not None:
            worker_stop(second)
        _forget_queue(broker_url, first.queue)


def test_the_visibility_timeout_outlasts_every_task_and_retry_countdown():
    # A task waiting for its retry sits unacknowledged in the worker; if the broker's visibility
    # timeout ran out first, Redis would hand it to a second worker and it would run twice.
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    longest_countdown = max(tasks.DELIVERY_RETRY_MAX_SECONDS, tasks.WEBHOOK_RETRY_MAX_SECONDS)

    assert timeout > longest_countdown
    assert timeout > settings.CELERY_TASK_TIME_LIMIT
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert tasks.message_deliver.acks_late and tasks.webhook_deliver.acks_late
