"""Right of access: everything the desk holds about a customer, as one JSON document.

``customer_export_start`` queues a ``customer_export`` job; the Celery task
``customers.tasks.customer_export_task`` calls ``customer_export_run``, which builds the document
(``customer_export_build``), stores it in ``Job.file`` and makes it downloadable by admins for
``DESK_EXPORT_TTL_DAYS`` days. Requests and downloads are audited. Other apps add their sections
through ``privacy_registry`` (tickets add tickets, messages, attachments, chat and CSAT).
"""

import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Model, Prefetch
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

EXPORT_FORMAT = "supportdesk.customer-export"
EXPORT_VERSION = 1

# Where each customers model lives in the document; tickets declare theirs in tickets/privacy.py.
CUSTOMER_EXPORT_COVERAGE: dict[type[Model], str] = {
    Customer: "customer (and merged_records for customers merged into it)",
    ContactPoint: "contact_points",
    Order: "orders",
    OrderLine: "orders[].lines",
    Refund: "orders[].refunds",
    Event: "events",
    ConsentRecord: "consent.ledger",
    AuditEvent: "audit_events",
    CustomerMerge: "merges",
    Job: "privacy_jobs",
    SuggestionFeedback: "suggestion_feedback",
}

CUSTOMER_FIELDS = (
    "id",
    "public_id",
    "first_name",
    "last_name",
    "preferred_name",
    "locale",
    "timezone",
    "country",
    "created_at",
    "updated_at",
    "lifetime_value",
    "order_count",
    "last_order_at",
    "last_contact_at",
    "churn_risk",
    "churn_factors",
    "merged_into_id",
    "erased",
    "erased_at",
    "legal_hold",
)


class ExportUnavailable(Exception):
    """The export cannot be downloaded; ``gone`` means it existed and has expired (410)."""

    def __init__(self, message: str, *, gone: bool = False):
        super().__init__(message)
        self.gone = gone


def export_coverage() -> dict[type[Model], str]:
    coverage = dict(CUSTOMER_EXPORT_COVERAGE)
    for contribution in privacy_registry.contributions.values():
        coverage.update(contribution.export_coverage)
    return coverage


def _orders(scope: PrivacyScope) -> list[dict[str, Any]]:
    orders = (
        Order.objects.filter(customer__in=scope.customer_ids)
        .order_by("placed_at", "id")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("position")),
            Prefetch("refunds", queryset=Refund.objects.order_by("requested_at")),
        )
    )
    return [
        {
            **_fields(
                order,
                "id",
                "source",
                "external_id",
                "number",
                "status",
                "currency",
                "total",
                "placed_at",
                "promised_delivery",
                "shipped_at",
                "delivered_at",
                "carrier",
                "tracking_number",
                "tracking_url",
            ),
            "lines": [
                _fields(line, "position", "sku", "name", "quantity", "unit_price", "product_id")
                for line in order.lines.all()
            ],
            "refunds": [
                _fields(refund, "source", "external_id", "kind", "status", "amount", "reason", "requested_at")
                | {"completed_at": refund.completed_at}
                for refund in order.refunds.all()
            ],
        }
        for order in orders
    ]


def _fields(obj: Model, *names: str) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def _consent(scope: PrivacyScope) -> dict[str, Any]:
    ledger = (
        ConsentRecord.objects.filter(customer__in=scope.customer_ids)
        .select_related("purpose", "wording", "actor")
        .order_by("recorded_at", "id")
    )
    return {
        "current": [
            {
                "purpose": code,
                "name": state.purpose.name,
                "granted": state.granted,
                "since": state.decided_at,
                "how": state.explanation,
            }
            for code, state in consent.consent_states(scope.customer).items()
        ],
        "ledger": [
            {
                "purpose": record.purpose.code,
                "granted": record.granted,
                "recorded_at": record.recorded_at,
                "source": record.source,
                "recorded_by": record.actor.get_username() if record.actor else "",
                "wording_version": record.wording.version if record.wording else None,
                "wording": record.wording.text if record.wording else "",
                "note": record.note,
                "evidence": record.evidence,
            }
            for record in ledger
        ],
    }


def customer_export_build(*, customer: Customer) -> dict[str, Any]:
    """The whole document for ``customer``, in a fixed number of queries per section."""
    scope = privacy_scope(customer=customer, now=timezone.now())
    ids = scope.customer_ids
    customers = {row["id"]: row for row in Customer.objects.filter(pk__in=ids).values(*CUSTOMER_FIELDS)}
    document: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "generated_at": scope.now,
        "customer": customers.pop(customer.pk),
        "merged_records": list(customers.values()),
        "contact_points": list(
            ContactPoint.objects.filter(customer__in=ids)
            .order_by("channel", "id")
            .values("channel", "value", "is_primary", "verified", "created_at")
        ),
        "orders": _orders(scope),
        "events": list(
            Event.objects.filter(customer__in=ids)
            .order_by("occurred_at", "id")
            .values("kind", "occurred_at", "source", "external_id", "payload")
            .iterator(chunk_size=2000)
        ),
        "consent": _consent(scope),
        "audit_events": list(
            AuditEvent.objects.filter(customer__in=ids)
            .order_by("occurred_at", "id")
            .values("occurred_at", "action", "actor_label", "details")
        ),
        "merges": list(
            CustomerMerge.objects.filter(survivor__in=ids)
            .order_by("created_at")
            .values("created_at", "survivor_id", "merged_id", "reason", "field_choices", "snapshot", "undone_at")
        ),
        "suggestion_feedback": list(
            SuggestionFeedback.objects.filter(customer__in=ids)
            .order_by("created_at")
            .values("created_at", "rule", "rule_version", "variant", "subject", "verdict", "reason", "until")
        ),
        "privacy_jobs": list(
            Job.objects.filter(customer__in=ids)
            .order_by("created_at")
            .values("kind", "status", "created_at", "finished_at", "reason")
        ),
    }
    for contribution in privacy_registry.contributions.values():
        document.update(contribution.export(scope))
    return document


@transaction.atomic
def customer_export_start(
    *, customer: Customer, actor: AbstractBaseUser | None, reason: str = "", actor_label: str = ""
) -> Job:
    """Queue an export of ``customer`` and audit the request; the task runs after commit.

    Returns the job (poll it at ``/api/v1/jobs/{id}/`` or ``/privacy/jobs/{id}/``).
    """
    user = actor if actor is not None and actor.is_authenticated else None
    job = Job.objects.create(
        kind=Job.Kind.CUSTOMER_EXPORT,
        customer=customer,
        requested_by=user,
        requested_label=actor_label or (user.get_username() if user else "system"),
        reason=reason.strip(),
    )
    audit_record(
        action=AuditEvent.Action.EXPORT_REQUESTED,
        customer=customer,
        actor=user,
        actor_label=actor_label,
        details={"job": job.pk, "reason": reason.strip()},
    )
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from ..tasks import customer_export_task

    customer_export_task.delay(job_id)


def customer_export_run(*, job_id: int) -> Job | None:
    """Build and store the export of a queued job. Idempotent: a finished job is left alone."""
    return job_execute(job_id=job_id, kind=Job.Kind.CUSTOMER_EXPORT, work=_export_work)


def _export_work(job: Job) -> Job:
    if job.customer is None:
        raise ValidationError("The customer of this export no longer exists.")
    document = customer_export_build(customer=job.customer)
    payload = json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1).encode()
    counts = {key: len(value) for key, value in document.items() if isinstance(value, list)}
    with transaction.atomic():
        if job.file:
            job.file.delete(save=False)
        job.file.save(f"customer-export-{job.customer.public_id}.json", ContentFile(payload), save=False)
        job.expires_at = timezone.now() + timedelta(days=settings.DESK_EXPORT_TTL_DAYS)
        return job_succeed(
            job=job, result={"counts": counts, "bytes": len(payload)}, extra_fields=("file", "expires_at")
        )


@transaction.atomic
def customer_export_open(*, job: Job, actor: AbstractBaseUser, actor_label: str = "") -> tuple[File, str]:
    """Open a finished export for download and audit it. Raises ``ExportUnavailable``: not
    ready, or gone (expired, or the customer was erased since)."""
    if job.kind != Job.Kind.CUSTOMER_EXPORT:
        raise ExportUnavailable("This job is not an export.")
    if job.status != Job.Status.SUCCEEDED:
        raise ExportUnavailable("This export is not ready yet.")
    if not job.file or (job.expires_at and job.expires_at <= timezone.now()):
        raise ExportUnavailable("This export has expired; start a new one.", gone=True)
    try:
        handle = job.file.open("rb")
    except (FileNotFoundError, OSError):
        raise ExportUnavailable("This export is no longer stored; start a new one.", gone=True) from None
    audit_record(
        action=AuditEvent.Action.EXPORT_DOWNLOADED,
        customer=job.customer,
        actor=actor,
        actor_label=actor_label,
        details={"job": job.pk},
    )
    return handle, f"customer-export-{job.customer.public_id if job.customer else job.pk}.json"


def exports_expired_purge(*, now=None) -> int:
    """Delete the files of exports past their expiry (the job rows stay, marked by the empty file)."""
    now = now or timezone.now()
    purged = 0
    for job in Job.objects.filter(kind=Job.Kind.CUSTOMER_EXPORT, expires_at__lte=now).exclude(file=""):
        job.file.delete(save=False)
        Job.objects.filter(pk=job.pk).update(file="")
        purged += 1
    return purged
