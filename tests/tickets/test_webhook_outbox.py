"""Outbound webhooks go through an outbox: stored with the change that raised them, marked
sent once, swept up again when their task never ran (the broker was down)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from supportdesk.models import WebhookOutbox, WebhookSubscription
from tests.factories import TicketFactory
from tickets import tasks, webhooks_out
from tickets.webhooks_out import WebhookSendError, webhook_event_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Replaces the HTTP POST: records each delivery instead."""
    calls: list[str] = []

    def fake_send(*, subscription_id, event, payload, delivery_id):
        calls.append(delivery_id)
        return 204

    monkeypatch.setattr(webhooks_out, "webhook_send", fake_send)
    return calls


@pytest.fixture
def subscriptions():
    return [
        WebhookSubscription.objects.create(url=f"https://hooks{n}.example.com/", events=["ticket.created"], secret="s")
        for n in range(2)
    ]


def test_an_event_is_stored_per_subscription_and_marked_sent_once_delivered(
    subscriptions, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_event_publish(event="ticket.created", ticket=TicketFactory()) == 2

    rows = list(WebhookOutbox.objects.order_by("id"))
    assert [row.subscription for row in rows] == subscriptions
    assert {row.status for row in rows} == {WebhookOutbox.Status.SENT}
    assert [row.attempts for row in rows] == [1, 1] and all(row.sent_at for row in rows)
    assert sorted(sent) == sorted(row.delivery_id for row in rows)


def test_a_repeated_task_for_a_sent_delivery_posts_nothing(subscriptions, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_publish(event="ticket.created", ticket=TicketFactory())
    row = WebhookOutbox.objects.first()

    assert tasks.webhook_deliver.apply(args=[row.subscription_id, row.event, row.payload, row.delivery_id]).get() == (
        "sent"
    )

    assert sent.count(row.delivery_id) == 1


def test_a_delivery_that_fails_for_good_is_marked_failed_with_the_reason(
    subscriptions, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(**kwargs):
        raise WebhookSendError("The endpoint answered 410.", permanent=True)

    monkeypatch.setattr(webhooks_out, "webhook_send", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_publish(event="ticket.created", ticket=TicketFactory())

    assert set(WebhookOutbox.objects.values_list("status", "last_error")) == {
        (WebhookOutbox.Status.FAILED, "The endpoint answered 410.")
    }


def test_the_sweep_resends_what_never_ran_and_leaves_retries_alone(subscriptions, sent, settings):
    # given deliveries stored while the broker was down (their tasks were never queued)
    old = timezone.now() - timedelta(seconds=settings.DESK_OUTBOX_STALE_SECONDS + 60)
    subscription = subscriptions[0]
    stranded = WebhookOutbox.objects.create(subscription=subscription, event="ticket.created", delivery_id="a")
    retrying = WebhookOutbox.objects.create(
        subscription=subscription, event="ticket.created", delivery_id="b", attempts=1, last_attempt_at=timezone.now()
    )
    fresh = WebhookOutbox.objects.create(subscription=subscription, event="ticket.created", delivery_id="c")
    WebhookOutbox.objects.filter(pk__in=[stranded.pk, retrying.pk]).update(created_at=old)

    # when the beat sweeper runs
    swept = tasks.outbox_sweep.apply().get()

    # then only the stranded one was sent; the retrying one waits for its retry, the fresh one for its task
    assert swept == 1 and sent == ["a"]
    assert WebhookOutbox.objects.get(pk=stranded.pk).status == WebhookOutbox.Status.SENT
    assert {WebhookOutbox.objects.get(pk=pk).status for pk in (retrying.pk, fresh.pk)} == {WebhookOutbox.Status.QUEUED}
