"""Materialised dashboard views: the finished figures of a view, kept so the page answers fast.

Computing a view from the raw rows costs time in proportion to the rows in its two periods
(about a second for 90 days at 300,000 tickets on a small database server, most of it the sorts
behind the exact percentiles). So a computed view is stored as a ``DashboardSnapshot`` and served
while younger than ``DESK_DASHBOARD_SNAPSHOT_SECONDS`` (default 300; 0 turns snapshots off):
- the beat job ``dashboard_snapshots_refresh`` recomputes the standard periods (presets) for every
  breakdown every five minutes, so a lead opening the dashboard never waits;
- any other view (custom dates, a filter, an agent's own figures) is computed on first request
  and stored, so paging back and forth or exporting it is fast.
The figures are exact as of ``computed_at``, which the page shows.
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from ..models import DashboardSnapshot
from .periods import PRESETS, Period, period_preset
from .selectors import GROUP_BY, Measures, Report, Row, Scope, TrendPoint, report
from .stored import snapshot_fresh, snapshot_store
from .suggestions import suggestion_snapshots_refresh

KEEP = timedelta(days=2)


def _key(period: Period, scope: Scope, group_by: str) -> str:
    parts = [
        period.first_day.isoformat(),
        period.last_day.isoformat(),
        period.zone.key,
        group_by,
        f"a={scope.agent_id or ''}",
        f"t={scope.team_id or ''}",
        f"c={scope.channel or ''}",
        f"low={settings.DESK_CSAT_LOW_RATING}",
    ]
    return "|".join(parts)


def _row(row: Row) -> dict:
    return {"key": row.key, "label": row.label, "current": row.current.__dict__, "previous": row.previous.__dict__}


def _encode(data: Report) -> dict:
    return {
        "total": _row(data.total),
        "rows": [_row(row) for row in data.rows],
        "trend": [
            {
                "day": point.day.isoformat(),
                "current": point.current.__dict__,
                "previous_day": point.previous_day.isoformat(),
                "previous": point.previous.__dict__,
            }
            for point in data.trend
        ],
    }


def _decode(figures: dict, *, period: Period, scope: Scope, group_by: str, computed_at: datetime) -> Report:
    def row(raw: dict) -> Row:
        return Row(raw["key"], raw["label"], Measures(**raw["current"]), Measures(**raw["previous"]))

    return Report(
        period=period,
        scope=scope,
        group_by=group_by,
        total=row(figures["total"]),
        rows=[row(raw) for raw in figures["rows"]],
        trend=[
            TrendPoint(
                day=date.fromisoformat(raw["day"]),
                current=Measures(**raw["current"]),
                previous_day=date.fromisoformat(raw["previous_day"]),
                previous=Measures(**raw["previous"]),
            )
            for raw in figures["trend"]
        ],
        computed_at=computed_at,
    )


def _store(key: str, data: Report) -> None:
    snapshot_store(key, computed_at=data.computed_at, figures=_encode(data))


EVERYONE = Scope()


def report_snapshot(*, period: Period, scope: Scope = EVERYONE, group_by: str = "agent", fresh: bool = False) -> Report:
    """The view's figures: a stored snapshot younger than the limit, else computed now and stored."""
    limit = settings.DESK_DASHBOARD_SNAPSHOT_SECONDS
    if limit <= 0:
        return report(period=period, scope=scope, group_by=group_by)
    key = _key(period, scope, group_by)
    now = timezone.now()
    if not fresh:
        stored = snapshot_fresh(key, now=now)
        if stored is not None:
            at = stored.computed_at
            return _decode(stored.figures, period=period, scope=scope, group_by=group_by, computed_at=at)
    data = report(period=period, scope=scope, group_by=group_by, now=now)
    _store(key, data)
    return data


def snapshots_refresh(*, today: date | None = None) -> int:
    """Recompute every standard period for every breakdown, and the Suggestions view of each;
    drop snapshots nobody reused. Returns how many views it stored."""
    count = 0
    for preset in PRESETS:
        period = period_preset(preset=preset, today=today)
        for group_by in GROUP_BY:
            data = report(period=period, group_by=group_by)
            _store(_key(period, EVERYONE, group_by), data)
            count += 1
    count += suggestion_snapshots_refresh(today=today)
    DashboardSnapshot.objects.filter(computed_at__lt=timezone.now() - KEEP).delete()
    return count
