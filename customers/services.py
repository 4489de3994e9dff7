"""Every write to customer data goes through a function here.

Each is keyword-only, atomic, validates its input, records an audit row where a person's data
is touched, and returns what it wrote.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Max, Q, QuerySet, Sum
from django.utils import timezone

from supportdesk.compiled import compiled_query

from .identity import contact_normalise
from .models import (
    AuditEvent,
    Channel,
    ConsentPurpose,
    ConsentRecord,
    ConsentWording,
    ContactPoint,
    Customer,
    Order,
    OrderLine,
    Product,
    Refund,
)
from .suggestions.tasks import churn_refresh_on_commit


def audit_record(
    *,
    action: str,
    customer: Customer | None = None,
    actor: AbstractBaseUser | None = None,
    actor_label: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row. Callers run it inside their own transaction."""
    if actor is not None and not actor.is_authenticated:
        actor = None
    return AuditEvent.objects.create(
        action=action,
        customer=customer,
        actor=actor,
        actor_label=actor_label or (actor.get_username() if actor else "system"),
        details=details or {},
    )


@transaction.atomic
def customer_create(
    *,
    first_name: str = "",
    last_name: str = "",
    preferred_name: str = "",
    locale: str = "en",
    timezone_name: str = "UTC",
    country: str = "",
    contacts: list[tuple[str, str]] | None = None,
    actor: AbstractBaseUser | None = None,
    actor_label: str = "",
    contacted_at: datetime | None = None,
) -> Customer:
    """Create a customer with its contact points (each normalised, each unique) and audit it.

    Raises ``ValidationError`` when a contact is not valid or belongs to someone else; nothing
    is written then. ``contacted_at`` is the customer's first contact (an inbound message).
    """
    return _customer_insert(
        first_name=first_name,
        last_name=last_name,
        preferred_name=preferred_name,
        locale=locale,
        timezone_name=timezone_name,
        country=country,
        contacts=contacts or [],
        actor=actor,
        actor_label=actor_label,
        contacted_at=contacted_at,
    )


def _customer_insert(
    *,
    first_name: str,
    last_name: str,
    preferred_name: str = "",
    locale: str,
    timezone_name: str = "UTC",
    country: str,
    contacts: list[tuple[str, str]],
    actor: AbstractBaseUser | None = None,
    actor_label: str,
    contacted_at: datetime | None,
    contacts_free: bool = False,
) -> Customer:
    # customer_create without a savepoint of its own. Every new sender of an inbound message
    # comes through here, so it costs four statements: the contacts' owner check (skipped with
    # ``contacts_free``: the caller has just looked them up), the customer, its contact points in
    # one insert, the audit row.
    customer = Customer(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        preferred_name=preferred_name.strip(),
        locale=locale,
        timezone=timezone_name,
        country=country.upper(),
        last_contact_at=contacted_at,
    )
    # A fresh random public_id, no merge and no churn figures: the unique and check constraints
    # cannot fail here (the database still enforces them), so they are not asked about.
    customer.full_clean(validate_unique=False, validate_constraints=False)
    region = customer.country or None
    points: dict[tuple[str, str], ContactPoint] = {}
    for channel, value in contacts:
        normalised = contact_normalise(channel=channel, value=value, region=region)
        if (channel, normalised) not in points:
            primary = not any(key[0] == channel for key in points)
            points[(channel, normalised)] = ContactPoint(channel=channel, value=normalised, is_primary=primary)
    if points and not contacts_free:
        taken = Q()
        for channel, value in points:
            taken |= Q(channel=channel, value=value)
        owned = ContactPoint.objects.filter(taken).values_list("value", flat=True).first()
        if owned is not None:
            raise ValidationError({"value": f"{owned} already belongs to another customer."}, code="taken")
    customer.save()
    for point in points.values():
        point.customer = customer
    ContactPoint.objects.bulk_create(points.values())
    audit_record(
        action=AuditEvent.Action.CUSTOMER_CREATED,
        customer=customer,
        actor=actor,
        actor_label=actor_label,
    )
    return customer


@transaction.atomic
def contact_point_add(*, customer: Customer, channel: str, value: str, verified: bool = False) -> ContactPoint:
    """Attach a contact point; raises ``ValidationError`` if it belongs to someone else."""
    normalised = contact_normalise(channel=channel, value=value, region=customer.country or None)
    existing = ContactPoint.objects.filter(channel=channel, value=normalised).first()
    if existing:
        if existing.customer_id != customer.pk:
            raise ValidationError({"value": f"{normalised} already belongs to another customer."}, code="taken")
        return existing
    is_primary = not customer.contact_points.filter(channel=channel).exists()
    return ContactPoint.objects.create(
        customer=customer, channel=channel, value=normalised, verified=verified, is_primary=is_primary
    )


@compiled_query(ContactPoint)
def _contact_point_with_customer(*, channel: str, value: str) -> QuerySet[ContactPoint]:
    # Every inbound message from a sender without an open ticket asks this: compiled once per
    # process (supportdesk.compiled).
    return ContactPoint.objects.select_related("customer").filter(channel=channel, value=value)[:1]


@dataclass(frozen=True)
class Resolution:
    customer: Customer
    created: bool
    via_merge: bool = False  # the contact belongs to a customer merged into ``customer``


def customer_resolve(
    *,
    channel: str,
    value: str,
    first_name: str = "",
    last_name: str = "",
    locale: str = "",
    country: str = "",
    actor_label: str = "",
    contacted_at: datetime | None = None,
    savepoint: bool = True,
) -> Resolution:
    """Find the customer behind a contact (any channel), or create one.

    The contact is normalised first, so ``Maria@Example.com`` and ``maria@example.com`` are one
    person, as are ``+1 (415) 555-0100`` and ``4155550100`` in the US. A merged customer resolves
    to its survivor. A new customer is audited, and ``contacted_at`` is its first contact.

    Safe under concurrency: a lost race re-reads the winner's row. With ``savepoint=False`` the
    lost race raises ``IntegrityError`` instead, for a caller that rolls back its whole
    transaction and goes again (one savepoint fewer for every new sender).
    """
    normalised = contact_normalise(channel=channel, value=value, region=country or None)
    found = _contact_point_with_customer(channel=channel, value=normalised)
    point = found[0] if found else None
    if point:
        customer = point.customer
        while customer.merged_into_id:
            customer = customer.merged_into
        return Resolution(customer, False, via_merge=customer.pk != point.customer_id)
    create = {
        "first_name": first_name,
        "last_name": last_name,
        "locale": locale or "en",
        "country": country,
        "contacts": [(channel, normalised)],
        "actor_label": actor_label or f"inbound {channel}",
        "contacted_at": contacted_at,
        "contacts_free": True,  # looked up just above
    }
    if not savepoint:
        return Resolution(_customer_insert(**create), True)
    try:
        with transaction.atomic():
            customer = _customer_insert(**create)
    except IntegrityError:
        point = ContactPoint.objects.select_related("customer").get(channel=channel, value=normalised)
        return Resolution(point.customer, False)
    return Resolution(customer, True)


def customer_figures_refresh(*, customer: Customer) -> Customer:
    """Recompute the denormalised order figures from the orders and refunds themselves."""
    counted = customer.orders.exclude(status=Order.Status.CANCELLED)
    totals = counted.aggregate(total=Sum("total"), last=Max("placed_at"))
    refunded = Refund.objects.filter(order__customer=customer, status=Refund.Status.COMPLETED).aggregate(
        total=Sum("amount")
    )["total"] or Decimal("0")
    customer.lifetime_value = max(Decimal("0"), (totals["total"] or Decimal("0")) - refunded)
    customer.order_count = counted.count()
    customer.last_order_at = totals["last"]
    Customer.objects.filter(pk=customer.pk).update(
        lifetime_value=customer.lifetime_value,
        order_count=customer.order_count,
        last_order_at=customer.last_order_at,
    )
    return customer


@dataclass(frozen=True)
class LineInput:
    name: str
    quantity: int = 1
    unit_price: Decimal = Decimal("0")
    sku: str = ""
    product_external_id: str = ""


_ORDER_FIELDS = (
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
)


@transaction.atomic
def order_record(
    *,
    customer: Customer,
    source: str,
    external_id: str,
    number: str,
    total: Decimal,
    placed_at: datetime,
    status: str = Order.Status.PAID,
    currency: str = "EUR",
    promised_delivery: date | None = None,
    shipped_at: datetime | None = None,
    delivered_at: datetime | None = None,
    carrier: str = "",
    tracking_number: str = "",
    tracking_url: str = "",
    lines: list[LineInput] | None = None,
) -> tuple[Order, bool]:
    """Create or update the order the store knows as (source, external_id).

    Idempotent: recording the same order twice changes nothing the second time. Lines are
    replaced only when they differ. Returns (order, changed). Refreshes the customer's figures.
    """
    if not external_id:
        raise ValidationError({"external_id": "An order needs the store's id."})
    if Decimal(total) < 0:
        raise ValidationError({"total": "An order total cannot be negative."})
    if status not in Order.Status.values:
        raise ValidationError({"status": f"Unknown order status {status!r}."})
    values = {
        "number": number,
        "status": status,
        "currency": currency.upper(),
        "total": Decimal(total),
        "placed_at": placed_at,
        "promised_delivery": promised_delivery,
        "shipped_at": shipped_at,
        "delivered_at": delivered_at,
        "carrier": carrier,
        "tracking_number": tracking_number,
        "tracking_url": tracking_url,
    }
    order = Order.objects.select_for_update().filter(source=source, external_id=external_id).first()
    changed = False
    if order is None:
        order = Order.objects.create(customer=customer, source=source, external_id=external_id, **values)
        changed = True
    else:
        if order.customer_id != customer.pk:
            raise ValidationError({"customer": "This order belongs to another customer."})
        dirty = [field for field in _ORDER_FIELDS if getattr(order, field) != values[field]]
        if dirty:
            for field in dirty:
                setattr(order, field, values[field])
            order.save(update_fields=[*dirty, "updated_at"])
            changed = True
    if lines is not None and _lines_differ(order, lines):
        order.lines.all().delete()
        products = _products_by_external_id(source, [line.product_external_id for line in lines])
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                position=position,
                product=products.get(line.product_external_id),
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price=Decimal(line.unit_price),
            )
            for position, line in enumerate(lines, start=1)
        )
        changed = True
    if changed:
        customer_figures_refresh(customer=customer)
        churn_refresh_on_commit(customer_id=customer.pk)
    return order, changed


def _lines_differ(order: Order, lines: list[LineInput]) -> bool:
    current = [
        (line.name, line.quantity, line.unit_price, line.sku, line.product.external_id if line.product else "")
        for line in order.lines.select_related("product")
    ]
    wanted = [
        (line.name, line.quantity, Decimal(line.unit_price), line.sku, line.product_external_id) for line in lines
    ]
    return current != wanted


def _products_by_external_id(source: str, external_ids: list[str]) -> dict[str, Product]:
    ids = [external_id for external_id in external_ids if external_id]
    return {p.external_id: p for p in Product.objects.filter(source=source, external_id__in=ids)}


@transaction.atomic
def product_record(
    *,
    source: str,
    external_id: str,
    name: str,
    price: Decimal = Decimal("0"),
    currency: str = "EUR",
    sku: str = "",
    category: str = "",
    url: str = "",
    active: bool = True,
) -> tuple[Product, bool]:
    """Create or update a catalogue entry by (source, external_id). Returns (product, created)."""
    return Product.objects.update_or_create(
        source=source,
        external_id=external_id,
        defaults={
            "name": name,
            "price": Decimal(price),
            "currency": currency.upper(),
            "sku": sku,
            "category": category,
            "url": url,
            "active": active,
        },
    )


@transaction.atomic
def refund_record(
    *,
    order: Order,
    source: str,
    external_id: str,
    amount: Decimal,
    status: str = Refund.Status.REQUESTED,
    kind: str = Refund.Kind.REFUND,
    reason: str = "",
    requested_at: datetime | None = None,
    completed_at: datetime | None = None,
) -> tuple[Refund, bool]:
    """Create or update a refund or return by (source, external_id); idempotent."""
    if status not in Refund.Status.values:
        raise ValidationError({"status": f"Unknown refund status {status!r}."})
    if status == Refund.Status.COMPLETED and completed_at is None:
        completed_at = timezone.now()
    values = {
        "order": order,
        "amount": Decimal(amount),
        "status": status,
        "kind": kind,
        "reason": reason,
        "completed_at": completed_at,
    }
    refund = Refund.objects.select_for_update().filter(source=source, external_id=external_id).first()
    if refund is None:
        refund = Refund.objects.create(
            source=source, external_id=external_id, requested_at=requested_at or timezone.now(), **values
        )
        changed = True
    else:
        dirty = [field for field, value in values.items() if getattr(refund, field) != value]
        for field in dirty:
            setattr(refund, field, values[field])
        if dirty:
            refund.save(update_fields=dirty)
        changed = bool(dirty)
    if changed:
        customer_figures_refresh(customer=order.customer)
        churn_refresh_on_commit(customer_id=order.customer_id)
    return refund, changed


def consent_wording_translations(*, purpose: ConsentPurpose) -> dict[str, str]:
    """The purpose's wording per language, as a wording version stores it (``{"es": "..."}``)."""
    return {
        language: entry["description"]
        for language, entry in sorted((purpose.translations or {}).items())
        if isinstance(entry, dict) and entry.get("description")
    }


def consent_wording_current(*, purpose: ConsentPurpose, actor: AbstractBaseUser | None = None) -> ConsentWording:
    """The latest wording version of ``purpose``, created from its description (and its
    translations) if missing or stale. Versions are never edited: a change is a new version."""
    latest = purpose.wordings.order_by("-version").first()
    translations = consent_wording_translations(purpose=purpose)
    if latest is None or latest.text != purpose.description or latest.translations != translations:
        latest = ConsentWording.objects.create(
            purpose=purpose,
            version=(latest.version + 1) if latest else 1,
            text=purpose.description,
            translations=translations,
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
    return latest


@transaction.atomic
def consent_record(
    *,
    customer: Customer,
    purpose: str,
    granted: bool,
    source: str,
    actor: AbstractBaseUser | None = None,
    actor_label: str = "",
    note: str = "",
    evidence: str = "",
    wording: ConsentWording | None = None,
    recorded_at: datetime | None = None,
) -> ConsentRecord:
    """Append a consent decision to the ledger and audit it.

    The record points at the wording version the customer decided on: ``wording`` when the
    caller knows which one was shown (the preference centre), else the current one, so the
    ledger shows what they saw even after the purpose is reworded. ``recorded_at`` backdates
    an imported decision (never into the future); the current state is the latest by time.
    """
    if source not in ConsentRecord.Source.values:
        raise ValidationError({"source": f"Unknown consent source {source!r}."})
    if customer.erased:
        raise ValidationError({"customer": "An erased customer cannot record consent."})
    try:
        purpose_obj = ConsentPurpose.objects.get(code=purpose, active=True)
    except ConsentPurpose.DoesNotExist:
        raise ValidationError({"purpose": f"Unknown or inactive purpose {purpose!r}."}) from None
    if wording is not None and wording.purpose_id != purpose_obj.pk:
        raise ValidationError({"wording": "That wording belongs to another purpose."})
    now = timezone.now()
    if recorded_at is not None and recorded_at > now + timedelta(minutes=5):
        raise ValidationError({"recorded_at": "A decision cannot be recorded in the future."})
    if actor is not None and not actor.is_authenticated:
        actor = None
    record = ConsentRecord.objects.create(
        customer=customer,
        purpose=purpose_obj,
        granted=bool(granted),
        source=source,
        actor=actor,
        wording=wording or consent_wording_current(purpose=purpose_obj),
        note=note,
        evidence=evidence[:255],
        recorded_at=recorded_at or now,
    )
    audit_record(
        action=AuditEvent.Action.CONSENT_RECORDED,
        customer=customer,
        actor=actor,
        actor_label=actor_label,
        details={"purpose": purpose, "granted": bool(granted), "source": source, "record": record.pk},
    )
    return record


@dataclass(frozen=True)
class EventInput:
    customer: Customer
    kind: str
    occurred_at: datetime
    payload: dict[str, Any]
    source: str = "store"
    external_id: str = ""


@dataclass(frozen=True)
class EventBatchResult:
    accepted: int
    dropped: int
    duplicates: int


@transaction.atomic
def events_record(*, events: list[EventInput]) -> EventBatchResult:
    """Store behavioural events, dropping those of customers without tracking consent.

    One implementation serves every path in: this delegates to ``customers.ingest.events_ingest``
    (consent read once per batch, replays found with one query per source, one bulk insert).
    """
    from .ingest import events_ingest  # ingest builds on this module

    return events_ingest(events=events)


def customer_contact_touch(*, customer_id: int, at: datetime | None = None) -> None:
    """Note that the customer was in contact (for recency figures). By id: the inbound path
    knows the customer only by the id on their ticket."""
    at = at or timezone.now()
    # Written out rather than built by the ORM: every inbound message runs it, and building the
    # update cost four times the Python of sending it. Column names come from the model, values
    # are adapted as the ORM adapts them, and the statement is logged like the ORM's.
    db = connections[router.db_for_write(Customer)]
    quote, table = db.ops.quote_name, Customer._meta.db_table
    last, pk = (quote(Customer._meta.get_field(name).column) for name in ("last_contact_at", "id"))
    sql = f"UPDATE {quote(table)} SET {last} = %s WHERE {pk} = %s AND ({last} IS NULL OR {last} < %s)"  # noqa: S608 - model names
    moment = db.ops.adapt_datetimefield_value(at)
    with db.cursor() as cursor:
        cursor.execute(sql, [moment, customer_id, moment])


def profile_view_record(*, customer: Customer, actor: AbstractBaseUser) -> AuditEvent:
    """Audit that an agent opened a customer's profile."""
    return audit_record(action=AuditEvent.Action.PROFILE_VIEWED, customer=customer, actor=actor)


__all__ = [
    "Channel",
    "EventInput",
    "LineInput",
    "audit_record",
    "consent_record",
    "contact_point_add",
    "customer_create",
    "customer_resolve",
    "events_record",
    "order_record",
    "product_record",
    "profile_view_record",
    "refund_record",
]
