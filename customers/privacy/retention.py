"""Retention rules: how long the desk keeps browsing events and the words of closed tickets.

Two kinds of ``RetentionRule``, each with ``after_days``:

- ``purge_events``: delete browsing events that occurred more than N days ago (carried out here);
- ``anonymise_tickets``: anonymise tickets solved or closed whose last message is more than N
  days old (a month is 30 days; carried out by ``tickets/privacy.py``).

``retention_preview`` is the dry run (how many, and a sample); ``retention_run`` applies every
active rule, as a ``retention`` job; Celery beat calls it daily (``privacy-retention``).
Customers under legal hold are skipped.
"""

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import AuditEvent, Event, Job, RetentionRule
from ..services import audit_record
from .export import exports_expired_purge
from .jobs import job_execute, job_succeed
from .registry import RetentionHandler, RetentionPreview, privacy_registry

PURGE_BATCH = 5000
SAMPLE_SIZE = 10
MIN_DAYS = 1


def _event_candidates(cutoff: datetime):
    return Event.objects.filter(occurred_at__lt=cutoff, customer__legal_hold=False)


def _events_preview(cutoff: datetime) -> RetentionPreview:
    candidates = _event_candidates(cutoff)
    sample = [
        f"{kind} event of customer {customer_id} on {occurred:%Y-%m-%d}"
        for kind, customer_id, occurred in candidates.order_by("occurred_at").values_list(
            "kind", "customer_id", "occurred_at"
        )[:SAMPLE_SIZE]
    ]
    return RetentionPreview(count=candidates.count(), sample=sample)


def _events_purge(cutoff: datetime) -> int:
    """Delete in batches, so a big purge never holds a long lock on the events table."""
    purged = 0
    while True:
        batch = list(_event_candidates(cutoff).values_list("pk", flat=True)[:PURGE_BATCH])
        if not batch:
            return purged
        purged += Event.objects.filter(pk__in=batch).delete()[0]


privacy_registry.register_retention(
    RetentionHandler(kind=RetentionRule.Kind.PURGE_EVENTS, preview=_events_preview, apply=_events_purge)
)


def retention_handler(kind: str) -> RetentionHandler:
    handler = privacy_registry.retention.get(kind)
    if handler is None:
        raise ValidationError({"kind": f"Nothing carries out retention rule {kind!r}."})
    return handler


def retention_cutoff(*, after_days: int, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=after_days)


def retention_preview(*, kind: str, after_days: int, now: datetime | None = None) -> RetentionPreview:
    """What a rule would remove if it ran now: nothing is changed."""
    if after_days < MIN_DAYS:
        raise ValidationError({"after_days": f"Keep data at least {MIN_DAYS} day."})
    return retention_handler(kind).preview(retention_cutoff(after_days=after_days, now=now))


@transaction.atomic
def retention_rule_save(*, kind: str, after_days: int, active: bool, actor: AbstractBaseUser) -> RetentionRule:
    """Create or change the rule of one kind, and audit the change."""
    if kind not in RetentionRule.Kind.values:
        raise ValidationError({"kind": f"Unknown retention rule {kind!r}."})
    if after_days < MIN_DAYS:
        raise ValidationError({"after_days": f"Keep data at least {MIN_DAYS} day."})
    rule = RetentionRule.objects.select_for_update().filter(kind=kind).first()
    before = None if rule is None else {"after_days": rule.after_days, "active": rule.active}
    if rule is None:
        rule = RetentionRule.objects.create(kind=kind, after_days=after_days, active=active)
    elif (rule.after_days, rule.active) != (after_days, active):
        rule.after_days, rule.active = after_days, active
        rule.save(update_fields=["after_days", "active"])
    else:
        return rule
    audit_record(
        action=AuditEvent.Action.RETENTION_CHANGED,
        actor=actor,
        details={"kind": kind, "before": before, "after": {"after_days": after_days, "active": active}},
    )
    return rule


@transaction.atomic
def retention_run_start(*, actor: AbstractBaseUser | None = None, actor_label: str = "") -> Job:
    """Queue a run of every active rule (beat does this daily; an admin may do it now)."""
    user = actor if actor is not None and actor.is_authenticated else None
    job = Job.objects.create(
        kind=Job.Kind.RETENTION,
        requested_by=user,
        requested_label=actor_label or (user.get_username() if user else "schedule"),
    )
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from ..tasks import retention_run_task

    retention_run_task.delay(job_id)


def retention_run(*, job_id: int) -> Job | None:
    return job_execute(job_id=job_id, kind=Job.Kind.RETENTION, work=_retention_work)


def _retention_work(job: Job) -> Job:
    now = timezone.now()
    results: dict[str, int] = {}
    for rule in RetentionRule.objects.filter(active=True).order_by("kind"):
        results[rule.kind] = retention_handler(rule.kind).apply(retention_cutoff(after_days=rule.after_days, now=now))
        RetentionRule.objects.filter(pk=rule.pk).update(last_run_at=now)
    results["expired_exports"] = exports_expired_purge(now=now)
    with transaction.atomic():
        audit_record(
            action=AuditEvent.Action.RETENTION_RUN,
            actor=job.requested_by,
            actor_label=job.requested_label,
            details={"job": job.pk, "results": results},
        )
        return job_succeed(job=job, result={"results": results})
