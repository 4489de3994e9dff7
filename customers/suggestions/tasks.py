"""Celery tasks behind the suggestions: thin wrappers over ``customers.suggestions.jobs``.

Each is idempotent (it recomputes from the data, so a second run writes the same rows),
acknowledged late, and retried with backoff on a transient database error. Beat runs the
batch jobs (``CELERY_BEAT_SCHEDULE`` in supportdesk/settings/base.py); services that change a
customer's orders, refunds, conversations or CSAT answers may queue
``churn_refresh_for_customer`` through ``churn_refresh_on_commit`` so the risk follows the
data between nightly runs (docs/suggestions.md lists the call sites).
"""

import logging
from typing import TYPE_CHECKING

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError, transaction

from . import jobs
from .registry import setting

if TYPE_CHECKING:
    from customers.models import Customer

logger = logging.getLogger(__name__)

RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": 30, "retry_backoff_max": 1800, "max_retries": 8}


@shared_task(acks_late=True, **RETRY)
def churn_refresh_all() -> int:
    """Beat entry ``suggestions-churn``: every customer's churn risk; returns rows changed."""
    return jobs.churn_refresh_all()


@shared_task(acks_late=True, **RETRY)
def churn_refresh_for_customer(customer_id: int) -> int:
    """One customer's churn risk, after their data changed; returns 1 if it moved.

    The debounce key goes first, before the data is read: a change committed from here on
    queues a refresh of its own, and one committed before is read by this one."""
    cache.delete(_debounce_key(customer_id))
    return jobs.churn_refresh(customer_ids=[customer_id])


@shared_task(acks_late=True, **RETRY)
def product_affinity_refresh() -> int:
    """Beat entry ``suggestions-affinity``: rebuild "bought together"; returns the pair count."""
    return jobs.product_affinity_refresh()


@shared_task(acks_late=True, **RETRY)
def vip_threshold_refresh() -> str | None:
    """Beat entry ``suggestions-vip-threshold``: recompute and cache the VIP threshold."""
    value = jobs.vip_threshold_refresh()
    return str(value) if value is not None else None


def _debounce_key(customer_id: int) -> str:
    return f"suggestions:churn-refresh-queued:{customer_id}"


def churn_refresh_on_commit(*, customer_id: int) -> None:
    """Queue ``churn_refresh_for_customer`` once the current transaction commits (at once
    outside one). The services that record orders, refunds, new conversations and CSAT answers
    call it.

    Debounced per customer: the first change queues the refresh to run
    ``DESK_SUGGESTIONS_CHURN_DEBOUNCE_SECONDS`` (60) later and marks it queued in the cache;
    further changes until it runs queue nothing, since that one run reads them all. So a burst
    (an order import, a customer writing ten times in a minute) costs one task, not one each.
    The mark is set after the commit, so a rolled-back write never holds back the next one.
    A broker that is down must not fail the write that changed the data: the error is logged,
    the mark dropped (the next change tries again) and the nightly ``churn_refresh_all``
    catches up."""

    def queue() -> None:
        delay = setting("DESK_SUGGESTIONS_CHURN_DEBOUNCE_SECONDS")
        key = _debounce_key(customer_id)
        try:
            # The mark outlives the countdown a little, so a task that starts a moment late
            # still finds its burst covered; the task clears it when it starts.
            if delay > 0 and not cache.add(key, 1, timeout=delay + 30):
                return
            churn_refresh_for_customer.apply_async((customer_id,), countdown=delay or None)
        except Exception:
            logger.exception("Could not queue the churn refresh of customer %s", customer_id)
            try:
                cache.delete(key)
            except Exception:
                logger.exception("Could not clear the churn refresh mark of customer %s", customer_id)

    transaction.on_commit(queue)


def churn_refresh_after_contact(*, customer: "Customer") -> None:
    """A new conversation moves the contact-rate factor, which counts only for a customer the
    risk applies to (one who ordered, or with a risk on file), so only theirs is queued. Reads
    fields the caller already holds: no query on the ingest path."""
    if customer.last_order_at is not None or customer.churn_risk is not None:
        churn_refresh_on_commit(customer_id=customer.pk)
