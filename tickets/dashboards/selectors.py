"""Figures for the team lead dashboards, the CSV exports and the reports API.

Every figure is computed from the raw rows by SQL aggregation, exactly, for a period and the
period before it, in one query per source (whatever the data size):

===========  ===============  ========================================================================
source       anchor           measures
===========  ===============  ========================================================================
created      Ticket.created   volume; SLA targets met / missed (first response, resolution)
responded    first_response   first-response time (created -> first reply): median, 90th percentile
solved       solved_at        solved count; resolution time (created -> solved): median, 90th pct.
answered     answered_at      CSAT answers, rated 4-5 (CSAT % = 4-5 / all x 100), low ratings
sent         sent_at          surveys sent, and of those answered (response rate)
===========  ===============  ========================================================================

Grouping: by agent (for tickets the assignee, for surveys the agent credited at sending: who
solved the ticket), by team, by channel (the ticket's channel of origin). On PostgreSQL one
query per source computes the totals, the chosen breakdown and the trend of both periods with
``GROUPING SETS`` and ``percentile_cont`` (continuous percentile, linear interpolation). On other
databases the same rows are fetched and aggregated in Python with the same definitions; that
path is for development data sizes.

SLA: a target is *met* when the reply (or the solve, for a ticket solved without a reply) or
the solve came at or before its due time; *missed* when it came later, or has not come and the
due time has passed. Targets still running, paused without a due time, or without a policy
count in neither. Compliance = met / (met + missed) x 100, over tickets created in the period.

Drill-down ``as_of``: the figures of a stored view (``snapshots``) are those of the moment they
were computed, so the list behind a figure can be asked for as of that moment: rows anchored
later are left out, and a reply, solve or answer given later counts as not yet given.
"""

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import (
    Case,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone

from customers.models import Channel

from ..models import CSATSurvey, Team, Ticket
from .periods import Period

GROUP_BY = ("agent", "team", "channel")
TOTAL = "total"
LOW_RATINGS_SHOWN = 10
WORK_MEM = "32MB"


NONE = "none"  # a scope value meaning "rows without one" (unassigned, no team)


@dataclass(frozen=True)
class Scope:
    """Which rows count: everything, or one agent's, one team's, one channel's.

    ``NONE`` selects the rows without an agent (or team)."""

    agent_id: int | str | None = None
    team_id: int | str | None = None
    channel: str | None = None

    def query(self) -> dict[str, str]:
        pairs = (("agent", self.agent_id), ("team", self.team_id), ("channel", self.channel))
        return {name: str(value) for name, value in pairs if value}


@dataclass(frozen=True)
class Source:
    name: str
    model: type
    anchor: str
    dims: dict[str, str]
    flags: Callable[..., dict[str, Q]]  # (now, *, as_of=False) -> {flag: condition}
    duration: tuple[str, str] | None = None
    ticket_field: str = "pk"


def _happened(field: str, now: datetime, as_of: bool) -> Q:
    """``field`` is set (and, as of ``now``, not later than ``now``)."""
    done = Q(**{f"{field}__isnull": False})
    return done & Q(**{f"{field}__lte": now}) if as_of else done


def _created_flags(now: datetime, *, as_of: bool = False) -> dict[str, Q]:
    replied, solved = _happened("first_response_at", now, as_of), _happened("solved_at", now, as_of)
    if as_of:
        responded = Coalesce(Case(When(replied, then=F("first_response_at"))), Case(When(solved, then=F("solved_at"))))
    else:
        responded = Coalesce("first_response_at", "solved_at")
    fr_due, res_due = Q(first_response_due_at__isnull=False), Q(resolution_due_at__isnull=False)
    fr_missed = fr_due & (
        Q(first_response_due_at__lt=responded) | (~replied & ~solved & Q(first_response_due_at__lte=now))
    )
    res_missed = res_due & (
        (solved & Q(resolution_due_at__lt=F("solved_at"))) | (~solved & Q(resolution_due_at__lte=now))
    )
    return {
        "fr_met": fr_due & Q(first_response_due_at__gte=responded),
        "fr_missed": fr_missed,
        "res_met": res_due & solved & Q(resolution_due_at__gte=F("solved_at")),
        "res_missed": res_missed,
        "sla_missed": fr_missed | res_missed,  # tickets that missed either target
    }


def _answered_flags(now: datetime, *, as_of: bool = False) -> dict[str, Q]:
    return {"positive": Q(rating__gte=4), "low": Q(rating__lte=settings.DESK_CSAT_LOW_RATING)}


def _sent_flags(now: datetime, *, as_of: bool = False) -> dict[str, Q]:
    return {"answered": _happened("answered_at", now, as_of)}


def _no_flags(now: datetime, *, as_of: bool = False) -> dict[str, Q]:
    return {}


TICKET_DIMS = {"agent": "assignee_id", "team": "team_id", "channel": "channel"}
SURVEY_DIMS = {"agent": "agent_id", "team": "team_id", "channel": "channel"}
SOURCES = {
    "created": Source("created", Ticket, "created_at", TICKET_DIMS, _created_flags),
    "responded": Source(
        "responded", Ticket, "first_response_at", TICKET_DIMS, _no_flags, ("created_at", "first_response_at")
    ),
    "solved": Source("solved", Ticket, "solved_at", TICKET_DIMS, _no_flags, ("created_at", "solved_at")),
    "answered": Source("answered", CSATSurvey, "answered_at", SURVEY_DIMS, _answered_flags, ticket_field="ticket_id"),
    "sent": Source("sent", CSATSurvey, "sent_at", SURVEY_DIMS, _sent_flags, ticket_field="ticket_id"),
}


def _rows(source: Source, *, start: datetime, end: datetime, scope: Scope) -> QuerySet:
    """The source's rows anchored in [start, end) within ``scope``."""
    rows = source.model.objects.filter(**{f"{source.anchor}__gte": start, f"{source.anchor}__lt": end})
    for dim, value in (("agent", scope.agent_id), ("team", scope.team_id), ("channel", scope.channel)):
        if value == NONE:
            rows = rows.filter(**{f"{source.dims[dim]}__isnull": True})
        elif value:
            rows = rows.filter(**{source.dims[dim]: value})
    return rows.order_by()


def _inner(source: Source, *, period: Period, scope: Scope, group_by: str, now: datetime) -> tuple[QuerySet, list[str]]:
    """One row per record of both periods, with what the aggregation needs: which period
    (``cur``), the breakdown key (``k``), the trend bucket (``day``), 0/1 flags and a duration."""
    flags = source.flags(now)
    annotations = {
        "cur": Case(When(**{f"{source.anchor}__gte": period.start}, then=Value(1)), default=Value(0)),
        "k": F(source.dims[group_by]),
        "day": Trunc(source.anchor, period.grain, output_field=DateField(), tzinfo=period.zone),
    }
    for name, condition in flags.items():
        annotations[f"f_{name}"] = Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())
    if source.duration:
        begin, finish = source.duration
        annotations["dur"] = ExpressionWrapper(F(finish) - F(begin), output_field=DurationField())
    columns = list(annotations)
    rows = _rows(source, start=period.previous.start, end=period.end, scope=scope).annotate(**annotations)
    return rows.values(*columns), columns


@dataclass
class Aggregate:
    """Counts of one group in one period; ``p50``/``p90`` in seconds when the source has durations."""

    count: int = 0
    flags: dict[str, int] = field(default_factory=dict)
    p50: float | None = None
    p90: float | None = None


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont over sorted ``values``: linear interpolation between ranks."""
    if not values:
        return None
    position = (len(values) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)


def _as_day(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


# Keys of an aggregation result: ("total", None), ("k", key), ("day", date); per period 1/0.
AggregateKey = tuple[int, str, object]


def _aggregate_postgres(inner: QuerySet, columns: list[str]) -> dict[AggregateKey, Aggregate]:
    flag_columns = [c for c in columns if c.startswith("f_")]
    select = ["t.cur", "t.k", "t.day", "GROUPING(t.k, t.day)", "COUNT(*)"]
    select += [f"SUM(t.{c})" for c in flag_columns]
    if "dur" in columns:
        # One ordered-set aggregate for both fractions: one sort per group.
        select.append("percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM t.dur))")
    sql, params = inner.query.sql_with_params()
    query = (
        f"SELECT {', '.join(select)} FROM ({sql}) AS t "  # noqa: S608 - column names are ours; values are parameters
        "GROUP BY GROUPING SETS ((t.cur), (t.cur, t.k), (t.cur, t.day))"
    )
    results: dict[AggregateKey, Aggregate] = {}
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        for row in cursor.fetchall():
            cur, key, day, grouping, count = row[:5]
            flags = dict(
                zip((c[2:] for c in flag_columns), (int(v or 0) for v in row[5 : 5 + len(flag_columns)]), strict=True)
            )
            p50 = p90 = None
            if "dur" in columns:
                p50, p90 = (float(v) if v is not None else None for v in row[5 + len(flag_columns)] or (None, None))
            # GROUPING bits: 2 = k rolled up, 1 = day rolled up.
            kind, value = {3: (TOTAL, None), 1: ("k", key), 2: ("day", _as_day(day))}[grouping]
            results[(cur, kind, value)] = Aggregate(count=count, flags=flags, p50=p50, p90=p90)
    return results


def _aggregate_python(inner: QuerySet, columns: list[str]) -> dict[AggregateKey, Aggregate]:
    flag_columns = [c for c in columns if c.startswith("f_")]
    counts: dict[AggregateKey, Aggregate] = {}
    durations: dict[AggregateKey, list[float]] = defaultdict(list)
    for row in inner.values_list(*columns):
        record = dict(zip(columns, row, strict=True))
        for key in (
            (record["cur"], TOTAL, None),
            (record["cur"], "k", record["k"]),
            (record["cur"], "day", _as_day(record["day"])),
        ):
            aggregate = counts.setdefault(key, Aggregate(flags={c[2:]: 0 for c in flag_columns}))
            aggregate.count += 1
            for column in flag_columns:
                aggregate.flags[column[2:]] += record[column]
            if record.get("dur") is not None:
                durations[key].append(record["dur"].total_seconds())
    for key, values in durations.items():
        values.sort()
        counts[key].p50, counts[key].p90 = percentile_cont(values, 0.5), percentile_cont(values, 0.9)
    return counts


def aggregate_source(
    source: Source, *, period: Period, scope: Scope, group_by: str, now: datetime
) -> dict[AggregateKey, Aggregate]:
    """Totals, the breakdown by ``group_by`` and the trend, for the period (cur=1) and the one
    before (cur=0), in one query."""
    inner, columns = _inner(source, period=period, scope=scope, group_by=group_by, now=now)
    if connection.vendor == "postgresql":
        return _aggregate_postgres(inner, columns)
    return _aggregate_python(inner, columns)


def _percent(part: int, whole: int) -> float | None:
    return part * 100 / whole if whole else None


@dataclass(frozen=True)
class Measures:
    """Every figure of one group (or the total, or one trend bucket) in one period."""

    created: int = 0
    responded: int = 0
    solved: int = 0
    first_response_p50: float | None = None
    first_response_p90: float | None = None
    resolution_p50: float | None = None
    resolution_p90: float | None = None
    sla_first_response_met: int = 0
    sla_first_response_missed: int = 0
    sla_resolution_met: int = 0
    sla_resolution_missed: int = 0
    sla_missed_tickets: int = 0  # tickets that missed either target
    csat_answers: int = 0
    csat_positive: int = 0
    csat_low: int = 0
    surveys_sent: int = 0
    surveys_answered: int = 0

    @property
    def csat_percent(self) -> float | None:
        return _percent(self.csat_positive, self.csat_answers)

    @property
    def response_rate(self) -> float | None:
        return _percent(self.surveys_answered, self.surveys_sent)

    @property
    def sla_first_response_percent(self) -> float | None:
        return _percent(self.sla_first_response_met, self.sla_first_response_met + self.sla_first_response_missed)

    @property
    def sla_resolution_percent(self) -> float | None:
        return _percent(self.sla_resolution_met, self.sla_resolution_met + self.sla_resolution_missed)

    @property
    def sla_percent(self) -> float | None:
        met = self.sla_first_response_met + self.sla_resolution_met
        return _percent(met, met + self.sla_first_response_missed + self.sla_resolution_missed)

    def as_dict(self) -> dict[str, float | int | None]:
        out: dict[str, float | int | None] = dict(self.__dict__)
        for name in (
            "csat_percent",
            "response_rate",
            "sla_first_response_percent",
            "sla_resolution_percent",
            "sla_percent",
        ):
            out[name] = getattr(self, name)
        return out


def _measures(results: dict[str, dict[AggregateKey, Aggregate]], key: AggregateKey) -> Measures:
    empty = Aggregate()

    def get(source: str) -> Aggregate:
        return results[source].get(key, empty) if source in results else empty

    created, responded, solved, answered, sent = (
        get(s) for s in ("created", "responded", "solved", "answered", "sent")
    )
    return Measures(
        created=created.count,
        responded=responded.count,
        solved=solved.count,
        first_response_p50=responded.p50,
        first_response_p90=responded.p90,
        resolution_p50=solved.p50,
        resolution_p90=solved.p90,
        sla_first_response_met=created.flags.get("fr_met", 0),
        sla_first_response_missed=created.flags.get("fr_missed", 0),
        sla_resolution_met=created.flags.get("res_met", 0),
        sla_resolution_missed=created.flags.get("res_missed", 0),
        sla_missed_tickets=created.flags.get("sla_missed", 0),
        csat_answers=answered.count,
        csat_positive=answered.flags.get("positive", 0),
        csat_low=answered.flags.get("low", 0),
        surveys_sent=sent.count,
        surveys_answered=sent.flags.get("answered", 0),
    )


@dataclass(frozen=True)
class Row:
    """One line of a table: a group's figures in the period and in the previous one."""

    key: str
    label: str
    current: Measures
    previous: Measures


@dataclass(frozen=True)
class TrendPoint:
    day: date
    current: Measures
    previous_day: date
    previous: Measures


@dataclass(frozen=True)
class Report:
    period: Period
    scope: Scope
    group_by: str
    total: Row
    rows: list[Row]
    trend: list[TrendPoint]
    computed_at: datetime | None = None


def _labels(group_by: str, keys: Iterable) -> dict:
    keys = [k for k in keys if k is not None]
    if group_by == "agent":
        users = get_user_model().objects.filter(pk__in=keys).only("id", "username", "first_name", "last_name")
        return {u.pk: u.get_full_name() or u.get_username() for u in users}
    if group_by == "team":
        return dict(Team.objects.filter(pk__in=keys).values_list("id", "name"))
    return {k: str(label) for k, label in Channel.choices}


NO_KEY_LABEL = {"agent": "Unassigned", "team": "No team", "channel": "Unknown channel"}


@contextmanager
def _aggregation_session() -> Iterator[None]:
    """On PostgreSQL, one transaction in which the sorts behind the percentiles stay in memory
    (the default 4 MB work_mem spills them to disk at scale)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        yield


def report(
    *,
    period: Period,
    scope: Scope = Scope(),
    group_by: str = "agent",
    now: datetime | None = None,
    sources: Iterable[str] = tuple(SOURCES),
) -> Report:
    """The dashboard's figures: totals, the breakdown by ``group_by`` and the trend, for the
    period and the previous one. One query per source plus one for the breakdown's labels."""
    if group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {GROUP_BY}")
    now = now or timezone.now()
    with _aggregation_session():
        results = {
            name: aggregate_source(SOURCES[name], period=period, scope=scope, group_by=group_by, now=now)
            for name in sources
        }
    keys = {key for result in results.values() for (_, kind, key) in result if kind == "k"}
    labels = _labels(group_by, keys)
    rows = [
        Row(
            key="" if key is None else str(key),
            label=labels.get(key, str(key)) if key is not None else NO_KEY_LABEL[group_by],
            current=_measures(results, (1, "k", key)),
            previous=_measures(results, (0, "k", key)),
        )
        for key in keys
    ]
    rows.sort(key=lambda row: (row.key == "", row.label.lower()))
    current_buckets, previous_buckets = period.buckets(), period.previous.buckets()
    trend = [
        TrendPoint(
            day=day,
            current=_measures(results, (1, "day", day)),
            previous_day=previous_day,
            previous=_measures(results, (0, "day", previous_day)),
        )
        for day, previous_day in zip(current_buckets, previous_buckets, strict=False)
    ]
    total = Row(
        key=TOTAL,
        label="All",
        current=_measures(results, (1, TOTAL, None)),
        previous=_measures(results, (0, TOTAL, None)),
    )
    return Report(period=period, scope=scope, group_by=group_by, total=total, rows=rows, trend=trend, computed_at=now)


def _feedback_scoped(feedback: QuerySet, scope: Scope) -> QuerySet:
    if scope.agent_id == NONE:
        feedback = feedback.filter(agent__isnull=True)
    elif scope.agent_id:
        feedback = feedback.filter(agent_id=scope.agent_id)
    if scope.team_id == NONE:
        feedback = feedback.filter(agent__teams__isnull=True)
    elif scope.team_id:
        feedback = feedback.filter(agent__teams=scope.team_id)
    return feedback


def low_ratings(*, period: Period, scope: Scope = Scope(), limit: int = LOW_RATINGS_SHOWN) -> list[CSATSurvey]:
    """The latest answers rated at or below the low mark in the period, with their comments."""
    answers = _rows(SOURCES["answered"], start=period.start, end=period.end, scope=scope)
    return list(
        answers.filter(rating__lte=settings.DESK_CSAT_LOW_RATING)
        .select_related("ticket__customer", "agent", "team")
        .order_by("-answered_at", "-id")[:limit]
    )


# Drill-down: which rows of which source stand behind a figure.
METRICS: dict[str, tuple[str, str | None, str]] = {
    "created": ("created", None, "Tickets created"),
    "sla_first_response_met": ("created", "fr_met", "First-response target met"),
    "sla_first_response_missed": ("created", "fr_missed", "First-response target missed"),
    "sla_resolution_met": ("created", "res_met", "Resolution target met"),
    "sla_resolution_missed": ("created", "res_missed", "Resolution target missed"),
    "sla_missed": ("created", "sla_missed", "Tickets that missed an SLA target"),
    "responded": ("responded", None, "Tickets first answered"),
    "solved": ("solved", None, "Tickets solved"),
    "csat_answers": ("answered", None, "CSAT answers"),
    "csat_positive": ("answered", "positive", "CSAT answers rated 4 or 5"),
    "csat_low": ("answered", "low", "Low CSAT ratings"),
    "csat_sent": ("sent", None, "Surveys sent"),
    "csat_responded": ("sent", "answered", "Surveys answered"),
}


def drill_tickets(
    *,
    metric: str,
    period: Period,
    scope: Scope = Scope(),
    now: datetime | None = None,
    as_of: datetime | None = None,
) -> QuerySet:
    """The tickets behind one figure, newest anchor first, ready for a list page.

    ``scope`` narrows to the row the figure came from (an agent, a team, a channel). ``as_of``:
    the tickets as the figure saw them when it was computed at that moment (see the module
    docstring), so a stored figure and its list agree."""
    source_name, flag, _ = METRICS[metric]
    source = SOURCES[source_name]
    rows = _rows(source, start=period.start, end=period.end, scope=scope)
    if as_of is not None:
        rows = rows.filter(**{f"{source.anchor}__lte": as_of})
    if flag:
        flags = source.flags(as_of, as_of=True) if as_of is not None else source.flags(now or timezone.now())
        rows = rows.filter(flags[flag])
    anchor = source.anchor if source.model is Ticket else f"csat__{source.anchor}"
    return (
        Ticket.objects.filter(pk__in=rows.values(source.ticket_field))
        .select_related("customer", "assignee", "team", "csat")
        .order_by(f"-{anchor}", "-id")
    )


def dashboard_teams() -> list[Team]:
    return list(Team.objects.only("id", "name").order_by("name"))
