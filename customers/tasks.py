"""Celery tasks of the customers app: thin wrappers that take ids and call one service.

Every task is idempotent (a finished job is never redone) and acknowledged late, so a worker
that dies mid-way leaves the task to be redelivered. A transient database error is retried
with exponential backoff; any other failure is recorded on the job for the admin to read.
"""

from celery import shared_task

from .privacy.consent_import import consent_import_run
from .privacy.erasure import customer_erase_run
from .privacy.export import customer_export_run
from .privacy.jobs import TRANSIENT_ERRORS
from .privacy.retention import retention_run, retention_run_start

RETRY = {"autoretry_for": TRANSIENT_ERRORS, "retry_backoff": 30, "retry_backoff_max": 1800, "max_retries": 8}


def _status(job) -> str:
    return job.status if job is not None else "missing"


@shared_task(acks_late=True, **RETRY)
def customer_export_task(job_id: int) -> str:
    """Build a customer's JSON export (a ``customer_export`` job)."""
    return _status(customer_export_run(job_id=job_id))


@shared_task(acks_late=True, **RETRY)
def customer_erase_task(job_id: int) -> str:
    """Erase a customer (a ``customer_erase`` job); checks the legal hold again as it runs."""
    return _status(customer_erase_run(job_id=job_id))


@shared_task(acks_late=True, **RETRY)
def consent_import_task(job_id: int) -> str:
    """Import a CSV of consent decisions (an ``import`` job) and store the row-by-row report."""
    return _status(consent_import_run(job_id=job_id))


@shared_task(acks_late=True, **RETRY)
def retention_run_task(job_id: int) -> str:
    """Apply every active retention rule (a ``retention`` job)."""
    return _status(retention_run(job_id=job_id))


@shared_task(acks_late=True)
def retention_daily() -> int:
    """Beat entry ``privacy-retention``: queue today's retention run; returns its job id."""
    return retention_run_start(actor_label="schedule").pk
