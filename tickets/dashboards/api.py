"""Reports API: the dashboard's figures as JSON, under ``/api/v1/reports/``.

- ``GET /api/v1/reports/csat/``: CSAT %, answers, rated 4-5, low ratings, surveys sent and
  answered, response rate;
- ``GET /api/v1/reports/service/``: volume, solved, first-response and resolution time (median
  and 90th percentile, seconds), SLA targets met and missed with compliance %;
- ``GET /api/v1/reports/suggestions/``: suggested-action verdicts and acceptance by rule and
  variant, with the CSAT answers that followed an acceptance (the Suggestions dashboard).

Query: ``from`` and ``to`` (dates, both inclusive, in the desk's report timezone), or ``period``
(a preset); ``group_by`` = agent | team | channel; optional ``agent``, ``team`` (an id or
``none``) and ``channel`` filters. Bad values answer 400 naming the field. Each answer holds the
period and the previous one, the totals, one row per group and the trend; the rows are few (one
per agent, team or channel), so they come whole, not paginated.

An API key reads everything; a signed-in agent reads their own figures, a lead everyone's.
Mounted by ``supportdesk.api.urls``: ``path("reports/", include("tickets.dashboards.api")),``.
"""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from supportdesk.api.authentication import ApiKeyUser
from supportdesk.api.base import DeskApiView

from . import selectors, snapshots, suggestions
from .filters import DashboardQuery, dashboard_query

CSAT_FIGURES = (
    "csat_percent",
    "csat_answers",
    "csat_positive",
    "csat_low",
    "surveys_sent",
    "surveys_answered",
    "response_rate",
)
SERVICE_FIGURES = (
    "created",
    "solved",
    "responded",
    "first_response_p50",
    "first_response_p90",
    "resolution_p50",
    "resolution_p90",
    "sla_first_response_met",
    "sla_first_response_missed",
    "sla_first_response_percent",
    "sla_resolution_met",
    "sla_resolution_missed",
    "sla_resolution_percent",
    "sla_missed_tickets",
    "sla_percent",
)
PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day of the period (inclusive)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day of the period (inclusive)."),
    OpenApiParameter("period", str, enum=["7d", "30d", "90d", "this_month", "last_month"], description="A preset."),
    OpenApiParameter("group_by", str, enum=list(selectors.GROUP_BY), description="Breakdown; default agent."),
    OpenApiParameter("agent", str, description="Only this agent's figures (an id, or none)."),
    OpenApiParameter("team", str, description="Only this team's figures (an id, or none)."),
    OpenApiParameter("channel", str, description="Only this channel's figures."),
]


# "from" and "to" are Python keywords, so the fields are declared by name rather than as attributes;
# the schema then documents exactly what the answer holds.
PeriodSerializer = type(
    "PeriodSerializer",
    (serializers.Serializer,),
    {
        "from": serializers.DateField(source="first_day", help_text="First day, inclusive."),
        "to": serializers.DateField(source="last_day", help_text="Last day, inclusive."),
        "start": serializers.DateTimeField(help_text="Inclusive."),
        "end": serializers.DateTimeField(help_text="Exclusive."),
        "timezone": serializers.CharField(source="zone.key"),
        "__module__": __name__,
    },
)


def _figures_serializer(name: str, figures: tuple[str, ...]) -> type[serializers.Serializer]:
    fields = {
        figure: serializers.FloatField(allow_null=True)
        if figure.endswith(("percent", "rate", "_p50", "_p90"))
        else serializers.IntegerField()
        for figure in figures
    }
    return type(name, (serializers.Serializer,), fields)


CsatFigures = _figures_serializer("CsatFigures", CSAT_FIGURES)
ServiceFigures = _figures_serializer("ServiceFigures", SERVICE_FIGURES)


def _report_serializer(name: str, figures: type[serializers.Serializer]) -> type[serializers.Serializer]:
    pair = type(f"{name}Pair", (serializers.Serializer,), {"current": figures(), "previous": figures()})
    row = type(
        f"{name}Row",
        (serializers.Serializer,),
        {"key": serializers.CharField(), "label": serializers.CharField(), "current": figures(), "previous": figures()},
    )
    point = type(
        f"{name}TrendPoint",
        (serializers.Serializer,),
        {
            "bucket": serializers.DateField(),
            "current": figures(),
            "previous_bucket": serializers.DateField(),
            "previous": figures(),
        },
    )
    return type(
        name,
        (serializers.Serializer,),
        {
            "period": PeriodSerializer(),
            "previous_period": PeriodSerializer(),
            "group_by": serializers.ChoiceField(choices=selectors.GROUP_BY),
            "computed_at": serializers.DateTimeField(help_text="When the figures were computed from the raw rows."),
            "total": pair(),
            "results": row(many=True),
            "trend": point(many=True),
        },
    )


CsatReportSerializer = _report_serializer("CsatReport", CsatFigures)
ServiceReportSerializer = _report_serializer("ServiceReport", ServiceFigures)


class OutcomeSerializer(serializers.Serializer):
    verdicts = serializers.IntegerField(help_text="Accepted, dismissed and snoozed.")
    accepted = serializers.IntegerField()
    dismissed = serializers.IntegerField()
    snoozed = serializers.IntegerField()
    acceptance = serializers.FloatField(allow_null=True, help_text="Accepted over accepted and dismissed, in %.")
    csat_answers = serializers.IntegerField(
        help_text="Accepted verdicts followed by the customer's CSAT answer within 14 days (the first one)."
    )
    csat_average = serializers.FloatField(allow_null=True, help_text="Their average rating, 1-5.")
    csat_percent = serializers.FloatField(allow_null=True, help_text="Of them, rated 4 or 5, in %.")


class RuleSerializer(serializers.Serializer):
    rule = serializers.CharField()
    variant = serializers.CharField()
    accepted = serializers.IntegerField(source="current.accepted")
    dismissed = serializers.IntegerField(source="current.dismissed")
    snoozed = serializers.IntegerField(source="current.snoozed")
    acceptance = serializers.FloatField(
        source="current.acceptance", allow_null=True, help_text="Accepted over accepted and dismissed, in %."
    )
    previous_acceptance = serializers.FloatField(source="previous.acceptance", allow_null=True)
    current = OutcomeSerializer()
    previous = OutcomeSerializer()


class SuggestionsTotalSerializer(serializers.Serializer):
    current = OutcomeSerializer()
    previous = OutcomeSerializer()


class SuggestionsReportSerializer(serializers.Serializer):
    period = PeriodSerializer()
    previous_period = PeriodSerializer()
    computed_at = serializers.DateTimeField(help_text="When the figures were computed from the raw rows.")
    total = SuggestionsTotalSerializer()
    results = RuleSerializer(many=True)


def _query(request: Request) -> DashboardQuery:
    user = request.user
    sees_everyone = isinstance(user, ApiKeyUser) or user.has_perm("tickets.view_dashboards")
    return dashboard_query(request.query_params, own_agent_id=None if sees_everyone else user.pk)


def _figures(measures: selectors.Measures, names: tuple[str, ...]) -> dict:
    values = measures.as_dict()
    return {name: values[name] for name in names}


def _report_payload(query: DashboardQuery, names: tuple[str, ...]) -> dict:
    report = snapshots.report_snapshot(period=query.period, scope=query.scope, group_by=query.group_by)
    return {
        "period": query.period,
        "previous_period": query.period.previous,
        "group_by": query.group_by,
        "computed_at": report.computed_at,
        "total": {"current": _figures(report.total.current, names), "previous": _figures(report.total.previous, names)},
        "results": [
            {
                "key": row.key,
                "label": row.label,
                "current": _figures(row.current, names),
                "previous": _figures(row.previous, names),
            }
            for row in report.rows
        ],
        "trend": [
            {
                "bucket": point.day,
                "current": _figures(point.current, names),
                "previous_bucket": point.previous_day,
                "previous": _figures(point.previous, names),
            }
            for point in report.trend
        ],
    }


class CsatReportView(DeskApiView):
    """CSAT by agent, team or channel for a period and the previous one."""

    read_permissions = ("tickets.view_ticket",)

    @extend_schema(
        summary="CSAT report", tags=["reports"], parameters=PARAMETERS, responses={200: CsatReportSerializer}
    )
    def get(self, request: Request) -> Response:
        payload = _report_payload(_query(request), CSAT_FIGURES)
        return Response(CsatReportSerializer(payload).data)


class ServiceReportView(DeskApiView):
    """Volume, response and resolution times and SLA compliance by agent, team or channel."""

    read_permissions = ("tickets.view_ticket",)

    @extend_schema(
        summary="Service report", tags=["reports"], parameters=PARAMETERS, responses={200: ServiceReportSerializer}
    )
    def get(self, request: Request) -> Response:
        payload = _report_payload(_query(request), SERVICE_FIGURES)
        return Response(ServiceReportSerializer(payload).data)


class SuggestionsReportView(DeskApiView):
    """Suggested-action verdicts by rule and variant, with the CSAT that followed an acceptance."""

    read_permissions = ("tickets.view_ticket",)

    @extend_schema(
        summary="Suggestion acceptance report",
        tags=["reports"],
        parameters=PARAMETERS,
        responses={200: SuggestionsReportSerializer},
    )
    def get(self, request: Request) -> Response:
        query = _query(request)
        data = suggestions.suggestion_report_snapshot(period=query.period, scope=query.scope)
        payload = {
            "period": query.period,
            "previous_period": query.period.previous,
            "computed_at": data.computed_at,
            "total": data.total,
            "results": data.rows,
        }
        return Response(SuggestionsReportSerializer(payload).data)


urlpatterns = [
    path("csat/", CsatReportView.as_view(), name="reports-csat"),
    path("service/", ServiceReportView.as_view(), name="reports-service"),
    path("suggestions/", SuggestionsReportView.as_view(), name="reports-suggestions"),
]
