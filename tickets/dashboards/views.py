"""Dashboard pages: figures, the tickets behind a figure, CSV exports. Thin: parse the query,
call the selectors, render.

Agents (``tickets.view_ticket``) see their own figures; team leads and admins
(``tickets.view_dashboards``) see the whole desk.
"""

from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from customers.models import Channel, SuggestionFeedback
from supportdesk.access import permission_required

from . import charts, exports, formats, selectors, snapshots, suggestions, tables
from .filters import DashboardQuery, as_of_parse, dashboard_query
from .periods import PRESETS

DRILL_PAGE_SIZE = 50


def _own_agent_id(request: HttpRequest) -> int | None:
    return None if request.user.has_perm("tickets.view_dashboards") else request.user.pk


def _query_from(params, request: HttpRequest) -> tuple[DashboardQuery, dict[str, list[str]]]:
    """The asked-for view, or the default one with the errors to show."""
    own = _own_agent_id(request)
    try:
        return dashboard_query(params, own_agent_id=own), {}
    except ValidationError as exc:
        return dashboard_query({}, own_agent_id=own), exc.message_dict


def _query(request: HttpRequest) -> tuple[DashboardQuery, dict[str, list[str]]]:
    return _query_from(request.GET, request)


def _links(query: DashboardQuery, *, as_of) -> tables.Links:
    return tables.Links(
        base_query={**query.period.query(), **query.scope.query()},
        previous_query={**query.period.previous.query(), **query.scope.query()},
        page_query=query.page_query(),
        group_by=query.group_by,
        as_of=as_of,
    )


@permission_required("tickets.view_ticket")
def index(request: HttpRequest) -> HttpResponse:
    query, errors = _query(request)
    report = snapshots.report_snapshot(period=query.period, scope=query.scope, group_by=query.group_by)
    outcomes = suggestions.suggestion_report_snapshot(period=query.period, scope=query.scope)
    links = _links(query, as_of=report.computed_at)
    focusable = query.group_by == "agent" and not query.own_only
    context = {
        "query": query,
        "errors": errors,
        "report": report,
        "previous": query.period.previous,
        "summary": formats.summary_lines(report.total.current, report.total.previous),
        "charts": charts.report_charts(report, links),
        "rules": tables.suggestion_lines(outcomes, _links(query, as_of=outcomes.computed_at)),
        "rules_as_of": outcomes.computed_at,
        "suggestions_url": reverse("dashboards:suggestions") + "?" + urlencode(query.page_query()),
        "low_ratings": selectors.low_ratings(period=query.period, scope=query.scope),
        # The latest low ratings are read live, so the link to all of them is live too (no as_of).
        "low_ratings_url": reverse("dashboards:tickets")
        + "?"
        + urlencode({**query.period.query(), **query.scope.query(), "metric": "csat_low"}),
        "teams": selectors.dashboard_teams(),
        "channels": Channel.choices,
        "presets": PRESETS,
        "group_by": query.group_by,
        "group_by_choices": [("agent", "Agent"), ("team", "Team"), ("channel", "Channel")],
        "links": links,
        "export_urls": {table: links.export(table) for table in exports.TABLES},
        "satisfaction_headings": tables.SATISFACTION_HEADINGS,
        "satisfaction_table": tables.table_html(
            tables.satisfaction_rows(report, links, focusable=focusable), span=8, empty="No surveys in this period."
        ),
        "service_headings": tables.SERVICE_HEADINGS,
        "service_table": tables.table_html(
            tables.service_rows(report, links), span=9, empty="No tickets in this period."
        ),
    }
    if query.scope.agent_id and not query.own_only:
        everyone = {k: v for k, v in query.page_query().items() if k != "agent"}
        context["everyone_url"] = reverse("dashboards:index") + "?" + urlencode(everyone)
    return render(request, "tickets/dashboards/index.html", context, status=400 if errors else 200)


@permission_required("tickets.view_ticket")
def tickets(request: HttpRequest) -> HttpResponse:
    """The tickets behind a figure (``metric``), or the suggestion verdicts behind an acceptance
    figure (``rule`` and ``verdict``)."""
    query, errors = _query(request)
    metric = request.GET.get("metric", "")
    rule, verdict = request.GET.get("rule", ""), request.GET.get("verdict", "")
    try:
        as_of = as_of_parse(request.GET.get("as_of"))
    except ValidationError as exc:
        as_of = None
        errors.update(exc.message_dict)
    context = {"query": query, "errors": errors, "metric": metric, "rule": rule, "verdict": verdict, "as_of": as_of}
    if rule or verdict:
        variant, outcome = request.GET.get("variant"), request.GET.get("outcome", "")
        if verdict not in SuggestionFeedback.Verdict.values:
            errors["verdict"] = [f"Use one of {', '.join(SuggestionFeedback.Verdict.values)}."]
        if outcome not in ("", suggestions.OUTCOME_CSAT):
            errors["outcome"] = [f"Use {suggestions.OUTCOME_CSAT!r} or leave it out."]
        if "verdict" in errors or "outcome" in errors:
            rows = SuggestionFeedback.objects.none()
        else:
            rows = suggestions.drill_verdicts(
                rule=rule,
                verdict=verdict,
                variant=variant,
                outcome=outcome,
                period=query.period,
                scope=query.scope,
                as_of=as_of,
            )
        context["verdicts"] = True
        context["title"] = _verdicts_title(rule=rule, variant=variant, verdict=verdict, outcome=outcome)
    elif metric in selectors.METRICS:
        rows = selectors.drill_tickets(
            metric=metric, period=query.period, scope=query.scope, now=timezone.now(), as_of=as_of
        )
        context["title"] = selectors.METRICS[metric][2]
    else:
        errors["metric"] = [f"Unknown figure; use one of {', '.join(selectors.METRICS)}."]
        rows, context["title"] = selectors.drill_tickets(metric="created", period=query.period).none(), "Tickets"
    context["page"] = Paginator(rows, DRILL_PAGE_SIZE).get_page(request.GET.get("page"))
    back = "dashboards:suggestions" if context.get("verdicts") and not query.own_only else "dashboards:index"
    context["back_url"] = reverse(back) + "?" + urlencode(query.page_query())
    kept = request.GET.copy()
    kept.pop("page", None)
    context["page_extra"] = "&" + kept.urlencode() if kept else ""
    if as_of is not None:
        kept.pop("as_of", None)
        context["latest_url"] = reverse("dashboards:tickets") + "?" + kept.urlencode()
    return render(request, "tickets/dashboards/tickets.html", context, status=400 if errors else 200)


def _verdicts_title(*, rule: str, variant: str | None, verdict: str, outcome: str) -> str:
    which = f"rule {rule}" if rule else "all rules"
    if variant:
        which += ", no variant" if variant == selectors.NONE else f", variant {variant}"
    if outcome == suggestions.OUTCOME_CSAT:
        return f"Suggestions of {which}: accepted, then rated within {suggestions.LATER_CSAT_DAYS} days"
    return f"Suggestions of {which}: {verdict}"


@require_POST
@permission_required("tickets.view_ticket")
def refresh(request: HttpRequest) -> HttpResponse:
    """Recompute a view's figures from the raw rows now (instead of waiting for the beat job),
    then show it."""
    query, errors = _query_from(request.POST, request)
    if errors:  # the page names the fields at fault
        given = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
        return HttpResponseRedirect(reverse("dashboards:index") + "?" + urlencode(given))
    snapshots.report_snapshot(period=query.period, scope=query.scope, group_by=query.group_by, fresh=True)
    return HttpResponseRedirect(reverse("dashboards:index") + "?" + urlencode(query.page_query()))


@permission_required("tickets.view_ticket")
def export(request: HttpRequest) -> HttpResponse:
    """One dashboard table as CSV (``table``: summary, satisfaction, service, trend, rules,
    low_ratings), for the same query as the page."""
    table = request.GET.get("table", "summary")
    try:
        query = dashboard_query(request.GET, own_agent_id=_own_agent_id(request))
        if table not in exports.TABLES:
            raise ValidationError({"table": [f"Use one of {', '.join(exports.TABLES)}."]})
    except ValidationError as exc:
        lines = [f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()]
        return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")
    report = rules = low = None
    if table in ("summary", "satisfaction", "service", "trend"):
        report = snapshots.report_snapshot(period=query.period, scope=query.scope, group_by=query.group_by)
    if table == "rules":
        rules = suggestions.suggestion_report_snapshot(period=query.period, scope=query.scope)
    low = selectors.low_ratings(period=query.period, scope=query.scope, limit=10_000) if table == "low_ratings" else []
    body = exports.csv_text(exports.table_rows(table, report=report, rules=rules, low=low))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    name = f"{table}-{query.group_by}-{query.period.first_day}-{query.period.last_day}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@permission_required("tickets.view_ticket", "tickets.view_dashboards")
def suggestions_page(request: HttpRequest) -> HttpResponse:
    """Team leads: suggested actions per rule and variant, what agents did with them and how
    customers rated the help after an accepted one."""
    query, errors = _query(request)
    data = suggestions.suggestion_report_snapshot(period=query.period, scope=query.scope)
    links = _links(query, as_of=data.computed_at)
    context = {
        "query": query,
        "errors": errors,
        "data": data,
        "previous": query.period.previous,
        "lines": tables.suggestion_lines(data, links),
        "later_days": suggestions.LATER_CSAT_DAYS,
        "presets": PRESETS,
        "teams": selectors.dashboard_teams(),
        "export_url": links.export("rules"),
        "dashboard_url": reverse("dashboards:index") + "?" + urlencode(query.page_query()),
    }
    return render(request, "tickets/dashboards/suggestions.html", context, status=400 if errors else 200)


@require_POST
@permission_required("tickets.view_ticket", "tickets.view_dashboards")
def suggestions_refresh(request: HttpRequest) -> HttpResponse:
    """Recompute the Suggestions view from the raw rows now, then show it."""
    query, errors = _query_from(request.POST, request)
    given = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
    if not errors:
        suggestions.suggestion_report_snapshot(period=query.period, scope=query.scope, fresh=True)
        given = query.page_query()
    return HttpResponseRedirect(reverse("dashboards:suggestions") + "?" + urlencode(given))
