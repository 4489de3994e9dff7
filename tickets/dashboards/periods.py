"""Reporting periods: whole days in the desk's report timezone, compared with the one before.

A period runs from midnight at the start of its first day (inclusive) to midnight after its last
day (exclusive), in ``DESK_REPORT_TIME_ZONE`` (the desk's timezone, not the viewer's, so every
lead and the API read the same figures). The previous period has the same number of days and
ends where this one starts. Trends are bucketed by day, week (Monday) or month, by length.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

MAX_DAYS = 731
DEFAULT_DAYS = 30
PRESETS = {
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "this_month": "This month",
    "last_month": "Last month",
}


def report_zone() -> ZoneInfo:
    return ZoneInfo(settings.DESK_REPORT_TIME_ZONE)


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date  # inclusive
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time(0), tzinfo=self.zone)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def previous(self) -> "Period":
        return Period(
            first_day=self.first_day - timedelta(days=self.days),
            last_day=self.first_day - timedelta(days=1),
            zone=self.zone,
        )

    @property
    def grain(self) -> str:
        """The trend bucket: a day up to two months, a week up to a year, else a month."""
        if self.days <= 62:
            return "day"
        return "week" if self.days <= 366 else "month"

    def buckets(self) -> list[date]:
        """The first day of every trend bucket, in order (the first may start before the period)."""
        out, day = [], self.bucket_of(self.first_day)
        while day <= self.last_day:
            out.append(day)
            if self.grain == "day":
                day += timedelta(days=1)
            elif self.grain == "week":
                day += timedelta(days=7)
            else:
                day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return out

    def bucket_of(self, day: date) -> date:
        if self.grain == "day":
            return day
        if self.grain == "week":
            return day - timedelta(days=day.weekday())
        return day.replace(day=1)

    def bucket_period(self, day: date) -> "Period":
        """The days of the trend bucket starting on ``day`` that lie inside this period."""
        if self.grain == "day":
            after = day + timedelta(days=1)
        elif self.grain == "week":
            after = day + timedelta(days=7)
        else:
            after = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        first, last = max(day, self.first_day), min(after - timedelta(days=1), self.last_day)
        return Period(first_day=first, last_day=last, zone=self.zone)

    def query(self) -> dict[str, str]:
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}

    def __str__(self) -> str:
        if self.first_day == self.last_day:
            return f"{self.first_day:%d %b %Y}"
        return f"{self.first_day:%d %b %Y} - {self.last_day:%d %b %Y}"


def period_preset(*, preset: str, today: date | None = None) -> Period:
    today = today or timezone.localdate(timezone=report_zone())
    zone = report_zone()
    if preset == "this_month":
        return Period(first_day=today.replace(day=1), last_day=today, zone=zone)
    if preset == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return Period(first_day=last.replace(day=1), last_day=last, zone=zone)
    days = {"7d": 7, "30d": 30, "90d": 90}.get(preset, DEFAULT_DAYS)
    return Period(first_day=today - timedelta(days=days - 1), last_day=today, zone=zone)


def _parse_day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError({field: f"Give a date as YYYY-MM-DD, not {value[:20]!r}."}) from None


def period_parse(
    *, first: str | None, last: str | None, preset: str | None = None, today: date | None = None
) -> Period:
    """The period from ``from``/``to`` dates (both inclusive), else a preset, else the last 30
    days. Raises ValidationError naming the field at fault."""
    if not first and not last:
        if preset and preset.endswith("d") and preset[:-1].isdigit() and 1 <= int(preset[:-1]) <= MAX_DAYS:
            today = today or timezone.localdate(timezone=report_zone())
            days = int(preset[:-1])
            return Period(first_day=today - timedelta(days=days - 1), last_day=today, zone=report_zone())
        if preset and preset not in PRESETS:
            raise ValidationError({"period": f"Unknown period {preset[:20]!r}; use one of {', '.join(PRESETS)}."})
        return period_preset(preset=preset or "30d", today=today)
    if not first:
        raise ValidationError({"from": "Give the first day of the period too."})
    if not last:
        raise ValidationError({"to": "Give the last day of the period too."})
    first_day, last_day = _parse_day(first, "from"), _parse_day(last, "to")
    if last_day < first_day:
        raise ValidationError({"to": "The last day comes before the first day."})
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise ValidationError({"to": f"A period spans at most {MAX_DAYS} days."})
    return Period(first_day=first_day, last_day=last_day, zone=report_zone())
