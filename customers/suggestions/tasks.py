"""Celery tasks behind the suggestions: thin wrappers over ``customers.suggestions.jobs``.

Each is idempotent (it recomputes from the data, so a second run writes the same rows),
acknowledged late, and retried with backoff on a transient database error. Beat runs the
batch jobs (``CELERY_BEAT_SCHEDULE`` in supportdesk/settings/base.py); services that change a
customer's orders, refunds, conversations or CSAT answers may queue
``churn_refresh_for_customer.delay(customer.pk)`` with ``transaction.on_commit`` so the risk
follows the data between nightly runs (docs/suggestions.md lists the call sites).
"""

import logging

from celery import shared_task
from django.db import OperationalError, transaction

from . import jobs

logger = logging.getLogger(__name__)

RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": 30, "retry_backoff_max": 1800, "max_retries": 8}


@shared_task(acks_late=True, **RETRY)
def churn_refresh_all() -> int:
    """Beat entry ``suggestions-churn``: every customer's churn risk; returns rows changed."""
    return jobs.churn_refresh_all()


@shared_task(acks_late=True, **RETRY)
def churn_refresh_for_customer(customer_id: int) -> int:
    """One customer's churn risk, after their data changed; returns 1 if it moved."""
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


def churn_refresh_on_commit(*, customer_id: int) -> None:
    """Queue ``churn_refresh_for_customer`` once the current transaction commits (at once
    outside one). The services that record orders, refunds and CSAT answers call it. A broker
    that is down must not fail the write that changed the data: the error is logged and the
    nightly ``churn_refresh_all`` catches up."""

    def queue() -> None:
        try:
            churn_refresh_for_customer.delay(customer_id)
        except Exception:
            logger.exception("Could not queue the churn refresh of customer %s", customer_id)

    transaction.on_commit(queue)
