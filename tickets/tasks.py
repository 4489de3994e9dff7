"""Celery tasks: thin, idempotent wrappers over services, taking ids."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from . import services
from .models import Message

MAX_DELIVERY_RETRIES = 5
# The longest wait before a retry; the broker's visibility timeout must be longer (settings).
DELIVERY_RETRY_MAX_SECONDS = 1800


@shared_task(bind=True, acks_late=True, max_retries=MAX_DELIVERY_RETRIES)
def message_deliver(self, message_id: int) -> str:
    """Deliver a queued outbound message; retry with exponential backoff, then mark failed."""
    try:
        message = services.message_deliver_now(message_id=message_id)
    except Message.DoesNotExist:
        return "missing"
    except Exception as exc:
        if self.request.retries >= self.max_retries or self.request.is_eager:
            services.message_delivery_failed(message_id=message_id, error=f"{type(exc).__name__}: {exc}")
            return "failed"
        countdown = min(settings.DESK_DELIVERY_RETRY_SECONDS * 2**self.request.retries, DELIVERY_RETRY_MAX_SECONDS)
        raise self.retry(exc=exc, countdown=countdown) from exc
    return message.delivery


@shared_task(acks_late=True)
def outbox_sweep() -> int:
    """Re-enqueue outbound messages and webhooks stuck in the queue (e.g. stored while the broker
    was down); returns how many. A webhook under retry is left to its own retries."""
    from supportdesk.models import WebhookOutbox

    now = timezone.now()
    stale = now - timedelta(seconds=settings.DESK_OUTBOX_STALE_SECONDS)
    ids = list(
        Message.objects.filter(delivery=Message.Delivery.QUEUED, created_at__lt=stale).values_list("id", flat=True)[
            :500
        ]
    )
    for message_id in ids:
        message_deliver.delay(message_id)
    abandoned = stale - timedelta(seconds=WEBHOOK_RETRY_MAX_SECONDS)
    webhooks = list(
        WebhookOutbox.objects.filter(status=WebhookOutbox.Status.QUEUED, created_at__lt=stale)
        .filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=abandoned))
        .order_by("created_at")[:500]
    )
    for row in webhooks:
        webhook_deliver.delay(row.subscription_id, row.event, row.payload, row.delivery_id)
    return len(ids) + len(webhooks)


@shared_task
def ping(value: str) -> str:
    """A task with no side effects, used to check that workers answer."""
    return f"pong:{value}"


from . import csat_tasks, dashboard_tasks, sla_tasks  # noqa: E402, F401  (registers them with Celery)

WEBHOOK_MAX_RETRIES = 8
WEBHOOK_RETRY_MAX_SECONDS = 3600


@shared_task(bind=True, acks_late=True, max_retries=WEBHOOK_MAX_RETRIES)
def webhook_deliver(self, subscription_id: int, event: str, payload: dict, delivery_id: str) -> str:
    """POST one signed outbound webhook; retry transient failures with exponential backoff.

    The same ``delivery_id`` is sent on every attempt, so the receiver can ignore repeats.
    """
    from .webhooks_out import WebhookSendError, webhook_outbox_record, webhook_outbox_sent_already, webhook_send

    if webhook_outbox_sent_already(delivery_id=delivery_id):
        return "sent"
    try:
        webhook_send(subscription_id=subscription_id, event=event, payload=payload, delivery_id=delivery_id)
    except WebhookSendError as exc:
        final = exc.permanent or self.request.is_eager or self.request.retries >= self.max_retries
        webhook_outbox_record(delivery_id=delivery_id, error=str(exc), final=final)
        if final:
            return f"failed: {exc}"
        raise self.retry(exc=exc, countdown=min(60 * 2**self.request.retries, WEBHOOK_RETRY_MAX_SECONDS)) from exc
    webhook_outbox_record(delivery_id=delivery_id)
    return "sent"
