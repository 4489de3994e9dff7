"""Right to be forgotten: remove or anonymise the person everywhere, keep the figures.

``customer_erase_start`` queues a ``customer_erase`` job; the Celery task
``customers.tasks.customer_erase_task`` calls ``customer_erase_run``, which erases in one
transaction (``customer_erase_now``): contact points and browsing events are deleted; names,
free text and notes are blanked or scrubbed of the person's identifiers; orders, order lines,
refund amounts, consent decisions (without their notes) and the audit trail stay, under the
same ``Customer`` row, now ``erased``. Other apps erase their tables through ``privacy_registry``
(tickets blank messages and subjects, delete attachments, forget chat visitor ids and CSAT
comments).

Approval: an erasure needs a stated reason. The requesting admin may approve it themselves
(their reason is the justification on record), or name a second admin who holds
``customers.erase_customer``; the job and the audit trail record who asked, who approved and
why. A customer under ``legal_hold`` cannot be erased; the task checks again when it runs.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from .. import consent
from ..models import (
    AuditEvent,
    ConsentRecord,
    ContactPoint,
    Customer,
    CustomerMerge,
    Event,
    Job,
    Order,
    OrderLine,
    Refund,
    SuggestionFeedback,
)
from ..services import audit_record
from .jobs import job_execute, job_succeed
from .registry import privacy_registry
from .scope import PrivacyScope, privacy_scope
from .unlinked import erase_unlinked

MIN_REASON_LENGTH = 10
ERASE_PERMISSION = "customers.erase_customer"

# What erasure does to each customers model; tickets declare theirs in tickets/privacy.py.
CUSTOMER_ERASURE_COVERAGE: dict[type[Model], str] = {
    Customer: "anonymised: names blanked, churn profile cleared, erased flag set; figures kept",
    ContactPoint: "deleted",
    Order: "kept for accounting; tracking number and link blanked",
    OrderLine: "kept: products, quantities and prices (no personal data)",
    Refund: "kept for accounting; free-text reason blanked",
    Event: "deleted",
    ConsentRecord: "kept (purpose, decision, time, wording); note and evidence blanked under ledger_unlocked",
    AuditEvent: "kept (who did what, when); the person's identifiers scrubbed from details",
    CustomerMerge: "kept; snapshot cleared (no undo), choices and reason scrubbed",
    Job: "kept (kind, status); export files deleted; reason, params and result scrubbed",
    SuggestionFeedback: "kept for acceptance figures; subject and free-text reason blanked",
}


def erasure_coverage() -> dict[type[Model], str]:
    coverage = dict(CUSTOMER_ERASURE_COVERAGE)
    for contribution in privacy_registry.contributions.values():
        coverage.update(contribution.erasure_coverage)
    return coverage


def _erasable(customer: Customer) -> None:
    if customer.legal_hold:
        raise ValidationError(
            {"customer": "This customer is under legal hold; lift the hold before erasing their data."},
            code="legal_hold",
        )
    if customer.merged_into_id:
        raise ValidationError(
            {"customer": "This record was merged into another customer; erase that customer instead."},
            code="merged",
        )


@transaction.atomic
def customer_erase_start(
    *,
    customer: Customer,
    actor: AbstractBaseUser | None,
    reason: str,
    approved_by: AbstractBaseUser | None = None,
    actor_label: str = "",
) -> Job:
    """Queue the erasure of ``customer`` and audit who asked, who approved and why.

    Raises ``ValidationError`` for a customer under legal hold, a missing reason, or an
    approver who is the requester's duplicate or lacks ``customers.erase_customer``. Without
    ``approved_by`` the requester approves it themselves.
    """
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError({"reason": f"State why (at least {MIN_REASON_LENGTH} characters)."}, code="reason")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    _erasable(customer)
    user = actor if actor is not None and actor.is_authenticated else None
    if approved_by is not None:
        if user is not None and approved_by.pk == user.pk:
            approved_by = None
        elif not (approved_by.is_active and approved_by.has_perm(ERASE_PERMISSION)):
            raise ValidationError({"approved_by": "The approver must be an admin who may erase customers."})
    approver = approved_by or user
    existing = Job.objects.filter(
        kind=Job.Kind.CUSTOMER_ERASE, customer=customer, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
    ).first()
    if existing:
        return existing
    job = Job.objects.create(
        kind=Job.Kind.CUSTOMER_ERASE,
        customer=customer,
        requested_by=user,
        requested_label=actor_label or (user.get_username() if user else "system"),
        approved_by=approver,
        reason=reason,
        params={"self_approved": approver is None or (user is not None and approver.pk == user.pk)},
    )
    audit_record(
        action=AuditEvent.Action.ERASURE_REQUESTED,
        customer=customer,
        actor=user,
        actor_label=actor_label,
        details={
            "job": job.pk,
            "reason": reason,
            "requested_by": job.requested_label,
            "approved_by": approver.get_username() if approver else job.requested_label,
        },
    )
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from ..tasks import customer_erase_task

    customer_erase_task.delay(job_id)


def customer_erase_run(*, job_id: int) -> Job | None:
    """Carry out a queued erasure. Idempotent: erasing twice finds nothing more to erase."""
    job = job_execute(job_id=job_id, kind=Job.Kind.CUSTOMER_ERASE, work=_erase_work)
    if job is not None and job.status == Job.Status.FAILED:
        audit_record(
            action=AuditEvent.Action.ERASURE_FAILED,
            customer=job.customer,
            actor_label="system",
            details={"job": job.pk, "error": job.error},
        )
    return job


def _erase_work(job: Job) -> Job:
    if job.customer is None:
        raise ValidationError("The customer of this erasure no longer exists.")
    with transaction.atomic():
        counts = customer_erase_now(customer=job.customer)
        job = Job.objects.select_related("requested_by", "approved_by").get(pk=job.pk)
        audit_record(
            action=AuditEvent.Action.CUSTOMER_ERASED,
            customer=job.customer,
            actor=job.requested_by,
            actor_label=job.requested_label,
            details={
                "job": job.pk,
                "requested_by": job.requested_label,
                "approved_by": job.approved_by.get_username() if job.approved_by else job.requested_label,
                "reason": job.reason,
                "counts": counts,
            },
        )
        return job_succeed(job=job, result={"counts": counts})


@transaction.atomic
def customer_erase_now(*, customer: Customer) -> dict[str, int]:
    """Erase the person behind ``customer`` (and every customer merged into it) right now.

    Returns counts of what was deleted or anonymised. Refuses a customer under legal hold.
    """
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    _erasable(customer)
    scope = privacy_scope(customer=customer, now=timezone.now(), with_terms=True)
    counts: dict[str, int] = {}
    for contribution in privacy_registry.contributions.values():
        for key, value in contribution.erase(scope).items():
            counts[key] = counts.get(key, 0) + value
    contact_point_ids = list(ContactPoint.objects.filter(customer__in=scope.customer_ids).values_list("pk", flat=True))
    counts.update(_erase_customers_app(scope))
    counts.update(erase_unlinked(scope, contact_point_ids=contact_point_ids))
    scope.schedule_file_deletion()
    return counts


def _erase_customers_app(scope: PrivacyScope) -> dict[str, int]:
    ids = scope.customer_ids
    counts = {
        "contact_points": ContactPoint.objects.filter(customer__in=ids).delete()[0],
        "events": Event.objects.filter(customer__in=ids).delete()[0],
        "orders": Order.objects.filter(customer__in=ids).update(tracking_number="", tracking_url=""),
        "refunds": Refund.objects.filter(order__customer__in=ids).exclude(reason="").update(reason=""),
        "suggestion_feedback": SuggestionFeedback.objects.filter(customer__in=ids).update(subject="", reason=""),
    }
    with consent.ledger_unlocked():
        counts["consent_notes"] = (
            ConsentRecord.objects.filter(customer__in=ids).exclude(note="", evidence="").update(note="", evidence="")
        )
    counts["audit_events"] = _scrub_rows(scope, AuditEvent.objects.filter(customer__in=ids), ["details", "actor_label"])
    merges = CustomerMerge.objects.filter(survivor__in=ids) | CustomerMerge.objects.filter(merged__in=ids)
    counts["merges"] = merges.update(snapshot={})
    _scrub_rows(scope, merges, ["field_choices", "reason"])
    for job in Job.objects.filter(customer__in=ids).exclude(file=""):
        scope.delete_file_on_commit(job.file)
    Job.objects.filter(customer__in=ids).exclude(file="").update(file="", expires_at=scope.now)
    counts["jobs"] = _scrub_rows(scope, Job.objects.filter(customer__in=ids), ["reason", "params", "result", "error"])
    counts["customers"] = Customer.objects.filter(pk__in=ids).update(
        first_name="",
        last_name="",
        preferred_name="",
        timezone="UTC",
        churn_risk=None,
        churn_factors={},
        erased=True,
        erased_at=scope.now,
    )
    return counts


def _scrub_rows(scope: PrivacyScope, queryset, fields: list[str]) -> int:
    """Rewrite ``fields`` of the rows whose values mention the person; returns how many changed."""
    changed = 0
    for row in queryset.values("pk", *fields).iterator(chunk_size=500):
        updates = {name: scope.scrub(row[name]) for name in fields if scope.mentions(row[name])}
        if updates:
            queryset.model.objects.filter(pk=row["pk"]).update(**updates)
            changed += 1
    return changed


@transaction.atomic
def customer_legal_hold_set(
    *, customer: Customer, actor: AbstractBaseUser, hold: bool, reason: str, actor_label: str = ""
) -> Customer:
    """Place or lift a legal hold (it blocks erasure) and audit it with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "State why the hold is placed or lifted."})
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.legal_hold == hold:
        return customer
    customer.legal_hold = hold
    customer.save(update_fields=["legal_hold", "updated_at"])
    audit_record(
        action=AuditEvent.Action.LEGAL_HOLD_CHANGED,
        customer=customer,
        actor=actor,
        actor_label=actor_label,
        details={"legal_hold": hold, "reason": reason},
    )
    return customer
