"""Erasure in rows that no foreign key ties to the customer but that can still name them.

The audit log's entries about itself (an export filtered on their address), import jobs and the
files they uploaded, webhook deliveries, and the Django admin's change log. These rows belong to
nobody in particular, so only the person's strong identifiers (addresses, numbers, handles, full
names; see ``PrivacyScope``) are replaced here, except where a row is provably theirs: an admin
log entry about their customer record, or a line of an uploaded file that carries their address.

Each table is searched once in the database for any strong identifier, and only the rows found
are read and rewritten, so the cost is one scan per table per erasure, not one per row.
"""

import json

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db.models import Model, Q, QuerySet, TextField
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Cast

from supportdesk.models import WebhookDelivery

from ..models import AuditEvent, ContactPoint, Customer, Job
from .scope import ERASED, PrivacyScope

ERASED_CUSTOMER = "Erased customer"

# What erasure does to the tables that do not lead to a customer (docs/privacy.md lists them).
UNLINKED_ERASURE_COVERAGE: dict[type[Model], str] = {
    AuditEvent: "entries about no customer (an audit export filtered on their address): strong identifiers scrubbed",
    Job: "jobs of no customer (imports): reason, params, result and error scrubbed; their lines of uploaded files too",
    WebhookDelivery: "the stored result of each delivery: strong identifiers scrubbed",
    LogEntry: "Django admin change log: entries about their customer record and contact points anonymised",
}


def erase_unlinked(scope: PrivacyScope, *, contact_point_ids: list[int]) -> dict[str, int]:
    """Scrub the person from rows no foreign key ties to them. ``contact_point_ids`` are the ids
    of their contact points (read before those were deleted), for the admin change log."""
    if not scope.strong_terms and not scope.terms:
        return {}
    others = AuditEvent.objects.exclude(customer__in=scope.customer_ids)
    counts = {
        "audit_events_unlinked": _scrub_strong(scope, others, ["details", "actor_label"]),
        "webhook_deliveries": _scrub_strong(scope, WebhookDelivery.objects.all(), ["result"]),
        "admin_log": _admin_log(scope, contact_point_ids),
    }
    unlinked_jobs = Job.objects.exclude(customer__in=scope.customer_ids)
    counts["import_files"] = _import_files(scope, unlinked_jobs.filter(kind=Job.Kind.IMPORT).exclude(file=""))
    counts["jobs_unlinked"] = _scrub_strong(scope, unlinked_jobs, ["reason", "params", "result", "error"])
    return counts


def _mentioning(scope: PrivacyScope, queryset: QuerySet, fields: list[str]) -> QuerySet:
    """The rows where any of ``fields`` contains a strong term (JSON is searched as its text,
    in the escaped spelling too, since SQLite stores non-ASCII JSON as ``\\u`` escapes)."""
    spellings = set(scope.strong_terms)
    spellings.update(json.dumps(term)[1:-1] for term in scope.strong_terms)
    lookup = Q()
    annotations = {f"_text_{name}": Cast(name, TextField()) for name in fields}
    for name in fields:
        for spelling in spellings:
            lookup |= Q(**{f"_text_{name}__icontains": spelling})
    if not lookup:
        return queryset.none()
    return queryset.annotate(**annotations).filter(lookup)


def _scrub_strong(scope: PrivacyScope, queryset: QuerySet, fields: list[str]) -> int:
    changed = 0
    for row in _mentioning(scope, queryset, fields).values("pk", *fields):
        updates = {name: scope.scrub_strong(row[name]) for name in fields if scope.mentions_strong(row[name])}
        if updates:
            queryset.model.objects.filter(pk=row["pk"]).update(**updates)
            changed += 1
    return changed


def _admin_log(scope: PrivacyScope, contact_point_ids: list[int]) -> int:
    customer_type = ContentType.objects.get_for_model(Customer)
    point_type = ContentType.objects.get_for_model(ContactPoint)
    theirs = LogEntry.objects.filter(
        Q(content_type=customer_type, object_id__in=[str(pk) for pk in scope.customer_ids])
        | Q(content_type=point_type, object_id__in=[str(pk) for pk in contact_point_ids])
    )
    changed = 0
    for entry in theirs.only("pk", "change_message"):
        LogEntry.objects.filter(pk=entry.pk).update(
            object_repr=ERASED_CUSTOMER if entry.content_type_id == customer_type.pk else ERASED,
            change_message=scope.scrub_text(entry.change_message),
        )
        changed += 1
    others = LogEntry.objects.exclude(pk__in=theirs.values("pk"))
    return changed + _scrub_strong(scope, others, ["object_repr", "change_message"])


def _import_files(scope: PrivacyScope, jobs: QuerySet[Job]) -> int:
    """Rewrite each uploaded file that carries the person: every line holding one of their strong
    identifiers is their row, so all their identifiers go from it; the job's file name too."""
    changed = 0
    for job in jobs:
        try:
            with job.file.open("rb") as handle:
                data = handle.read()
        except OSError:
            continue
        text = data.decode("utf-8", "replace")
        lines = text.splitlines(keepends=True)
        scrubbed = [scope.scrub_text(line) if scope.mentions_strong(line) else line for line in lines]
        if scrubbed == lines:
            continue
        old = FieldFile(job, job.file.field, job.file.name)
        job.file.save(old.name.rsplit("/", 1)[-1], ContentFile("".join(scrubbed).encode()), save=False)
        scope.delete_file_on_commit(old)
        Job.objects.filter(pk=job.pk).update(file=job.file.name, params=scope.scrub(job.params))
        changed += 1
    return changed
