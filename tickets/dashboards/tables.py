"""The breakdown tables as rows of ready cells (text and the drill-down link behind each figure),
built once in Python, and their HTML (``table_html``), so the page renders a few hundred links
without template work per link."""

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from . import formats
from .periods import Period
from .selectors import NONE, TOTAL, Report, Row
from .suggestions import SuggestionReport


class Links:
    """Builds the page's URLs: drill-downs, this view with a change, CSV exports.

    A page carries a few hundred drill-down links, so the common part of each is encoded once.
    ``as_of``: when the figures were computed; drill-downs list the tickets as of that moment, so
    a figure served from a stored view and its list agree."""

    def __init__(
        self,
        *,
        base_query: dict[str, str],
        previous_query: dict[str, str],
        page_query: dict[str, str],
        group_by: str,
        as_of: datetime | None = None,
    ) -> None:
        self.page_query, self.group_by = page_query, group_by
        moment = {"as_of": as_of.isoformat()} if as_of else {}
        base_query, previous_query = {**base_query, **moment}, {**previous_query, **moment}
        self._tickets = reverse("dashboards:tickets") + "?"
        # Trend buckets differ only in their dates and figure (ISO dates and metric names need no quoting).
        unbounded = urlencode({k: v for k, v in base_query.items() if k not in ("from", "to", "period", "days")})
        self._bucket_prefix = self._tickets + (unbounded + "&" if unbounded else "")
        self._prefix = {
            (previous, keyed): urlencode(
                {k: v for k, v in (previous_query if previous else base_query).items() if not (keyed and k == group_by)}
            )
            for previous in (False, True)
            for keyed in (False, True)
        }

    def drill(self, metric: str = "", key: str | None = None, *, previous: bool = False, **extra: str) -> str:
        keyed = key is not None and key != TOTAL
        params = {self.group_by: key or "none"} if keyed else {}
        params.update({name: value for name, value in extra.items() if value})
        if metric:
            params["metric"] = metric
        prefix = self._prefix[(previous, keyed)]
        return self._tickets + "&".join(part for part in (prefix, urlencode(params)) if part)

    def drill_period(self, metric: str, period: Period) -> str:
        """The drill-down behind a figure of part of the period (a trend bucket)."""
        first, last = period.first_day.isoformat(), period.last_day.isoformat()
        return f"{self._bucket_prefix}from={first}&to={last}&metric={metric}"

    def view(self, **overrides: str) -> str:
        return reverse("dashboards:index") + "?" + urlencode({**self.page_query, **overrides})

    def export(self, table: str) -> str:
        return reverse("dashboards:export") + "?" + urlencode({**self.page_query, "table": table})


@dataclass(frozen=True)
class Cell:
    text: str
    url: str = ""
    note: str = ""
    note_url: str = ""


@dataclass(frozen=True)
class TableRow:
    label: str
    cells: list[Cell] = field(default_factory=list)
    url: str = ""  # the row's own view (one agent's figures), if any
    total: bool = False


SATISFACTION_HEADINGS = ["CSAT", "Previous", "Answers", "Rated 4-5", "Low", "Surveys sent", "Response rate"]
SERVICE_HEADINGS = [
    "Created",
    "Solved",
    "First response, median",
    "90th pct.",
    "Resolution, median",
    "90th pct.",
    "SLA first response",
    "SLA resolution",
]


def _rows(report: Report) -> list[Row]:
    return [*report.rows, report.total]


def satisfaction_rows(report: Report, links: Links, *, focusable: bool) -> list[TableRow]:
    out = []
    for row in _rows(report):
        key, m, p = row.key, row.current, row.previous
        answers = links.drill("csat_answers", key)
        out.append(
            TableRow(
                label="All" if key == TOTAL else row.label,
                url=links.view(agent=key) if focusable and key not in (TOTAL, "") else "",
                total=key == TOTAL,
                cells=[
                    Cell(formats.percent(m.csat_percent), answers),
                    Cell(
                        formats.percent(p.csat_percent),
                        links.drill("csat_answers", key, previous=True),
                        note=formats.change(m.csat_percent, p.csat_percent, " pts"),
                    ),
                    Cell(str(m.csat_answers), answers),
                    Cell(str(m.csat_positive), links.drill("csat_positive", key)),
                    Cell(str(m.csat_low), links.drill("csat_low", key)),
                    Cell(str(m.surveys_sent), links.drill("csat_sent", key)),
                    Cell(formats.percent(m.response_rate), links.drill("csat_responded", key)),
                ],
            )
        )
    return out


def service_rows(report: Report, links: Links) -> list[TableRow]:
    out = []
    for row in _rows(report):
        key, m, p = row.key, row.current, row.previous
        responded, solved = links.drill("responded", key), links.drill("solved", key)
        out.append(
            TableRow(
                label="All" if key == TOTAL else row.label,
                total=key == TOTAL,
                cells=[
                    Cell(str(m.created), links.drill("created", key), note=f"was {p.created}"),
                    Cell(str(m.solved), solved),
                    Cell(formats.duration(m.first_response_p50), responded),
                    Cell(formats.duration(m.first_response_p90), responded),
                    Cell(formats.duration(m.resolution_p50), solved),
                    Cell(formats.duration(m.resolution_p90), solved),
                    Cell(
                        formats.percent(m.sla_first_response_percent),
                        links.drill("sla_first_response_met", key),
                        note=f"{m.sla_first_response_missed} missed",
                        note_url=links.drill("sla_first_response_missed", key),
                    ),
                    Cell(
                        formats.percent(m.sla_resolution_percent),
                        links.drill("sla_resolution_met", key),
                        note=f"{m.sla_resolution_missed} missed",
                        note_url=links.drill("sla_resolution_missed", key),
                    ),
                ],
            )
        )
    return out


def _cell_html(cell: Cell) -> SafeString:
    figure = format_html('<a href="{}">{}</a>', cell.url, cell.text) if cell.url else format_html("{}", cell.text)
    if not cell.note:
        return figure
    note = (
        format_html('<a href="{}">{}</a>', cell.note_url, cell.note) if cell.note_url else format_html("{}", cell.note)
    )
    return format_html('{} <span class="meta">({})</span>', figure, note)


def _row_html(row: TableRow) -> SafeString:
    if row.url:
        label = format_html(
            '<a href="{}" aria-label="{}: show only this agent\'s figures">{}</a>', row.url, row.label, row.label
        )
    else:
        label = format_html("{}", row.label)
    cells = format_html_join("", "<td>{}</td>", ((_cell_html(cell),) for cell in row.cells))
    line = (
        '<tr class="dash-total"><th scope="row">{}</th>{}</tr>' if row.total else '<tr><th scope="row">{}</th>{}</tr>'
    )
    return format_html(line, label, cells)


@dataclass(frozen=True)
class TableHtml:
    body: SafeString
    foot: SafeString


def table_html(rows: list[TableRow], *, span: int, empty: str) -> TableHtml:
    """The ``<tbody>`` (one line per group, or ``empty``) and ``<tfoot>`` (the total) of a table."""
    groups = [row for row in rows if not row.total]
    body = format_html_join("\n", "{}", ((_row_html(row),) for row in groups))
    if not groups:
        body = format_html('<tr><td colspan="{}">{}</td></tr>', span, empty)
    foot = format_html_join("\n", "{}", ((_row_html(row),) for row in rows if row.total))
    return TableHtml(body=body, foot=foot)


# The Suggestions tables ------------------------------------------------------------------------


@dataclass(frozen=True)
class SuggestionLine:
    """One rule and variant (or the total) of the Suggestions tables, each figure with the
    verdicts behind it."""

    rule: str
    variant: str
    total: bool
    verdicts: Cell
    accepted: Cell
    dismissed: Cell
    snoozed: Cell
    acceptance: str
    previous_acceptance: Cell
    acceptance_change: str
    csat_answers: Cell
    csat_average: str
    csat_percent: str
    previous_csat_average: str


def _average(value: float | None) -> str:
    return formats.DASH if value is None else f"{value:.2f} / 5"


def _verdicts_url(links: Links, keys: dict[str, str], verdict: str, previous: bool = False, **extra: str) -> str:
    return links.drill("", previous=previous, verdict=verdict, **keys, **extra)


def suggestion_lines(report: SuggestionReport, links: Links) -> list[SuggestionLine]:
    """The rows of a ``SuggestionReport`` as cells (rules, then the total)."""
    out = []
    for row in [*report.rows, report.total]:
        total = row is report.total
        keys = {} if total else {"rule": row.rule, "variant": row.variant or NONE}
        m, p = row.current, row.previous
        out.append(
            SuggestionLine(
                rule="All rules" if total else row.rule,
                variant="" if total else row.variant,
                total=total,
                verdicts=Cell(str(m.verdicts)),
                accepted=Cell(str(m.accepted), _verdicts_url(links, keys, "accepted")),
                dismissed=Cell(str(m.dismissed), _verdicts_url(links, keys, "dismissed")),
                snoozed=Cell(str(m.snoozed), _verdicts_url(links, keys, "snoozed")),
                acceptance=formats.percent(m.acceptance),
                previous_acceptance=Cell(
                    formats.percent(p.acceptance), _verdicts_url(links, keys, "accepted", previous=True)
                ),
                acceptance_change=formats.change(m.acceptance, p.acceptance, " pts"),
                csat_answers=Cell(str(m.csat_answers), _verdicts_url(links, keys, "accepted", outcome="csat")),
                csat_average=_average(m.csat_average),
                csat_percent=formats.percent(m.csat_percent),
                previous_csat_average=_average(p.csat_average),
            )
        )
    return out
