"""The dashboard's query string, checked once for the pages, the CSV exports and the API.

``period`` (a preset, or ``days=N``; it wins when dates are given too) or ``from``/``to``
(dates, both inclusive; default: the last 30 days), ``group_by`` (agent, team,
channel), and optional ``agent``, ``team`` (an id or ``none``) and ``channel`` filters. Someone
who may not see the whole desk (no ``tickets.view_dashboards``) sees their own figures only.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError

from customers.models import Channel

from .periods import MAX_DAYS, PRESETS, Period, period_parse
from .selectors import GROUP_BY, NONE, Scope

DEFAULT_PRESET = "30d"


@dataclass(frozen=True)
class DashboardQuery:
    period: Period
    scope: Scope
    group_by: str
    preset: str
    own_only: bool

    def page_query(self) -> dict[str, str]:
        """The query string that reproduces this view (period, breakdown, filters)."""
        period = {"period": self.preset} if self.preset else self.period.query()
        return {**period, "group_by": self.group_by, **self.scope.query()}


def _id_or_none(value: str | None, field: str, errors: dict) -> int | str | None:
    if not value:
        return None
    if value == NONE:
        return NONE
    if value.isdigit():
        return int(value)
    errors[field] = [f"Give an id or '{NONE}'."]
    return None


def dashboard_query(
    params: Mapping[str, str], *, own_agent_id: int | None, today: date | None = None
) -> DashboardQuery:
    """Parse and check the query string. ``own_agent_id`` set: the caller sees only that agent's
    figures, whatever ``agent`` says. Raises ValidationError naming every field at fault."""
    errors: dict[str, list[str]] = {}
    preset = params.get("period") or ""
    days = params.get("days") or ""
    if days and not preset:
        if days.isdigit() and 1 <= int(days) <= MAX_DAYS:
            preset = f"{int(days)}d"  # ?days=90: the last 90 days
        else:
            errors["days"] = [f"Give a whole number of days from 1 to {MAX_DAYS}."]
    if not preset and not params.get("from") and not params.get("to"):
        preset = DEFAULT_PRESET
    period = None
    try:
        # A preset wins over dates: the form keeps the dates of a custom view when a preset is picked.
        if preset:
            period = period_parse(first=None, last=None, preset=preset, today=today)
        else:
            period = period_parse(first=params.get("from"), last=params.get("to"), today=today)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    group_by = params.get("group_by") or "agent"
    if group_by not in GROUP_BY:
        errors["group_by"] = [f"Group by one of {', '.join(GROUP_BY)}."]
    channel = params.get("channel") or None
    if channel and channel not in Channel.values:
        errors["channel"] = [f"Unknown channel; use one of {', '.join(Channel.values)}."]
    team = _id_or_none(params.get("team"), "team", errors)
    agent = _id_or_none(params.get("agent"), "agent", errors)
    if errors:
        raise ValidationError(errors)
    if own_agent_id is not None:
        agent = own_agent_id
    assert period is not None
    return DashboardQuery(
        period=period,
        scope=Scope(agent_id=agent, team_id=team, channel=channel),
        group_by=group_by,
        preset=preset if preset in PRESETS else "",
        own_only=own_agent_id is not None,
    )


def as_of_parse(value: str | None) -> datetime | None:
    """The ``as_of`` of a drill-down (an ISO 8601 time with its offset), or None when absent.
    Raises ValidationError naming the field."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationError({"as_of": [f"Give a time as YYYY-MM-DDTHH:MM:SS+00:00, not {value[:32]!r}."]})
    return moment
