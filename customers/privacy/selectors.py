"""Reads for the privacy pages; each has a fixed number of queries."""

import contextlib
import uuid
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet

from .. import consent
from ..consent import ConsentState
from ..models import (
    Channel,
    ConsentPurpose,
    ConsentRecord,
    ConsentWording,
    ContactPoint,
    Customer,
    Job,
    RetentionRule,
)
from .preferences import preference_url

LEDGER_PAGE_SIZE = 50
RECENT_JOBS = 20
SEARCH_LIMIT = 25


def purposes_with_versions() -> list[ConsentPurpose]:
    """Every purpose (active or not) with its wording versions, newest first, and decision counts."""
    return list(
        ConsentPurpose.objects.annotate(decisions=Count("records"))
        .prefetch_related(Prefetch("wordings", queryset=ConsentWording.objects.order_by("-version")))
        .order_by("position", "code")
    )


def purpose_get(*, purpose_id: int) -> ConsentPurpose:
    return ConsentPurpose.objects.prefetch_related(
        Prefetch("wordings", queryset=ConsentWording.objects.select_related("created_by").order_by("-version"))
    ).get(pk=purpose_id)


def customers_find(*, query: str) -> list[Customer]:
    """Customers by internal id, public id, exact email or phone, or name, for the privacy pages."""
    query = query.strip()
    if not query:
        return []
    lookup = Q(first_name__icontains=query) | Q(last_name__icontains=query)
    if query.isdigit():
        lookup |= Q(pk=int(query))
    with contextlib.suppress(ValueError):
        lookup |= Q(public_id=uuid.UUID(query))
    owners = ContactPoint.objects.filter(value__in={query, query.lower()}).values("customer_id")
    lookup |= Q(pk__in=owners)
    return list(Customer.objects.filter(lookup).order_by("last_name", "first_name", "pk")[:SEARCH_LIMIT])


def ledger_page(*, customer: Customer, page: str | int | None) -> Page:
    """The customer's full ledger, newest first, with who, how and which wording version."""
    records = (
        ConsentRecord.objects.filter(customer=customer)
        .select_related("purpose", "wording", "actor")
        .order_by("-recorded_at", "-id")
    )
    return Paginator(records, LEDGER_PAGE_SIZE).get_page(page)


@dataclass(frozen=True)
class CustomerPrivacy:
    customer: Customer
    states: dict[str, ConsentState]
    ledger: Page
    jobs: list[Job]
    has_email: bool
    preference_url: str


def customer_privacy(*, customer: Customer, page: str | int | None = None) -> CustomerPrivacy:
    """Everything the customer's privacy page shows."""
    return CustomerPrivacy(
        customer=customer,
        states=consent.consent_states(customer),
        ledger=ledger_page(customer=customer, page=page),
        jobs=list(
            Job.objects.filter(customer=customer)
            .select_related("requested_by", "approved_by")
            .order_by("-created_at")[:RECENT_JOBS]
        ),
        has_email=ContactPoint.objects.filter(customer=customer, channel=Channel.EMAIL).exists(),
        preference_url="" if customer.erased else preference_url(customer=customer),
    )


def job_get(*, job_id: int) -> Job:
    return Job.objects.select_related("customer", "requested_by", "approved_by").get(pk=job_id)


# How the counts a job reports read on its page; a key without a label reads as its name.
ERASURE_COUNT_LABELS = {
    "customers": "customer records anonymised (the one asked about and any merged into it)",
    "contact_points": "contact points deleted",
    "events": "browsing events deleted",
    "messages": "messages emptied (text, HTML and sender)",
    "tickets": "ticket subjects erased",
    "attachments": "attachments deleted with their files",
    "outbox_cancelled": "replies not yet sent, cancelled",
    "delivery_errors": "delivery errors blanked",
    "csat_comments": "survey comments blanked (ratings kept)",
    "ticket_events": "ticket history entries scrubbed",
    "chat_sessions": "chat sessions anonymised",
    "quarantined_emails": "held-back emails deleted",
    "orders": "orders kept for accounting (tracking details blanked)",
    "refunds": "refund reasons blanked (amounts kept)",
    "suggestion_feedback": "suggestion feedback reasons blanked",
    "consent_notes": "consent notes and evidence blanked (decisions kept)",
    "audit_events": "audit entries about them scrubbed",
    "merges": "merge records cleared (no undo)",
    "jobs": "their earlier privacy jobs scrubbed",
    "audit_events_unlinked": "other audit entries naming them scrubbed",
    "webhook_deliveries": "webhook deliveries naming them scrubbed",
    "admin_log": "Django admin change-log entries anonymised",
    "import_files": "uploaded import files rewritten without them",
    "jobs_unlinked": "other jobs naming them scrubbed",
}


def job_counts(*, job: Job) -> list[tuple[str, int]]:
    """What a finished job reports, in words: for an erasure the non-zero counts of what it
    removed or anonymised, for an export the sections and their sizes, for a retention run
    what each rule did."""
    result = job.result or {}
    if job.kind == Job.Kind.CUSTOMER_ERASE:
        counts = result.get("counts", {})
        return [(ERASURE_COUNT_LABELS.get(key, key.replace("_", " ")), n) for key, n in counts.items() if n]
    if job.kind == Job.Kind.CUSTOMER_EXPORT:
        return [(key.replace("_", " "), n) for key, n in result.get("counts", {}).items()]
    if job.kind == Job.Kind.RETENTION:
        labels = {kind: str(label) for kind, label in RetentionRule.Kind.choices}
        labels["expired_exports"] = "expired export files deleted"
        return [(labels.get(key, key.replace("_", " ")), n) for key, n in result.get("results", {}).items()]
    return []


def privacy_jobs_recent(*, kinds: list[str] | None = None, limit: int = RECENT_JOBS) -> list[Job]:
    jobs = Job.objects.select_related("customer", "requested_by").order_by("-created_at")
    if kinds:
        jobs = jobs.filter(kind__in=kinds)
    return list(jobs[:limit])


def consent_imports_recent(*, limit: int = RECENT_JOBS) -> QuerySet[Job]:
    return Job.objects.filter(kind=Job.Kind.IMPORT, params__what="consent").select_related("requested_by")[:limit]


def retention_rules() -> dict[str, RetentionRule | None]:
    """Each rule kind with its rule, or None where none is set yet."""
    rules = {rule.kind: rule for rule in RetentionRule.objects.all()}
    return {kind: rules.get(kind) for kind in RetentionRule.Kind.values}


@dataclass(frozen=True)
class RetentionSummary:
    kind: str
    label: str
    rule: RetentionRule | None

    @property
    def period(self) -> str:
        """How long data is kept, as the rule's form asks for it: months for closed tickets."""
        if self.rule is None:
            return ""
        days = self.rule.after_days
        if self.kind == RetentionRule.Kind.ANONYMISE_TICKETS and days % 30 == 0:
            return f"{days // 30} month{'s' if days != 30 else ''}"
        return f"{days} day{'s' if days != 1 else ''}"


def retention_summary() -> list[RetentionSummary]:
    """Each rule kind with its label and its rule (None where none is set yet), for the overview."""
    return [
        RetentionSummary(kind=kind, label=str(RetentionRule.Kind(kind).label), rule=rule)
        for kind, rule in retention_rules().items()
    ]
