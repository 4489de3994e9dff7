"""Every dashboard table as plain rows, for the CSV exports (and the same figures as the page).

Durations are in seconds, shares in per cent (two decimals), empty when there is no data.
Cells a spreadsheet would read as a formula are prefixed with an apostrophe.
"""

import csv
from collections.abc import Iterable, Iterator
from io import StringIO

from ..models import CSATSurvey
from .selectors import Measures, Report
from .suggestions import SuggestionReport

TABLES = ("summary", "satisfaction", "service", "trend", "rules", "low_ratings")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _number(value: float | int | None, places: int = 2) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else f"{value:.{places}f}"


SUMMARY_MEASURES: list[tuple[str, str, int]] = [
    ("CSAT %", "csat_percent", 2),
    ("CSAT answers", "csat_answers", 0),
    ("CSAT answers rated 4-5", "csat_positive", 0),
    ("Low ratings", "csat_low", 0),
    ("Surveys sent", "surveys_sent", 0),
    ("Surveys answered", "surveys_answered", 0),
    ("Response rate %", "response_rate", 2),
    ("Tickets created", "created", 0),
    ("Tickets solved", "solved", 0),
    ("First response median (s)", "first_response_p50", 1),
    ("First response 90th percentile (s)", "first_response_p90", 1),
    ("Resolution median (s)", "resolution_p50", 1),
    ("Resolution 90th percentile (s)", "resolution_p90", 1),
    ("SLA first response met", "sla_first_response_met", 0),
    ("SLA first response missed", "sla_first_response_missed", 0),
    ("SLA first response %", "sla_first_response_percent", 2),
    ("SLA resolution met", "sla_resolution_met", 0),
    ("SLA resolution missed", "sla_resolution_missed", 0),
    ("SLA resolution %", "sla_resolution_percent", 2),
    ("Tickets that missed an SLA target", "sla_missed_tickets", 0),
    ("SLA compliance %", "sla_percent", 2),
]
SATISFACTION = [
    "csat_percent",
    "csat_answers",
    "csat_positive",
    "csat_low",
    "surveys_sent",
    "surveys_answered",
    "response_rate",
]
SERVICE = [
    "created",
    "solved",
    "first_response_p50",
    "first_response_p90",
    "resolution_p50",
    "resolution_p90",
    "sla_first_response_percent",
    "sla_resolution_percent",
    "sla_percent",
]
TREND = ["created", "solved", "csat_percent", "csat_answers", "first_response_p50", "resolution_p50", "sla_percent"]


def _figure(measures: Measures, name: str) -> str:
    value = getattr(measures, name)
    return _number(value, 1 if name.endswith(("_p50", "_p90")) else 2)


RULES_HEADER = [
    "rule",
    "variant",
    "accepted",
    "dismissed",
    "snoozed",
    "acceptance_percent",
    "previous_acceptance",
    "verdicts",
    "csat_after_accepted_answers",
    "csat_after_accepted_average",
    "csat_after_accepted_percent",
    "previous_accepted",
    "previous_dismissed",
    "previous_snoozed",
    "previous_csat_after_accepted_answers",
    "previous_csat_after_accepted_average",
    "previous_csat_after_accepted_percent",
]


def table_rows(
    table: str, *, report: Report | None, rules: SuggestionReport | None, low: list[CSATSurvey]
) -> Iterator[list[str]]:
    """Header then rows of one table; the report tables need ``report``, ``rules`` the
    Suggestions view (its rules, then the total with an empty rule)."""
    if table in ("summary", "satisfaction", "service", "trend") and report is None:
        raise ValueError(f"table {table!r} needs the report")
    if table == "rules" and rules is None:
        raise ValueError("table 'rules' needs the Suggestions view")
    if table == "summary":
        period, previous = report.period, report.period.previous
        yield ["measure", "key", f"{period.first_day}/{period.last_day}", f"{previous.first_day}/{previous.last_day}"]
        for label, name, places in SUMMARY_MEASURES:
            current, previous = getattr(report.total.current, name), getattr(report.total.previous, name)
            yield [label, name, _number(current, places), _number(previous, places)]
    elif table in ("satisfaction", "service"):
        names = SATISFACTION if table == "satisfaction" else SERVICE
        yield [report.group_by, f"{report.group_by}_id", *names, *(f"previous_{n}" for n in names)]
        for row in [*report.rows, report.total]:
            current = [_figure(row.current, n) for n in names]
            previous = [_figure(row.previous, n) for n in names]
            yield [row.label, row.key, *current, *previous]
    elif table == "trend":
        yield ["bucket", *TREND, "previous_bucket", *(f"previous_{n}" for n in TREND)]
        for point in report.trend:
            yield [
                point.day.isoformat(),
                *(_figure(point.current, n) for n in TREND),
                point.previous_day.isoformat(),
                *(_figure(point.previous, n) for n in TREND),
            ]
    elif table == "rules":
        # The first seven columns are those of the earlier export; the rest came with the
        # Suggestions view.
        yield RULES_HEADER
        for row in [*rules.rows, rules.total]:
            m, p = row.current, row.previous
            yield [
                row.rule or "(all rules)",
                row.variant,
                str(m.accepted),
                str(m.dismissed),
                str(m.snoozed),
                _number(m.acceptance),
                _number(p.acceptance),
                str(m.verdicts),
                str(m.csat_answers),
                _number(m.csat_average),
                _number(m.csat_percent),
                str(p.accepted),
                str(p.dismissed),
                str(p.snoozed),
                str(p.csat_answers),
                _number(p.csat_average),
                _number(p.csat_percent),
            ]
    elif table == "low_ratings":
        yield ["answered_at", "rating", "comment", "ticket", "subject", "agent", "team", "channel"]
        for survey in low:
            yield [
                survey.answered_at.isoformat(),
                str(survey.rating),
                survey.comment,
                str(survey.ticket_id),
                survey.ticket.subject,
                survey.agent.get_username() if survey.agent else "",
                survey.team.name if survey.team else "",
                survey.channel,
            ]
    else:
        raise ValueError(f"unknown table {table!r}")


def _safe(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_text(rows: Iterable[list[str]]) -> str:
    buffer = StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([_safe(str(cell)) for cell in row])
    return buffer.getvalue()
