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
