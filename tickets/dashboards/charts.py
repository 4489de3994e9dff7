"""Trend charts drawn on the server as accessible SVG: no JavaScript, no inline style.

Each chart is an ``<svg role="img">`` labelled by its ``<title>`` and ``<desc>`` (which states
the figures in words); every point carries its own ``<title>``. The page shows the same figures
in a table beside the chart, so nothing depends on seeing it. Colours come from classes in
``desk.css``; the previous period is also dashed, so the two series differ without colour.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString

from . import formats
from .selectors import Report
from .tables import Links

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 14, 34


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]
    css: str  # "current" or "previous"


def _nice_ceiling(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(10 * magnitude)


def _segments(points: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Split a series at its gaps (buckets without data) so the line does not invent values."""
    out: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            if out[-1]:
                out.append([])
        else:
            out[-1].append(point)
    return [segment for segment in out if segment]


# Stroke colour and dash per series; the dash tells the series apart without colour.
STROKES = {"current": ("#1f5fbf", "none"), "previous": ("#5a6272", "6 4")}


def _grid(top: float, y: Callable[[float], float], formatter: Callable[[float], str]) -> SafeString:
    rows = []
    for i in range(5):
        value = top * i / 4
        level = round(y(value), 1)
        rows.append((LEFT, WIDTH - RIGHT, level, level, LEFT - 6, level + 4, formatter(value)))
    return format_html_join(
        "",
        '<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d8dce3"/>'
        '<text class="chart-tick" x="{}" y="{}" text-anchor="end">{}</text>',
        rows,
    )


def _legend(series: Sequence[Series]) -> SafeString:
    rows = []
    for n, one in enumerate(series):
        colour, dash = STROKES[one.css]
        left = LEFT + 190 * n
        rows.append((left, left + 24, colour, dash, left + 30, one.label))
    return format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="6" y2="6" stroke="{}" stroke-dasharray="{}" stroke-width="2"/>'
        '<text class="chart-legend" x="{}" y="10">{}</text>',
        rows,
    )


def trend_chart(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    formatter: Callable[[float], str],
    maximum: float | None = None,
    tick_formatter: Callable[[float], str] | None = None,
) -> SafeString:
    """A line chart of one figure over the period's buckets, one line per series
    (``tick_formatter``: a shorter form for the axis, default ``formatter``)."""
    known = [v for s in series for v in s.values if v is not None]
    top = maximum if maximum is not None else _nice_ceiling(max(known, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = max(len(labels), 1)

    def x(index: int) -> float:
        return LEFT + (plot_w * index / (count - 1) if count > 1 else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h - (plot_h * value / top if top else 0)

    shown = sorted({0, count // 2, count - 1}) if count > 2 else list(range(count))
    ticks = format_html_join(
        "",
        '<text class="chart-tick" x="{}" y="{}" text-anchor="middle">{}</text>',
        ((round(x(i), 1), HEIGHT - BOTTOM + 18, labels[i]) for i in shown if i < len(labels)),
    )
    parts = []
    for one in series:
        colour, dash = STROKES[one.css]
        points = [
            (round(x(i), 1), round(y(v), 1)) if v is not None and i < len(labels) else None
            for i, v in enumerate(one.values)
        ]
        for segment in _segments(points):
            parts.append(
                format_html(
                    '<polyline class="chart-line" points="{}" fill="none" stroke="{}" stroke-dasharray="{}" '
                    'stroke-width="2"/>',
                    " ".join(f"{px},{py}" for px, py in segment),
                    colour,
                    dash,
                )
            )
        # Dozens of points a chart: coordinates are numbers and the colour ours, so only the
        # words are escaped (format_html per point costs more than the rest of the page).
        series_label = escape(one.label)
        parts.append(
            SafeString(
                "".join(
                    f'<circle cx="{point[0]}" cy="{point[1]}" r="3" fill="{colour}"><title>'
                    f"{escape(labels[i])}: {escape(formatter(one.values[i]))} ({series_label})</title></circle>"
                    for i, point in enumerate(points)
                    if point is not None
                )
            )
        )
    return format_html(
        '<svg class="chart" id="{id}" role="img" aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {w} {h}" '
        'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        "{grid}{ticks}{lines}{legend}</svg>",
        id=chart_id,
        w=WIDTH,
        h=HEIGHT,
        title=title,
        desc="; ".join(_describe(one, labels, formatter) for one in series),
        grid=_grid(top, y, tick_formatter or formatter),
        ticks=ticks,
        lines=SafeString("".join(parts)),
        legend=_legend(series),
    )


def _describe(series: Series, labels: Sequence[str], formatter: Callable[[float], str]) -> str:
    known = [(labels[i], v) for i, v in enumerate(series.values) if v is not None and i < len(labels)]
    if not known:
        return f"{series.label}: no data"
    low = min(known, key=lambda p: p[1])
    high = max(known, key=lambda p: p[1])
    return (
        f"{series.label}: from {formatter(known[0][1])} on {known[0][0]} to {formatter(known[-1][1])} on "
        f"{known[-1][0]}, lowest {formatter(low[1])} on {low[0]}, highest {formatter(high[1])} on {high[0]}"
    )


@dataclass(frozen=True)
class ChartRow:
    """One bucket as text: its label and figure in this period and in the previous one, each
    with the drill-down to the tickets behind it."""

    label: str
    value: str
    url: str
    previous_label: str
    previous_value: str
    previous_url: str


@dataclass(frozen=True)
class Chart:
    """A trend chart and the same figures as text rows (bucket, this period, previous period)."""

    chart_id: str
    title: str
    svg: SafeString
    rows: list[ChartRow]

    @property
    def rows_html(self) -> SafeString:
        """The rows as ``<tr>`` lines, each figure a link when it has one."""

        def figure(text: str, url: str) -> str:
            return f'<a href="{escape(url)}">{escape(text)}</a>' if url else escape(text)

        return SafeString(
            "".join(
                f'<tr><th scope="row">{escape(row.label)}</th><td>{figure(row.value, row.url)}</td>'
                f"<td>{escape(row.previous_label)}</td><td>{figure(row.previous_value, row.previous_url)}</td></tr>"
                for row in self.rows
            )
        )


def bucket_label(day, grain: str) -> str:
    if grain == "month":
        return f"{day:%b %Y}"
    if grain == "week":
        return f"wk {day:%d %b}"
    return f"{day:%d %b}"


# (Measures attribute, title, formatter, axis maximum, drill-down metric: the tickets behind it)
TREND_FIGURES: list[tuple[str, str, Callable[[float | None], str], float | None, str]] = [
    ("csat_percent", "CSAT % (answers rated 4-5)", formats.percent, 100.0, "csat_answers"),
    ("created", "Tickets created", formats.count, None, "created"),
    ("first_response_p50", "First-response time, median", formats.duration, None, "responded"),
    ("sla_percent", "SLA compliance %", formats.percent, 100.0, "sla_missed"),
]


def report_charts(report: Report, links: Links | None = None) -> list[Chart]:
    """One chart per trend figure: the period against the previous one, bucket by bucket; with
    ``links``, every bucket's figure in the text rows links to the tickets behind it."""
    grain = report.period.grain
    labels = [bucket_label(point.day, grain) for point in report.trend]
    charts = []
    for name, title, formatter, maximum, metric in TREND_FIGURES:
        current = [getattr(point.current, name) for point in report.trend]
        previous = [getattr(point.previous, name) for point in report.trend]
        if name == "created":
            # A bucket without tickets has a volume of zero, not "no data".
            current, previous = [v or 0 for v in current], [v or 0 for v in previous]
        svg = trend_chart(
            chart_id=f"trend-{name.replace('_', '-')}",
            title=f"{title}: {report.period} against the previous period",
            labels=labels,
            series=[Series("This period", current, "current"), Series("Previous period", previous, "previous")],
            formatter=formatter,
            maximum=maximum,
            tick_formatter=formats.duration_short if formatter is formats.duration else None,
        )
        rows = [
            ChartRow(
                label=labels[i],
                value=formatter(current[i]),
                url=links.drill_period(metric, report.period.bucket_period(point.day)) if links else "",
                previous_label=bucket_label(point.previous_day, grain),
                previous_value=formatter(previous[i]),
                previous_url=(
                    links.drill_period(metric, report.period.previous.bucket_period(point.previous_day))
                    if links
                    else ""
                ),
            )
            for i, point in enumerate(report.trend)
        ]
        charts.append(Chart(chart_id=f"trend-{name.replace('_', '-')}", title=title, svg=svg, rows=rows))
    return charts
