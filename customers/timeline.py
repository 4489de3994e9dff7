"""One unified timeline of everything the desk knows about a customer, newest first.

Apps contribute *timeline sources*. A source turns a customer into a queryset of rows that all
have the same columns (``COLUMNS``: when, which object, its kind and channel, and four text
slots the source fills as it likes) and knows how to present one of its rows. The customers app
registers orders, refunds and browsing events here; ``tickets`` registers tickets, messages and
CSAT answers from its ``AppConfig.ready()``, so this module never imports tickets.

``timeline_for_customer`` unions every source that the filters and the customer's consent let
through into ONE query, whatever the history size, and pages through it with a keyset cursor
over (time, source rank, object id): a page never repeats or skips an item, even when several
share a timestamp. Where the database allows it (PostgreSQL), each source is also limited to
its own newest rows inside the union, so the index on (customer, time) does the work.
"""

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import BigIntegerField, F, IntegerField, Q, QuerySet, TextField, Value
from django.db.models.functions import Cast
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from supportdesk.compiled import compiled_query
from supportdesk.labels import choice_label

from .consent import BEHAVIORAL_TRACKING
from .models import Channel, Customer, Event, Order, Refund

FIELDS = ("at", "rank", "obj_id", "kind", "channel", "ref_id", "a", "b", "c", "d")
# Annotation names are prefixed: models have their own ``kind`` and ``channel`` fields.
COLUMNS = tuple(f"tl_{name}" for name in FIELDS)
PAGE_SIZE = 25


def text(expression: Any) -> Cast:
    """A text slot: every source's columns must have one type per position for the union."""
    return Cast(F(expression) if isinstance(expression, str) else expression, TextField())


def no_ref() -> Cast:
    return Cast(Value(None), BigIntegerField())


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last item's (time, source rank, object id)."""

    at: datetime
    rank: int
    obj_id: int

    def encode(self) -> str:
        raw = f"{self.at.isoformat()}|{self.rank}|{self.obj_id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str | None) -> "Cursor | None":
        """The cursor a page link carries, or None for a missing or tampered one (first page)."""
        if not value:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            at_text, rank, obj_id = raw.split("|")
            at = parse_datetime(at_text)
            if at is None:
                return None
            return cls(at=at, rank=int(rank), obj_id=int(obj_id))
        except (ValueError, UnicodeDecodeError):
            return None

    def after(self, rank: int) -> Q:
        """Rows of the source ranked ``rank`` that come after this cursor in (at, rank, id) order."""
        if rank < self.rank:
            return Q(tl_at__lte=self.at)
        if rank > self.rank:
            return Q(tl_at__lt=self.at)
        return Q(tl_at__lt=self.at) | Q(tl_at=self.at, tl_obj_id__lt=self.obj_id)


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    rank: int
    obj_id: int
    kind: str
    channel: str
    ref_id: int | None
    a: str | None
    b: str | None
    c: str | None
    d: str | None


@dataclass(frozen=True)
class TimelineItem:
    """One entry as the page shows it. ``title`` and ``detail`` are plain text (escaped when
    rendered); ``url`` is built by the source from ids, never taken from customer data."""

    at: datetime
    kind: str
    kind_label: str
    channel: str
    title: str
    detail: str = ""
    url: str = ""
    badge: str = ""
    private: bool = False  # an internal note: agents only, shown apart

    @property
    def channel_label(self) -> str:
        return choice_label(Channel, self.channel)


@dataclass(frozen=True)
class TimelineSource:
    """A contributor of timeline rows.

    ``rows(customer)`` returns a queryset annotated with every name in ``COLUMNS`` (use
    ``text()`` for the slots) and narrowed to the customer; ``present(row)`` turns one row into
    a ``TimelineItem`` without touching the database. ``kinds`` maps each kind code the source
    emits to its label. A source with ``purpose`` is left out unless the customer granted it;
    one whose items have no channel (``channelled=False``) is left out when filtering by channel.
    """

    name: str
    rank: int
    kinds: dict[str, Any]
    rows: Callable[[Customer], QuerySet]
    present: Callable[[TimelineRow], TimelineItem]
    purpose: str = ""
    channelled: bool = True


@dataclass
class TimelineRegistry:
    sources: dict[str, TimelineSource] = field(default_factory=dict)

    def register(self, source: TimelineSource) -> None:
        """Add a source; registering the same name again replaces it (app reloads in tests)."""
        clash = [s.name for s in self.sources.values() if s.rank == source.rank and s.name != source.name]
        if clash:
            raise ValueError(f"Timeline source rank {source.rank} is taken by {clash[0]}.")
        self.sources[source.name] = source

    def kinds(self) -> dict[str, Any]:
        labels: dict[str, Any] = {}
        for source in sorted(self.sources.values(), key=lambda s: s.rank):
            labels.update(source.kinds)
        return labels


timeline_sources = TimelineRegistry()


@dataclass(frozen=True)
class TimelinePage:
    items: list[TimelineItem]
    next_cursor: str  # empty on the last page
    kinds: dict[str, Any]  # every kind that can be filtered on, with its label
    hidden_kinds: list[str]  # kinds left out for want of consent, so the page can say so


def timeline_for_customer(
    *,
    customer: Customer,
    kinds: Iterable[str] | None = None,
    channel: str | None = None,
    cursor: str | Cursor | None = None,
    limit: int = PAGE_SIZE,
    allowed_purposes: Iterable[str] | None = None,
    exclude_ref: tuple[Iterable[str], int] | None = None,
) -> TimelinePage:
    """A page of the customer's timeline, newest first, in one query.

    ``kinds`` and ``channel`` narrow it; ``cursor`` is the ``next_cursor`` of the previous page.
    ``exclude_ref`` = (kinds, ref id) leaves out the items of those kinds that belong to that
    ref (a ticket page leaves out its own conversation, which is on screen already).
    ``allowed_purposes`` are the consent purposes the customer granted, when the caller has
    them already; otherwise they are read (two queries) from ``customers.consent``.
    """
    if allowed_purposes is None:
        from .consent import allowed_purposes as read_allowed

        allowed_purposes = read_allowed(customer)
    allowed = set(allowed_purposes)
    wanted = set(kinds) if kinds else None
    position = cursor if isinstance(cursor, Cursor) else Cursor.decode(cursor)
    limit = max(1, min(limit, 100))
    slice_each = connection.features.supports_slicing_ordering_in_compound

    chosen: list[tuple[str, int, tuple[str, ...] | None, tuple[str, ...]]] = []
    hidden: list[str] = []
    for source in sorted(timeline_sources.sources.values(), key=lambda s: s.rank):
        emitted = set(source.kinds)
        if wanted is not None and not emitted & wanted:
            continue
        if source.purpose and source.purpose not in allowed:
            hidden.extend(emitted)
            continue
        if channel and not source.channelled:
            continue
        only = tuple(sorted(emitted & wanted)) if wanted is not None and not emitted <= wanted else None
        left_out = tuple(sorted(emitted & set(exclude_ref[0]))) if exclude_ref is not None else ()
        chosen.append((source.name, id(source), only, left_out))

    if not chosen:
        return TimelinePage([], "", timeline_sources.kinds(), hidden)
    # Everything that shapes the SQL is the key; the customer, channel, ref and cursor are values.
    shape = (tuple(chosen), bool(channel), position.rank if position else None, limit, slice_each)
    values: dict[str, Any] = {"customer_id": customer.pk}
    if channel:
        values["channel"] = channel
    if any(left_out for *_, left_out in chosen):
        values["ref_id"] = exclude_ref[1]
    if position is not None:
        values.update(after_at=position.at, after_obj_id=position.obj_id)
    fetched = [TimelineRow(*(row[column] for column in COLUMNS)) for row in _timeline_rows(shape=shape, **values)]
    page, more = fetched[:limit], len(fetched) > limit
    by_rank = {source.rank: source for source in timeline_sources.sources.values()}
    items = [by_rank[row.rank].present(_normalised(row)) for row in page]
    next_cursor = Cursor(page[-1].at, page[-1].rank, page[-1].obj_id).encode() if more and page else ""
    return TimelinePage(items, next_cursor, timeline_sources.kinds(), sorted(set(hidden)))


@compiled_query(Customer, shaped=True)
def _timeline_rows(
    shape: tuple,
    *,
    customer_id: int,
    channel: str = "",
    ref_id: int = 0,
    after_at: datetime | None = None,
    after_obj_id: int = 0,
) -> QuerySet:
    """The timeline's one query: the chosen sources' rows, unioned, newest first."""
    chosen, _has_channel, after_rank, limit, slice_each = shape
    customer = Customer(pk=customer_id)
    position = Cursor(after_at, after_rank, after_obj_id) if after_rank is not None else None
    parts: list[QuerySet] = []
    for name, _source_id, only, left_out in chosen:
        source = timeline_sources.sources[name]
        rows = source.rows(customer)
        if only is not None:
            rows = rows.filter(tl_kind__in=only)
        if channel:
            rows = rows.filter(tl_channel=channel)
        if left_out:
            rows = rows.exclude(tl_kind__in=left_out, tl_ref_id=ref_id)
        if position is not None:
            rows = rows.filter(position.after(source.rank))
        # Models' default ordering must not leak into the union (SQLite refuses it there).
        parts.append(rows.values(*COLUMNS).order_by())
    if slice_each and len(parts) > 1:
        parts = [part.order_by("-tl_at", "-tl_obj_id")[: limit + 1] for part in parts]
    combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return combined.order_by("-tl_at", "-tl_rank", "-tl_obj_id")[: limit + 1]


def _normalised(row: TimelineRow) -> TimelineRow:
    # SQLite hands back the union's datetimes as text.
    if isinstance(row.at, str):
        parsed = parse_datetime(row.at)
        return TimelineRow(**{**row.__dict__, "at": parsed})
    return row


def source_columns(*, rank: int, at: str, kind: Any, channel: Any = None, ref_id: Any = None, **slots: Any) -> dict:
    """The annotations a source needs. Strings name fields (``"order__number"``); wrap a
    constant in ``Value``. Slots a source leaves out are empty text."""
    empty = Value("")
    return {
        "tl_at": F(at),
        "tl_rank": Value(rank, output_field=IntegerField()),
        "tl_obj_id": Cast("pk", BigIntegerField()),
        "tl_kind": text(kind),
        "tl_channel": text(channel if channel is not None else empty),
        "tl_ref_id": Cast(ref_id, BigIntegerField()) if ref_id is not None else no_ref(),
        **{f"tl_{slot}": text(slots.get(slot, empty)) for slot in ("a", "b", "c", "d")},
    }


# Sources of the customers app ----------------------------------------------------------------

ORDER_RANK, REFUND_RANK, EVENT_RANK = 10, 20, 30


def _orders(customer: Customer) -> QuerySet:
    return Order.objects.filter(customer=customer).annotate(
        **source_columns(
            rank=ORDER_RANK,
            at="placed_at",
            kind=Value("order"),
            a="number",
            b="status",
            c="total",
            d="currency",
        )
    )


def _amount(value: str | None) -> str:
    try:
        return f"{Decimal(value or '0'):.2f}"
    except ArithmeticError:
        return value or ""


def _order_present(row: TimelineRow) -> TimelineItem:
    status = Order.Status(row.b).label if row.b in Order.Status.values else row.b
    return TimelineItem(
        at=row.at,
        kind="order",
        kind_label=str(_("Order")),
        channel="",
        title=str(_("Order #%(number)s") % {"number": row.a}),
        detail=f"{_amount(row.c)} {row.d}",
        url=f"#order-{row.obj_id}",
        badge=str(status),
    )


def _refunds(customer: Customer) -> QuerySet:
    return Refund.objects.filter(order__customer=customer).annotate(
        **source_columns(
            rank=REFUND_RANK,
            at="requested_at",
            kind=Value("refund"),
            ref_id="order_id",
            a="kind",
            b="status",
            c="amount",
            d="order__number",
        )
    )


def _refund_present(row: TimelineRow) -> TimelineItem:
    kind = Refund.Kind(row.a).label if row.a in Refund.Kind.values else row.a
    status = Refund.Status(row.b).label if row.b in Refund.Status.values else row.b
    return TimelineItem(
        at=row.at,
        kind="refund",
        kind_label=str(_("Refund")),
        channel="",
        title=str(
            _("%(kind)s of %(amount)s for order #%(number)s")
            % {"kind": kind, "amount": _amount(row.c), "number": row.d}
        ),
        url=f"#order-{row.ref_id}",
        badge=str(status),
    )


def _events(customer: Customer) -> QuerySet:
    return Event.objects.filter(customer=customer).annotate(
        **source_columns(rank=EVENT_RANK, at="occurred_at", kind=Value("event"), a="kind", b="payload")
    )


# What of an event's payload is worth a line in the timeline, in order of preference.
EVENT_DETAIL_KEYS = ("product", "product_name", "name", "query", "url", "path", "order", "cart_total")


def _event_present(row: TimelineRow) -> TimelineItem:
    label = Event.Kind(row.a).label if row.a in Event.Kind.values else row.a
    try:
        payload = json.loads(row.b or "{}")
    except ValueError:
        payload = {}
    detail = ""
    if isinstance(payload, dict):
        detail = " · ".join(str(payload[key])[:120] for key in EVENT_DETAIL_KEYS if payload.get(key))
    return TimelineItem(
        at=row.at,
        kind="event",
        kind_label=str(_("Browsing")),
        channel="",
        title=str(label),
        detail=detail,
    )


timeline_sources.register(
    TimelineSource(
        name="orders",
        rank=ORDER_RANK,
        kinds={"order": _("Orders")},
        rows=_orders,
        present=_order_present,
        channelled=False,
    )
)
timeline_sources.register(
    TimelineSource(
        name="refunds",
        rank=REFUND_RANK,
        kinds={"refund": _("Refunds and returns")},
        rows=_refunds,
        present=_refund_present,
        channelled=False,
    )
)
timeline_sources.register(
    TimelineSource(
        name="events",
        rank=EVENT_RANK,
        kinds={"event": _("Browsing")},
        rows=_events,
        present=_event_present,
        purpose=BEHAVIORAL_TRACKING,
        channelled=False,
    )
)
