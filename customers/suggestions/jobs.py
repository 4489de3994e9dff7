"""Scheduled computations behind the suggestions: churn risk, "bought together", VIP threshold.

All are idempotent (running twice gives the same rows) and work in batches; Celery wraps them
in ``customers.suggestions.tasks`` and beat runs them (``CELERY_BEAT_SCHEDULE``).

**Churn risk** is explainable: ``churn_score`` turns a customer's figures into a 0..1 score
and a dict of the factors that raised it, each in plain words ("Last order 120 days ago; they
used to order about every 35 days"). Both are saved on ``Customer.churn_risk`` and
``Customer.churn_factors``. Purchases and refunds come from this app; contacts and CSAT come
from *churn signal providers* that other apps register (tickets does), so customers never
imports tickets. A customer without a (non-cancelled) order has no churn risk (None).

**Bought together** fills ``ProductAffinity`` from co-occurrence in order lines: for each pair
of products in the same order, ``together`` counts the orders holding both and ``confidence``
is together / orders holding the first product.

**VIP threshold**: the lifetime value at which the top ``DESK_SUGGESTIONS_VIP_TOP_SHARE`` (5%)
of customers starts, kept in the cache so no page ever ranks every customer.
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Case, Count, F, Max, Min, Q, Sum, Value, When, Window
from django.db.models.functions import CumeDist
from django.utils import formats, timezone

from customers.models import Customer, Order, OrderLine, ProductAffinity, Refund

from .registry import setting

logger = logging.getLogger(__name__)

HALF_YEAR = timedelta(days=182)
CONTACT_DAYS = 30
CHURN_BATCH = 500


# Churn risk -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChurnFeatures:
    """A customer's figures as the churn score reads them (``now`` fixes "recent")."""

    orders: int = 0
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    orders_recent: int = 0  # the last six months
    orders_before: int = 0  # the six months before
    spend_recent: Decimal = Decimal("0")
    spend_before: Decimal = Decimal("0")
    refunds_recent: int = 0
    contacts_30d: int = 0
    last_csat: int | None = None
    last_csat_at: datetime | None = None


# provider(customer_ids, now) -> {customer_id: {"contacts_30d": int, "last_csat": int, "last_csat_at": datetime}}
ChurnSignals = Callable[[list[int], datetime], dict[int, dict[str, Any]]]
_churn_signal_providers: dict[str, ChurnSignals] = {}


def churn_signals_register(name: str, provider: ChurnSignals) -> None:
    """Let another app add contact and satisfaction figures to the churn features."""
    _churn_signal_providers[name] = provider


def _day(moment: datetime, now: datetime) -> str:
    local = timezone.localtime(moment)
    return formats.date_format(local, "j M" if local.year == timezone.localtime(now).year else "j M Y")


def _money(value: Decimal) -> str:
    return f"{Decimal(value):.2f}"


def churn_score(features: ChurnFeatures, *, now: datetime) -> tuple[float | None, dict[str, str]]:
    """The churn risk (0..1, two decimals) and the factors that raised it, in plain words.

    Weights: a small base, then recency against the customer's own rhythm (up to 0.35),
    falling order frequency (0.15) and spend (0.10), many contacts in 30 days (0.15), the last
    CSAT answer (0.25 for 1-2, 0.10 for 3) and recent refunds or returns (up to 0.24).
    """
    if not features.orders or features.last_order_at is None:
        return None, {}
    score = 0.05
    factors: dict[str, str] = {}

    days_since = max(0, (now - features.last_order_at).days)
    if features.orders >= 2 and features.first_order_at is not None:
        rhythm = max(14, (features.last_order_at - features.first_order_at).days / (features.orders - 1))
        habit = f"they used to order about every {round(rhythm)} days"
    else:
        rhythm = 60
        habit = "it was their only order"
    overdue = days_since / rhythm
    if overdue > 1.5:
        score += 0.35 * min(1.0, (overdue - 1) / 3)
        factors["Recency"] = f"Last order {days_since} days ago; {habit}"

    if features.orders_before >= 2 and features.orders_recent < features.orders_before:
        score += 0.15 * (features.orders_before - features.orders_recent) / features.orders_before
        recent = "1 order" if features.orders_recent == 1 else f"{features.orders_recent} orders"
        factors["Frequency"] = (
            f"{recent} in the last 6 months, down from {features.orders_before} in the 6 months before"
        )

    if features.spend_before > 0 and features.spend_recent < features.spend_before / 2:
        score += 0.10 * float(1 - features.spend_recent / features.spend_before)
        factors["Spend"] = (
            f"Spent {_money(features.spend_recent)} in the last 6 months, down from "
            f"{_money(features.spend_before)} in the 6 months before"
        )

    if features.contacts_30d >= 3:
        score += 0.15 * min(1.0, (features.contacts_30d - 2) / 3)
        factors["Contact rate"] = f"{features.contacts_30d} conversations in the last {CONTACT_DAYS} days"

    if features.last_csat is not None and features.last_csat <= 3:
        score += 0.25 if features.last_csat <= 2 else 0.10
        when = f" on {_day(features.last_csat_at, now)}" if features.last_csat_at else ""
        factors["Last CSAT"] = f"Rated the last help {features.last_csat}/5{when}"

    if features.refunds_recent:
        score += 0.08 * min(features.refunds_recent, 3)
        plural = "s" if features.refunds_recent != 1 else ""
        factors["Refunds"] = f"{features.refunds_recent} refund{plural} or return{plural} in the last 6 months"

    return round(min(max(score, 0.0), 0.99), 2), factors


def churn_features(*, customer_ids: list[int], now: datetime) -> dict[int, ChurnFeatures]:
    """The features of a batch of customers: two aggregate queries plus one per signal provider."""
    recent, before = now - HALF_YEAR, now - 2 * HALF_YEAR
    in_recent = Q(placed_at__gte=recent)
    in_before = Q(placed_at__gte=before, placed_at__lt=recent)
    orders = (
        Order.objects.filter(customer_id__in=customer_ids)
        .exclude(status=Order.Status.CANCELLED)
        .values("customer_id")
        .order_by()
        .annotate(
            n=Count("pk"),
            first=Min("placed_at"),
            last=Max("placed_at"),
            recent=Count("pk", filter=in_recent),
            before=Count("pk", filter=in_before),
            spend_recent=Sum("total", filter=in_recent),
            spend_before=Sum("total", filter=in_before),
        )
    )
    refunds = dict(
        Refund.objects.filter(order__customer_id__in=customer_ids, requested_at__gte=recent)
        .values("order__customer_id")
        .order_by()
        .annotate(n=Count("pk"))
        .values_list("order__customer_id", "n")
    )
    signals: dict[int, dict[str, Any]] = defaultdict(dict)
    for provider in _churn_signal_providers.values():
        for customer_id, values in provider(customer_ids, now).items():
            signals[customer_id].update(values)
    features: dict[int, ChurnFeatures] = {}
    for row in orders:
        customer_id = row["customer_id"]
        extra = signals.get(customer_id, {})
        features[customer_id] = ChurnFeatures(
            orders=row["n"],
            first_order_at=row["first"],
            last_order_at=row["last"],
            orders_recent=row["recent"],
            orders_before=row["before"],
            spend_recent=Decimal(row["spend_recent"] or 0),
            spend_before=Decimal(row["spend_before"] or 0),
            refunds_recent=refunds.get(customer_id, 0),
            contacts_30d=int(extra.get("contacts_30d") or 0),
            last_csat=extra.get("last_csat"),
            last_csat_at=extra.get("last_csat_at"),
        )
    return features


def churn_refresh(*, customer_ids: Iterable[int], now: datetime | None = None) -> int:
    """Recompute and save the churn risk of these customers; returns how many rows changed."""
    now = now or timezone.now()
    ids = list(customer_ids)
    if not ids:
        return 0
    features = churn_features(customer_ids=ids, now=now)
    changed = []
    for customer in Customer.objects.filter(pk__in=ids).only("pk", "churn_risk", "churn_factors", "erased"):
        found = features.get(customer.pk)
        risk, factors = (None, {}) if customer.erased or found is None else churn_score(found, now=now)
        if customer.churn_risk != risk or (customer.churn_factors or {}) != factors:
            customer.churn_risk, customer.churn_factors = risk, factors
            changed.append(customer)
    with transaction.atomic():
        Customer.objects.bulk_update(changed, ["churn_risk", "churn_factors"], batch_size=CHURN_BATCH)
    return len(changed)


def churn_refresh_all(*, batch_size: int = CHURN_BATCH, now: datetime | None = None) -> int:
    """Every customer who ever ordered or has a risk on file, in batches by id."""
    now = now or timezone.now()
    candidates = (
        Customer.objects.filter(Q(last_order_at__isnull=False) | Q(churn_risk__isnull=False))
        .filter(merged_into__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    changed, last = 0, 0
    while True:
        batch = list(candidates.filter(pk__gt=last)[:batch_size])
        if not batch:
            return changed
        changed += churn_refresh(customer_ids=batch, now=now)
        last = batch[-1]


# Bought together ------------------------------------------------------------------------------


def product_affinity_refresh(*, now: datetime | None = None) -> int:
    """Rebuild ``ProductAffinity`` from the order lines of the last ``DESK_SUGGESTIONS_AFFINITY_DAYS``.

    Pairs seen in fewer than ``..._MIN_TOGETHER`` orders are left out (noise), and each product
    keeps its ``..._PER_PRODUCT`` best partners. The table is replaced in one transaction, so
    readers see the old statistics or the new, never a mix. Returns the number of pairs.
    """
    now = now or timezone.now()
    since = now - timedelta(days=setting("DESK_SUGGESTIONS_AFFINITY_DAYS"))
    min_together = setting("DESK_SUGGESTIONS_AFFINITY_MIN_TOGETHER")
    per_product = setting("DESK_SUGGESTIONS_AFFINITY_PER_PRODUCT")
    lines = OrderLine.objects.filter(product__isnull=False, order__placed_at__gte=since).exclude(
        order__status=Order.Status.CANCELLED
    )
    orders_of = dict(
        lines.values("product_id")
        .order_by()
        .annotate(n=Count("order_id", distinct=True))
        .values_list("product_id", "n")
    )
    line_table, order_table = OrderLine._meta.db_table, Order._meta.db_table
    # A self-join of order lines on the order: every ordered pair of distinct products in one order.
    sql = (
        f"SELECT a.product_id, b.product_id, COUNT(DISTINCT a.order_id) FROM {line_table} a "  # noqa: S608 - table names from model metadata
        f"JOIN {line_table} b ON b.order_id = a.order_id AND b.product_id <> a.product_id "
        f"JOIN {order_table} o ON o.id = a.order_id "
        "WHERE a.product_id IS NOT NULL AND b.product_id IS NOT NULL AND o.placed_at >= %s AND o.status <> %s "
        "GROUP BY a.product_id, b.product_id HAVING COUNT(DISTINCT a.order_id) >= %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [since, Order.Status.CANCELLED, min_together])
        pairs = cursor.fetchall()
    by_product: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
    for product_id, other_id, together in pairs:
        confidence = together / orders_of.get(product_id, together) if orders_of.get(product_id) else 0.0
        by_product[product_id].append((min(confidence, 1.0), together, other_id))
    rows = [
        ProductAffinity(
            product_id=product_id,
            other_id=other_id,
            together=together,
            confidence=round(confidence, 4),
            computed_at=now,
        )
        for product_id, candidates in by_product.items()
        for confidence, together, other_id in sorted(candidates, key=lambda c: (-c[0], -c[1], c[2]))[:per_product]
    ]
    with transaction.atomic():
        ProductAffinity.objects.all().delete()
        ProductAffinity.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


# VIP threshold --------------------------------------------------------------------------------

VIP_CACHE_KEY = "desk:suggestions:vip-threshold"
_NONE = "none"


def vip_threshold_compute() -> Decimal | None:
    """The lowest lifetime value inside the top share of paying customers (lifetime value
    above zero, not merged away, not erased), in one query; None while nobody has spent
    anything. With fewer customers than the share can split, the best customer alone is the top.
    """
    share = setting("DESK_SUGGESTIONS_VIP_TOP_SHARE")
    ranked = Customer.objects.filter(merged_into__isnull=True, erased=False, lifetime_value__gt=0).annotate(
        top_share=Window(CumeDist(), order_by=F("lifetime_value").desc())
    )
    inside = Q(top_share__lte=share)
    # First the lowest value still inside the share; if the share holds nobody, the best value.
    value = (
        ranked.order_by(
            Case(When(inside, then=Value(0)), default=Value(1)),
            Case(When(inside, then=F("top_share") * -1), default=F("top_share")),
        )
        .values_list("lifetime_value", flat=True)
        .first()
    )
    return Decimal(value) if value is not None else None


def vip_threshold_refresh() -> Decimal | None:
    """Recompute the threshold and keep it in the cache (the beat job calls this hourly)."""
    value = vip_threshold_compute()
    cache.set(VIP_CACHE_KEY, str(value) if value is not None else _NONE, setting("DESK_SUGGESTIONS_VIP_CACHE_SECONDS"))
    return value


def vip_threshold() -> Decimal | None:
    """The cached threshold; computed (one query) when the cache is cold."""
    cached = cache.get(VIP_CACHE_KEY)
    if cached is None:
        return vip_threshold_refresh()
    return None if cached == _NONE else Decimal(cached)
