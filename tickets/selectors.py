"""Reads for the inbox and ticket pages; query counts do not grow with history size.

Also the tickets app's contributions to the customers app's extension points (timeline sources,
profile figures, order mentions for duplicate detection), registered from ``TicketsConfig.ready``.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Channel, Customer
from customers.timeline import TimelineItem, TimelineRow, TimelineSource, source_columns
from supportdesk.compiled import compiled_query

from .models import Attachment, CSATSurvey, Macro, Message, Priority, Tag, Team, Ticket

INBOX_VIEWS = ("mine", "unassigned", "open", "all")
INBOX_VIEW_LABELS = {"mine": _("Mine"), "unassigned": _("Unassigned"), "open": _("All open"), "all": _("All")}
TEAM_VIEW = "team"
PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}
# Sort orders the inbox offers; anything else falls back to the first.
INBOX_SORTS = {
    "activity": (_("Latest activity"), ("-last_message_at", "-id")),
    "waiting": (_("Waiting longest"), ("last_message_at", "id")),
    "newest": (_("Newest"), ("-created_at", "-id")),
    "priority": (_("Priority"), ("-priority_rank", "-last_message_at", "-id")),
    "due": (_("SLA due first"), (F("next_due_at").asc(nulls_last=True), "-priority_rank", "id")),
}
SLA_FILTERS = {"breached": _("Breached"), "due_soon": _("Due soon"), "paused": _("Paused"), "ok": _("On track")}


@dataclass(frozen=True)
class InboxQuery:
    """What the agent asked the inbox for; unknown values were already dropped by the form."""

    view: str = "open"
    team: int | None = None
    channel: str = ""
    status: str = ""
    priority: str = ""
    tag: str = ""
    sla: str = ""
    sort: str = "activity"


def sla_due_soon(now: datetime) -> datetime:
    """Until when an SLA target counts as "due soon"."""
    return now + timedelta(minutes=settings.DESK_SLA_DUE_SOON_MINUTES)


def sla_annotations(now: datetime, soon: datetime | None = None) -> dict[str, Any]:
    """The SLA state in SQL, with the same rules as ``tickets.sla.sla_state`` (see there).

    ``soon`` defaults to ``sla_due_soon(now)``; a compiled query passes both as values."""
    soon = soon or sla_due_soon(now)
    next_due = Case(
        When(first_response_at__isnull=True, then=F("first_response_due_at")),
        default=F("resolution_due_at"),
    )
    state = Case(
        When(~Q(status__in=Ticket.UNSOLVED), then=Value("ok")),
        When(
            status=Ticket.Status.PENDING,
            next_due_at__isnull=False,
            next_due_at__lte=Coalesce(F("sla_paused_at"), Value(now)),
            then=Value("breached"),
        ),
        When(status=Ticket.Status.PENDING, then=Value("paused")),
        When(next_due_at__isnull=True, then=Value("ok")),
        When(next_due_at__lte=now, then=Value("breached")),
        When(next_due_at__lte=soon, then=Value("due_soon")),
        default=Value("ok"),
        output_field=CharField(),
    )
    return {"next_due_at": next_due, "sla_state": state}


def _priority_rank() -> Case:
    return Case(
        *(When(priority=value, then=Value(rank)) for value, rank in PRIORITY_RANK.items()),
        default=Value(1),
        output_field=IntegerField(),
    )


def inbox_tickets(
    *,
    user: AbstractBaseUser,
    view: str = "open",
    query: InboxQuery | None = None,
    now: datetime | None = None,
) -> QuerySet[Ticket]:
    """Tickets for one inbox view and its filters, sorted, with what each row shows.

    Rows carry ``sla_state`` ('breached', 'due_soon', 'paused', 'ok') and ``next_due_at``, computed in
    SQL so the SLA filter is a WHERE clause. Two queries per page (rows, tags), plus the count.
    """
    query = query or InboxQuery(view=view)
    now = now or timezone.now()
    return _inbox_queryset(query, user_id=user.pk, now=now, soon=sla_due_soon(now))


def _inbox_queryset(query: InboxQuery, *, user_id: int, now: datetime, soon: datetime) -> QuerySet[Ticket]:
    tickets = (
        Ticket.objects.select_related("customer", "assignee", "team")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name")))
        .annotate(**sla_annotations(now, soon), priority_rank=_priority_rank())
    )
    if query.view == "mine":
        tickets = tickets.filter(assignee_id=user_id, status__in=Ticket.UNSOLVED)
    elif query.view == "unassigned":
        tickets = tickets.filter(assignee__isnull=True, status__in=Ticket.UNSOLVED)
    elif query.view == "open":
        tickets = tickets.filter(status__in=Ticket.UNSOLVED)
    elif query.view == TEAM_VIEW:
        tickets = tickets.filter(team_id=query.team, status__in=Ticket.UNSOLVED)
    if query.channel:
        tickets = tickets.filter(channel=query.channel)
    if query.status:
        tickets = tickets.filter(status=query.status)
    if query.priority:
        tickets = tickets.filter(priority=query.priority)
    if query.tag:
        tickets = tickets.filter(tags__name=query.tag)
    if query.sla:
        tickets = tickets.filter(sla_state=query.sla)
    _label, ordering = INBOX_SORTS.get(query.sort, INBOX_SORTS["activity"])
    return tickets.order_by(*ordering)


# The filters whose values are bound into the compiled inbox query; which of them are set is
# part of its shape, as are the view, the sort and the page's slice.
_INBOX_VALUES = ("team", "channel", "status", "priority", "tag", "sla")


@compiled_query(Ticket, shaped=True)
def _inbox_slice(shape: tuple, *, user_id: int = 0, now: datetime, soon: datetime, **filters: Any) -> QuerySet:
    view, _present, sort, start, stop = shape
    query = InboxQuery(view=view, sort=sort, **filters)
    return _inbox_queryset(query, user_id=user_id, now=now, soon=soon)[start:stop]


class InboxRows:
    """One inbox view as a sequence for the paginator: its length is the count the caller
    already has (``inbox_fingerprint`` reads it), and a slice is one compiled query."""

    def __init__(self, *, user: AbstractBaseUser, query: InboxQuery, count: int, now: datetime | None = None):
        self.user, self.query, self.count = user, query, count
        self.now = now or timezone.now()

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: slice) -> list[Ticket]:
        if not isinstance(index, slice) or index.step is not None:
            raise TypeError("InboxRows takes a plain slice.")
        start, stop = index.start or 0, index.stop
        filters = {name: getattr(self.query, name) for name in _INBOX_VALUES if getattr(self.query, name)}
        values: dict[str, Any] = {"now": self.now, "soon": sla_due_soon(self.now), **filters}
        if self.query.view == "mine":
            values["user_id"] = self.user.pk
        shape = (self.query.view, tuple(filters), self.query.sort, start, stop)
        return _inbox_slice(shape=shape, **values)


def inbox_fingerprint(*, tickets: QuerySet[Ticket]) -> str:
    """A short digest that changes whenever a row of the view would look different, so the
    inbox can poll cheaply (one aggregate query) and redraw only on change."""
    return inbox_view_stats(tickets=tickets)[1]


def inbox_view_stats(*, tickets: QuerySet[Ticket]) -> tuple[int, str]:
    """How many tickets the view holds, and its fingerprint (see ``inbox_fingerprint``), in one query."""
    stats = tickets.order_by().aggregate(
        n=Count("pk", distinct=True), activity=Max("last_message_at"), changed=Max("updated_at"), top=Max("pk")
    )
    return stats["n"], ViewStats(**stats).fingerprint()


@dataclass(frozen=True)
class ViewStats:
    """What an inbox view's fingerprint is made of: how many, the latest activity and change, the newest id."""

    n: int = 0
    activity: datetime | None = None
    changed: datetime | None = None
    top: int | None = None

    def fingerprint(self) -> str:
        raw = "|".join(str(value) for value in (self.n, self.activity, self.changed, self.top))
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def __add__(self, other: "ViewStats") -> "ViewStats":
        def latest(a, b):
            return b if a is None else a if b is None else max(a, b)

        return ViewStats(
            self.n + other.n,
            latest(self.activity, other.activity),
            latest(self.changed, other.changed),
            latest(self.top, other.top),
        )


@dataclass(frozen=True)
class InboxCounts:
    mine: int
    unassigned: int
    open: int
    all: int
    teams: list[Team] = field(default_factory=list)  # each with ``open_count``
    all_estimated: bool = False
    # The fingerprint figures of the views read in the same scan: "open", "mine", "unassigned"
    # and "team:<id>" (the team views), for the inbox without further filters.
    stats: dict[str, ViewStats] = field(default_factory=dict)

    def for_view(self, view: str) -> int:
        return getattr(self, view, 0)

    def stats_for(self, query: "InboxQuery") -> ViewStats | None:
        """The view's figures when this scan has them (no filter beyond the view), else None."""
        if any(getattr(query, name) for name in ("channel", "status", "priority", "tag", "sla")):
            return None
        if query.view == TEAM_VIEW:
            return self.stats.get(f"team:{query.team}", ViewStats())
        return self.stats.get(query.view)


# Above this many tickets the "All" view shows PostgreSQL's estimate instead of counting them.
EXACT_COUNT_LIMIT = 20_000


def _ticket_total(limit: int | None = None) -> RawSQL:
    """All tickets: counted on SQLite and for a small table; PostgreSQL's estimate beyond
    ``limit`` (default ``EXACT_COUNT_LIMIT``; the CASE runs the count only when it is needed)."""
    table = Ticket._meta.db_table
    # The table name is the model's own, never input: nothing here can be injected.
    count = f"SELECT COUNT(*) FROM {table}"  # noqa: S608
    if connection.vendor == "postgresql":
        estimate = f"CASE WHEN c.reltuples > %s THEN c.reltuples::bigint ELSE ({count}) END"
        sql = f"(SELECT {estimate} FROM pg_class c WHERE c.oid = %s::regclass)"  # noqa: S608
        return RawSQL(sql, [limit or EXACT_COUNT_LIMIT, table], output_field=BigIntegerField())  # noqa: S611
    return RawSQL(f"({count})", [], output_field=BigIntegerField())  # noqa: S611


def _view_figures(prefix: str, only: Q | None) -> dict[str, Any]:
    def filtered(aggregate, field):
        return aggregate(field, filter=only) if only is not None else aggregate(field)

    return {
        f"{prefix}n": filtered(Count, "pk"),
        f"{prefix}activity": filtered(Max, "last_message_at"),
        f"{prefix}changed": filtered(Max, "updated_at"),
        f"{prefix}top": filtered(Max, "pk"),
    }


@compiled_query(Ticket)
def _open_by_team(*, user_id: int, exact_limit: int) -> QuerySet:
    """The open tickets grouped by team, each group with the figures of the open, mine and
    unassigned views, and the table's total beside them: one scan of the inbox index."""
    return (
        Ticket.objects.filter(status__in=Ticket.UNSOLVED)
        .order_by()
        .values("team_id")
        .annotate(
            **_view_figures("open_", None),
            **_view_figures("mine_", Q(assignee_id=user_id)),
            **_view_figures("unassigned_", Q(assignee__isnull=True)),
            all=Max(_ticket_total(exact_limit)),
        )
    )


@compiled_query(Team)
def _teams() -> QuerySet[Team]:
    return Team.objects.order_by("name")


def inbox_counts(*, user: AbstractBaseUser) -> InboxCounts:
    """How many tickets each view holds, in two queries: one over the open tickets (the inbox
    index range, however long the history), grouped by team, that also reads the total and the
    figures of each view's fingerprint, and one for the teams.
    The total is exact up to ``EXACT_COUNT_LIMIT`` tickets and estimated above (``all_estimated``)."""
    groups = _open_by_team(user_id=user.pk, exact_limit=EXACT_COUNT_LIMIT)

    def figures(prefix: str, row: dict) -> ViewStats:
        return ViewStats(*(row[f"{prefix}{name}"] for name in ("n", "activity", "changed", "top")))

    stats: dict[str, ViewStats] = {}
    for row in groups:
        for view in ("open", "mine", "unassigned"):
            stats[view] = stats.get(view, ViewStats()) + figures(f"{view}_", row)
        if row["team_id"] is not None:
            stats[f"team:{row['team_id']}"] = figures("open_", row)
    total = groups[0]["all"] if groups else Ticket.objects.count()  # no open ticket: count the rest
    teams = _teams()
    for team in teams:
        team.open_count = stats.get(f"team:{team.pk}", ViewStats()).n
    estimated = connection.vendor == "postgresql" and total > EXACT_COUNT_LIMIT
    return InboxCounts(
        mine=stats.get("mine", ViewStats()).n,
        unassigned=stats.get("unassigned", ViewStats()).n,
        open=stats.get("open", ViewStats()).n,
        all=total,
        teams=teams,
        all_estimated=estimated,
        stats=stats,
    )


def tag_names() -> list[str]:
    return list(Tag.objects.order_by("name").values_list("name", flat=True)[:500])


# The ticket page -------------------------------------------------------------------------------


@compiled_query(Ticket, shaped=True)
def _ticket_with_figures(
    _figures: tuple[str, ...], *, ticket_id: int, now: datetime, soon: datetime
) -> QuerySet[Ticket]:
    from customers.selectors import profile_figures

    others = Ticket.objects.filter(customer_id=OuterRef("customer_id")).exclude(pk=OuterRef("pk"))
    return (
        Ticket.objects.select_related("customer", "assignee", "team")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name")))
        .annotate(
            **profile_figures("customer_id"),
            **sla_annotations(now, soon),
            earlier_conversation=Exists(others.filter(created_at__lt=OuterRef("created_at"))),
            open_elsewhere=Coalesce(
                Subquery(
                    others.filter(status__in=Ticket.UNSOLVED)
                    .exclude(channel=OuterRef("channel"))
                    .order_by()
                    .values("customer_id")
                    .annotate(n=Count("pk"))
                    .values("n")[:1]
                ),
                0,
            ),
        )
        .filter(pk=ticket_id)
    )


def ticket_get(*, ticket_id: int) -> Ticket:
    """The ticket with its customer, people, tags and every figure the side panel shows.

    The customer figures (conversations, last CSAT answer) and the ticket's own ("earlier
    conversation?", open tickets on other channels) are subqueries: one query, plus the tags.
    The query is compiled once per process (``supportdesk.compiled``).
    """
    from customers.selectors import profile_figure_names

    now = timezone.now()
    # The registered figures are part of the shape: a provider added later compiles anew.
    rows = _ticket_with_figures(shape=profile_figure_names(), ticket_id=ticket_id, now=now, soon=sla_due_soon(now))
    if not rows:
        raise Ticket.DoesNotExist(f"No ticket {ticket_id}.")
    ticket = rows[0]
    for name in profile_figure_names():
        setattr(ticket.customer, name, getattr(ticket, name))
    return ticket


@compiled_query(Message)
def _thread_of(*, ticket_id: int) -> QuerySet[Message]:
    return (
        Message.objects.filter(ticket_id=ticket_id)
        .select_related("author")
        .annotate(has_attachments=Exists(Attachment.objects.filter(message=OuterRef("pk"))))
        .order_by("created_at", "id")
    )


def ticket_thread(*, ticket: Ticket) -> list[Message]:
    """The whole thread, oldest first, with authors, in one query; a second loads the
    attachments only when some message has any."""
    thread = _thread_of(ticket_id=ticket.pk)
    cache_ticket = Message._meta.get_field("ticket").set_cached_value
    for message in thread:
        cache_ticket(message, ticket)
    with_files = [message for message in thread if message.has_attachments]
    if with_files:
        prefetch_related_objects(with_files, Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
    return thread


def thread_fingerprint(*, ticket_id: int) -> str:
    """Changes when a message arrives or a delivery state moves (one aggregate query)."""
    stats = Message.objects.filter(ticket_id=ticket_id).aggregate(
        n=Count("pk"),
        top=Max("pk"),
        sent=Count("pk", filter=Q(delivery=Message.Delivery.SENT)),
        failed=Count("pk", filter=Q(delivery=Message.Delivery.FAILED)),
    )
    return "-".join(str(stats[key] or 0) for key in ("n", "top", "sent", "failed"))


def last_inbound_channel(thread: list[Message]) -> str | None:
    return next((m.channel for m in reversed(thread) if m.direction == Message.Direction.INBOUND), None)


def customer_tickets(*, customer_id: int, limit: int = 10) -> list[Ticket]:
    return list(Ticket.objects.filter(customer_id=customer_id).order_by("-created_at")[:limit])


def customer_open_tickets(*, customer_id: int, exclude_ticket_id: int | None = None, limit: int = 10) -> list[Ticket]:
    """The customer's unsolved conversations, latest activity first (one query)."""
    tickets = Ticket.objects.filter(customer_id=customer_id, status__in=Ticket.UNSOLVED)
    if exclude_ticket_id:
        tickets = tickets.exclude(pk=exclude_ticket_id)
    return list(tickets.select_related("assignee").order_by("-last_message_at")[:limit])


def macros_active() -> list[Macro]:
    return list(Macro.objects.filter(active=True).only("id", "name", "purpose").order_by("name"))


def assignable_agents() -> QuerySet:
    """Active users who may work tickets (hold ``tickets.view_ticket`` through a group or directly)."""
    permission = Q(
        groups__permissions__codename="view_ticket", groups__permissions__content_type__app_label="tickets"
    ) | Q(user_permissions__codename="view_ticket", user_permissions__content_type__app_label="tickets")
    users = get_user_model().objects.filter(is_active=True).filter(permission | Q(is_superuser=True))
    return get_user_model().objects.filter(pk__in=users.values("pk")).order_by("first_name", "username")


# Contributions to the customers app -------------------------------------------------------------


def customer_ticket_figures(customer_ref: str) -> dict[str, Any]:
    """Profile figures as subqueries on the customer id named ``customer_ref``."""
    tickets = Ticket.objects.filter(customer_id=OuterRef(customer_ref)).order_by().values("customer_id")
    answered = CSATSurvey.objects.filter(customer_id=OuterRef(customer_ref), answered_at__isnull=False).order_by(
        "-answered_at", "-pk"
    )
    return {
        "conversation_count": Coalesce(Subquery(tickets.annotate(n=Count("pk")).values("n")[:1]), 0),
        "open_conversation_count": Coalesce(
            Subquery(tickets.filter(status__in=Ticket.UNSOLVED).annotate(n=Count("pk")).values("n")[:1]), 0
        ),
        "last_csat_rating": Subquery(answered.values("rating")[:1]),
        "last_csat_at": Subquery(answered.values("answered_at")[:1]),
        "last_csat_ticket": Subquery(answered.values("ticket_id")[:1]),
    }


def order_mentions(customer_ids: list[int], numbers: list[str]) -> dict[int, set[str]]:
    """Which of ``numbers`` each customer wrote (or was written) about, from message bodies."""
    numbers = [n for n in numbers if len(n) >= 3][:50]
    if not numbers or not customer_ids:
        return {}
    mentions = Q()
    for number in numbers:
        mentions |= Q(body__contains=number)
    rows = (
        Message.objects.filter(customer_id__in=customer_ids).filter(mentions).values_list("customer_id", "body")[:200]
    )
    found: dict[int, set[str]] = {}
    patterns = {n: re.compile(rf"(?<![\w]){re.escape(n)}(?![\w])") for n in numbers}
    for customer_id, body in rows:
        for number, pattern in patterns.items():
            if pattern.search(body):
                found.setdefault(customer_id, set()).add(number)
    return found


# CSAT answers are a source of their own, in tickets/csat_timeline.py.
TICKET_RANK, MESSAGE_RANK = 40, 50


def _ticket_rows(customer: Customer) -> QuerySet:
    return Ticket.objects.filter(customer=customer).annotate(
        **source_columns(
            rank=TICKET_RANK,
            at="created_at",
            kind=Value("ticket"),
            channel="channel",
            ref_id="pk",
            a="subject",
            b="status",
            c="priority",
        )
    )


def _ticket_present(row: TimelineRow) -> TimelineItem:
    status = Ticket.Status(row.b).label if row.b in Ticket.Status.values else row.b
    return TimelineItem(
        at=row.at,
        kind="ticket",
        kind_label=str(_("Conversation")),
        channel=row.channel,
        title=str(_("Opened #%(id)s %(subject)s") % {"id": row.ref_id, "subject": row.a}),
        url=reverse("tickets:detail", args=[row.ref_id]),
        badge=str(status),
    )


def _message_rows(customer: Customer) -> QuerySet:
    return Message.objects.filter(customer=customer).annotate(
        **source_columns(
            rank=MESSAGE_RANK,
            at="created_at",
            kind=Case(
                When(direction=Message.Direction.NOTE, then=Value("note")),
                default=Value("message"),
                output_field=CharField(),
            ),
            channel="channel",
            ref_id="ticket_id",
            a=Substr("body", 1, 280),
            b="direction",
            c="ticket__subject",
            d="delivery",
        )
    )


def _delivery_badge(channel: str, delivery: str) -> str:
    """As the thread words it: a phone call or social reply made outside the desk was logged."""
    if delivery == Message.Delivery.SENT and channel in (Channel.PHONE, Channel.SOCIAL):
        return str(_("Logged as made"))
    return str(Message.Delivery(delivery).label) if delivery in Message.Delivery.values else ""


def _message_present(row: TimelineRow) -> TimelineItem:
    note = row.kind == "note"
    direction = {"inbound": _("From the customer"), "outbound": _("To the customer"), "note": _("Internal note")}
    text = " ".join((row.a or "").split())
    return TimelineItem(
        at=row.at,
        kind=row.kind,
        kind_label=str(direction.get(row.b or "", row.b)),
        channel=row.channel,
        title=text[:200] + ("…" if len(text) > 200 else ""),
        detail=str(_("in #%(id)s %(subject)s") % {"id": row.ref_id, "subject": row.c}),
        url=reverse("tickets:detail", args=[row.ref_id]) + f"#message-{row.obj_id}",
        badge=_delivery_badge(row.channel, row.d),
        private=note,
    )


TIMELINE_SOURCES = [
    TimelineSource(
        name="tickets",
        rank=TICKET_RANK,
        kinds={"ticket": _("Conversations")},
        rows=_ticket_rows,
        present=_ticket_present,
    ),
    TimelineSource(
        name="messages",
        rank=MESSAGE_RANK,
        kinds={"message": _("Messages"), "note": _("Internal notes")},
        rows=_message_rows,
        present=_message_present,
    ),
]

CHANNEL_LABELS = dict(Channel.choices)
