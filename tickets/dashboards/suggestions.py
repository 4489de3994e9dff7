"""The Suggestions dashboard: per rule and A/B variant, what agents did with the suggested
actions, and how customers rated the help after an agent accepted one.

Counted over the **verdicts given in the period** (and in the previous period of the same
length), within the view's agent or team scope (the agents who gave them; channel does not
apply): accepted, dismissed, snoozed, acceptance = accepted / (accepted + dismissed) x 100 (a
snooze is no verdict), and for each accepted verdict the customer's **first CSAT answer within
``LATER_CSAT_DAYS`` (14) after it**: how many such answers, their average rating and the share
rated 4-5. The figures are exact as of the moment they were computed (an answer given later
counts as not yet given), in one query whatever the data size, and stored like the other
dashboard views (``DashboardSnapshot``, served while younger than
``DESK_DASHBOARD_SNAPSHOT_SECONDS``; the beat job keeps the presets fresh), so the drill-down
lists behind a figure are asked for as of the same moment.

Which suggestions were *shown* is not stored (a suggestion is computed per page view and
identified by a signed token, see ``customers.suggestions.registry.SuggestionRef``), so the
figures start at the agent's verdict.
"""

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.utils import timezone

from customers.models import SuggestionFeedback

from ..models import CSATSurvey
from ..suggestion_rules import LATER_CSAT_DAYS
from .periods import PRESETS, Period, period_preset
from .selectors import NONE, Scope, _feedback_scoped, _percent
from .stored import snapshot_fresh, snapshot_store

VERDICT = SuggestionFeedback.Verdict
OUTCOME_CSAT = "csat"  # the drill-down of the answers that followed an acceptance
EVERYONE = Scope()


@dataclass(frozen=True)
class Outcome:
    """One rule and variant (or all of them) in one period. Sums, so totals add up exactly."""

    accepted: int = 0
    dismissed: int = 0
    snoozed: int = 0
    csat_answers: int = 0  # accepted verdicts followed by an answer within LATER_CSAT_DAYS
    csat_positive: int = 0  # of those, rated 4 or 5
    csat_rating_sum: int = 0

    @property
    def verdicts(self) -> int:
        return self.accepted + self.dismissed + self.snoozed

    @property
    def acceptance(self) -> float | None:
        """Accepted / (accepted + dismissed), in per cent."""
        return _percent(self.accepted, self.accepted + self.dismissed)

    @property
    def csat_average(self) -> float | None:
        return self.csat_rating_sum / self.csat_answers if self.csat_answers else None

    @property
    def csat_percent(self) -> float | None:
        """Later answers rated 4 or 5 / all later answers, in per cent (the desk's CSAT)."""
        return _percent(self.csat_positive, self.csat_answers)

    def __add__(self, other: "Outcome") -> "Outcome":
        return Outcome(**{name: getattr(self, name) + getattr(other, name) for name in self.__dataclass_fields__})


@dataclass(frozen=True)
class SuggestionRow:
    rule: str
    variant: str
    current: Outcome = field(default_factory=Outcome)
    previous: Outcome = field(default_factory=Outcome)


@dataclass(frozen=True)
class SuggestionReport:
    period: Period
    scope: Scope
    rows: list[SuggestionRow]
    total: SuggestionRow
    computed_at: datetime


def _total(rows: list[SuggestionRow]) -> SuggestionRow:
    """All rules together: the figures are sums, so the total is exact."""
    return SuggestionRow(
        rule="",
        variant="",
        current=sum((row.current for row in rows), Outcome()),
        previous=sum((row.previous for row in rows), Outcome()),
    )


def later_rating(*, until: datetime | None = None) -> Subquery:
    """The customer's first CSAT rating within ``LATER_CSAT_DAYS`` after a verdict (an outer
    ``SuggestionFeedback`` row), answered no later than ``until`` when given."""
    answers = CSATSurvey.objects.filter(
        customer_id=OuterRef("customer_id"),
        rating__isnull=False,
        answered_at__gt=OuterRef("created_at"),
        answered_at__lte=OuterRef("created_at") + timedelta(days=LATER_CSAT_DAYS),
    )
    if until is not None:
        answers = answers.filter(answered_at__lte=until)
    return Subquery(answers.order_by("answered_at", "pk").values("rating")[:1], output_field=IntegerField())


def _feedback(*, start: datetime, end: datetime, scope: Scope, as_of: datetime | None) -> QuerySet:
    rows = SuggestionFeedback.objects.filter(created_at__gte=start, created_at__lt=end)
    if as_of is not None:
        rows = rows.filter(created_at__lte=as_of)
    return _feedback_scoped(rows, Scope(agent_id=scope.agent_id, team_id=scope.team_id)).order_by()


def suggestion_report(*, period: Period, scope: Scope = EVERYONE, now: datetime | None = None) -> SuggestionReport:
    """Every figure of the page for the period and the previous one, as of ``now``, in one query."""
    now = now or timezone.now()
    accepted, current = Q(verdict=VERDICT.ACCEPTED), Q(created_at__gte=period.start)
    rows = (
        _feedback(start=period.previous.start, end=period.end, scope=scope, as_of=now)
        # Only an accepted verdict looks for a later answer (CASE keeps the subquery from running
        # for the others).
        .annotate(later=Case(When(accepted, then=later_rating(until=now)), output_field=IntegerField()))
        .values("rule", "variant")
        .order_by("rule", "variant")
    )
    figures = {}
    for prefix, condition in (("c", current), ("p", ~current)):
        figures |= {
            f"{prefix}_accepted": Count("pk", filter=condition & accepted),
            f"{prefix}_dismissed": Count("pk", filter=condition & Q(verdict=VERDICT.DISMISSED)),
            f"{prefix}_snoozed": Count("pk", filter=condition & Q(verdict=VERDICT.SNOOZED)),
            f"{prefix}_csat_answers": Count("later", filter=condition),
            f"{prefix}_csat_positive": Count("later", filter=condition & Q(later__gte=4)),
            f"{prefix}_csat_rating_sum": Sum("later", filter=condition),
        }

    def outcome(row: dict, prefix: str) -> Outcome:
        return Outcome(**{name: row[f"{prefix}_{name}"] or 0 for name in Outcome.__dataclass_fields__})

    out = [
        SuggestionRow(row["rule"], row["variant"], outcome(row, "c"), outcome(row, "p"))
        for row in rows.annotate(**figures)
    ]
    return SuggestionReport(period=period, scope=scope, rows=out, total=_total(out), computed_at=now)


def drill_verdicts(
    *,
    rule: str,
    verdict: str,
    period: Period,
    scope: Scope = EVERYONE,
    variant: str | None = None,
    outcome: str = "",
    as_of: datetime | None = None,
) -> QuerySet:
    """The verdicts behind a figure, newest first, each with ``later_rating`` (the answer that
    followed an acceptance, as of ``as_of``). ``variant``: None for every variant, ``NONE`` for
    a rule without variants. ``outcome=csat``: only the acceptances followed by an answer."""
    rows = _feedback(start=period.start, end=period.end, scope=scope, as_of=as_of).filter(verdict=verdict)
    if rule:
        rows = rows.filter(rule=rule)
    if variant is not None:
        rows = rows.filter(variant="" if variant == NONE else variant)
    rows = rows.annotate(
        later_rating=Case(When(verdict=VERDICT.ACCEPTED, then=later_rating(until=as_of)), output_field=IntegerField())
    )
    if outcome == OUTCOME_CSAT:
        rows = rows.filter(later_rating__isnull=False)
    return rows.select_related("customer", "agent").order_by("-created_at", "-id")


# Stored views ---------------------------------------------------------------------------------


def _key(period: Period, scope: Scope) -> str:
    return "|".join(
        [
            "suggestions",
            period.first_day.isoformat(),
            period.last_day.isoformat(),
            period.zone.key,
            f"a={scope.agent_id or ''}",
            f"t={scope.team_id or ''}",
            f"later={LATER_CSAT_DAYS}",
        ]
    )


def _encode(data: SuggestionReport) -> dict:
    return {"rows": [asdict(row) for row in data.rows]}


def _decode(figures: dict, *, period: Period, scope: Scope, computed_at: datetime) -> SuggestionReport:
    rows = [
        SuggestionRow(raw["rule"], raw["variant"], Outcome(**raw["current"]), Outcome(**raw["previous"]))
        for raw in figures["rows"]
    ]
    return SuggestionReport(period=period, scope=scope, rows=rows, total=_total(rows), computed_at=computed_at)


def _store(key: str, data: SuggestionReport) -> None:
    snapshot_store(key, computed_at=data.computed_at, figures=_encode(data))


def suggestion_report_snapshot(*, period: Period, scope: Scope = EVERYONE, fresh: bool = False) -> SuggestionReport:
    """The view's figures: a stored snapshot younger than the limit, else computed now and stored."""
    limit = settings.DESK_DASHBOARD_SNAPSHOT_SECONDS
    if limit <= 0:
        return suggestion_report(period=period, scope=scope)
    key, now = _key(period, scope), timezone.now()
    if not fresh:
        stored = snapshot_fresh(key, now=now)
        if stored is not None:
            return _decode(stored.figures, period=period, scope=scope, computed_at=stored.computed_at)
    data = suggestion_report(period=period, scope=scope, now=now)
    _store(key, data)
    return data


def suggestion_snapshots_refresh(*, today: date | None = None) -> int:
    """Recompute the desk-wide view of every standard period (the beat job calls it)."""
    for preset in PRESETS:
        period = period_preset(preset=preset, today=today)
        _store(_key(period, EVERYONE), suggestion_report(period=period))
    return len(PRESETS)
