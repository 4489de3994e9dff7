"""Celery tasks: thin, idempotent wrappers over services, taking ids."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from . import services
from .models import Message

MAX_DELIVERY_RETRIES = 5


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
        raise self.retry(exc=exc, countdown=min(30 * 2**self.request.retries, 1800)) from exc
    return message.delivery


@shared_task(acks_late=True)
def outbox_sweep() -> int:
    """Re-enqueue outbound messages stuck in the queue (e.g. queued while the broker was down)."""
    stale = timezone.now() - timedelta(minutes=10)
    ids = list(
        Message.objects.filter(delivery=Message.Delivery.QUEUED, created_at__lt=stale).values_list("id", flat=True)[
            :500
        ]
    )
    for message_id in ids:
        message_deliver.delay(message_id)
    return len(ids)


@shared_task
def ping(value: str) -> str:
    """A task with no side effects, used to check that workers answer."""
    return f"pong:{value}"
