"""The life of a privacy job (export, erasure, import, retention run): queued → running →
succeeded or failed. Each job's work commits together with its ``succeeded`` status; a job that
already succeeded is never run again, so a redelivered task is harmless."""

import logging
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.utils import timezone

from ..models import Job

logger = logging.getLogger(__name__)

# Errors worth a retry (the database restarting, a lock timeout); anything else fails the job.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (OperationalError,)


def job_claim(*, job_id: int, kind: str) -> Job | None:
    """Mark the job running and return it; None if it does not exist or already succeeded."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id, kind=kind).first()
        if job is None or job.status == Job.Status.SUCCEEDED:
            return None
        job.status = Job.Status.RUNNING
        job.started_at = timezone.now()
        job.error = ""
        job.save(update_fields=["status", "started_at", "error"])
    return job


def job_succeed(*, job: Job, result: dict, extra_fields: tuple[str, ...] = ()) -> Job:
    """Record success; call inside the transaction that did the work."""
    job.status = Job.Status.SUCCEEDED
    job.result = result
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "result", "finished_at", *extra_fields])
    return job


def job_fail(*, job_id: int, error: str) -> Job:
    job = Job.objects.get(pk=job_id)
    job.status = Job.Status.FAILED
    job.error = error[:2000]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    return job


def job_execute(*, job_id: int, kind: str, work: Callable[[Job], Job]) -> Job | None:
    """Run ``work`` for a claimed job. A refusal (``ValidationError``) or a bug fails the job with
    its message; a transient error is raised again, with the job left running, for the task to
    retry."""
    job = job_claim(job_id=job_id, kind=kind)
    if job is None:
        return Job.objects.filter(pk=job_id).first()
    try:
        return work(job)
    except TRANSIENT_ERRORS:
        raise
    except ValidationError as exc:
        return job_fail(job_id=job_id, error=" ".join(exc.messages))
    except Exception as exc:
        logger.exception("privacy job %s (%s) failed", job_id, kind)
        return job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
