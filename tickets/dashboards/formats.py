"""How figures read on the page, in charts and in chart descriptions."""

from dataclasses import dataclass

DASH = "—"


def percent(value: float | None) -> str:
    """66.666 -> '66.7 %'; no data -> a dash."""
    return DASH if value is None else f"{value:.1f} %"


def duration(seconds: float | None) -> str:
    """Seconds as '45 s', '12 min', '3 h 05 min' or '2 d 4 h'; no data -> a dash."""
    if seconds is None:
        return DASH
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def duration_short(seconds: float | None) -> str:
    """A chart axis tick that fits its margin: '45 s', '12 min', '1.5 h', '2.3 d'."""
    if seconds is None:
        return DASH
    if seconds < 60:
        return f"{round(seconds)} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def count(value: float | None) -> str:
    return DASH if value is None else f"{value:,.0f}"


def change(current: float | None, previous: float | None, unit: str = "") -> str:
    """The move from the previous period with its sign ('+3.5 pts', '-2' with a minus sign), or a dash."""
    if current is None or previous is None:
        return DASH
    difference = current - previous
    if abs(difference) < 0.05:
        return "±0"
    sign = "+" if difference > 0 else "\u2212"
    magnitude = f"{abs(difference):.1f}" if isinstance(difference, float) else f"{abs(difference)}"
    return f"{sign}{magnitude}{unit}"


def duration_change(current: float | None, previous: float | None) -> str:
    """The move of a duration from the previous period: '+12 min', '-2 h 33 min' (with a minus sign), or a dash."""
    if current is None or previous is None:
        return DASH
    difference = current - previous
    if abs(difference) < 0.5:
        return "±0"
    return ("+" if difference > 0 else "\u2212") + duration(abs(difference))


@dataclass(frozen=True)
class SummaryLine:
    """One headline figure: its label, the tickets behind it, and how it reads now and before."""

    label: str
    metric: str
    current: str
    previous: str
    change: str


# (label, Measures attribute, kind, drill-down metric)
SUMMARY = [
    ("CSAT (answers rated 4 or 5)", "csat_percent", "percent", "csat_answers"),
    ("CSAT answers", "csat_answers", "count", "csat_answers"),
    ("Low ratings", "csat_low", "count", "csat_low"),
    ("Survey response rate", "response_rate", "percent", "csat_sent"),
    ("Tickets created", "created", "count", "created"),
    ("Tickets solved", "solved", "count", "solved"),
    ("First-response time, median", "first_response_p50", "duration", "responded"),
    ("First-response time, 90th percentile", "first_response_p90", "duration", "responded"),
    ("Resolution time, median", "resolution_p50", "duration", "solved"),
    ("Resolution time, 90th percentile", "resolution_p90", "duration", "solved"),
    ("SLA first response met", "sla_first_response_percent", "percent", "sla_first_response_missed"),
    ("SLA resolution met", "sla_resolution_percent", "percent", "sla_resolution_missed"),
    ("SLA compliance (both targets)", "sla_percent", "percent", "sla_missed"),
]
FORMATTERS = {"percent": percent, "count": count, "duration": duration}


def summary_lines(current, previous) -> list[SummaryLine]:
    """The headline figures of two ``Measures`` (this period, the previous one)."""
    lines = []
    for label, name, kind, metric in SUMMARY:
        now, before = getattr(current, name), getattr(previous, name)
        formatter = FORMATTERS[kind]
        if kind == "duration":
            moved = duration_change(now, before)
        else:
            moved = change(now, before, " pts" if kind == "percent" else "")
        lines.append(SummaryLine(label, metric, formatter(now), formatter(before), moved))
    return lines
