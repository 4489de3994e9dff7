"""Dashboards: every figure checked against values computed here, independently, from the raw rows.

The data straddles both periods' edges (inclusive start, exclusive end) in a timezone with a
daylight-saving change inside the period, so a wrong boundary or a UTC day shows up.
"""

import csv
import io
import json
import random
import statistics
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import Channel, SuggestionFeedback
from tests.factories import CSATSurveyFactory, CustomerFactory, TeamFactory, TicketFactory, UserFactory
from tickets.dashboard_tasks import dashboard_snapshots_refresh
from tickets.dashboards import exports, formats, selectors, snapshots, suggestions
from tickets.dashboards.charts import report_charts
from tickets.dashboards.filters import dashboard_query
from tickets.dashboards.periods import PRESETS, Period, period_parse
from tickets.dashboards.selectors import NONE, Scope
from tickets.dashboards.tables import Links
from tickets.models import CSATSurvey, DashboardSnapshot, Ticket

pytestmark = pytest.mark.django_db

MADRID = ZoneInfo("Europe/Madrid")
# March 2026 in Madrid: 31 days, summer time from 29 March. Previous: 29 Jan - 28 Feb.
PERIOD = Period(first_day=date(2026, 3, 1), last_day=date(2026, 3, 31), zone=MADRID)
NOW = datetime(2026, 4, 2, 10, 0, tzinfo=UTC)
LOW = 2


@pytest.fixture(autouse=True)
def _report_timezone(settings):
    settings.DESK_REPORT_TIME_ZONE = "Europe/Madrid"
    settings.DESK_CSAT_LOW_RATING = LOW


# --- the data -------------------------------------------------------------------------------


def _edges() -> list[datetime]:
    """Instants on and around the period edges."""
    tick = timedelta(microseconds=1)
    start, end, previous_start = PERIOD.start, PERIOD.end, PERIOD.previous.start
    return [start, start - tick, end, end - tick, previous_start, previous_start - tick]


def _dataset(seed: int, tickets: int = 160) -> dict:
    rng = random.Random(seed)
    agents = [UserFactory(username=f"agent{seed}-{n}", first_name=f"Agent{n}") for n in range(3)]
    teams = [TeamFactory(name=f"Team {seed}-{n}") for n in range(2)]
    customer = CustomerFactory()
    lo, hi = PERIOD.previous.start - timedelta(days=3), PERIOD.end + timedelta(days=3)
    span = (hi - lo).total_seconds()
    created_times = _edges() + [lo + timedelta(seconds=rng.uniform(0, span)) for _ in range(tickets)]
    rows = []
    for created in created_times:
        first_response = created + timedelta(minutes=rng.randint(1, 60 * 30)) if rng.random() < 0.8 else None
        solved = created + timedelta(hours=rng.uniform(0.5, 24 * 6)) if rng.random() < 0.7 else None
        if solved and first_response and solved < first_response:
            solved = first_response + timedelta(minutes=5)
        rows.append(
            Ticket(
                customer=customer,
                subject="t",
                channel=rng.choice(Channel.values),
                assignee=rng.choice([*agents, None]),
                team=rng.choice([*teams, None]),
                status=Ticket.Status.SOLVED if solved else Ticket.Status.OPEN,
                created_at=created,
                first_response_at=first_response,
                solved_at=solved,
                first_response_due_at=created + timedelta(hours=rng.choice([1, 4, 8])) if rng.random() < 0.9 else None,
                resolution_due_at=created + timedelta(hours=rng.choice([8, 24, 72])) if rng.random() < 0.9 else None,
            )
        )
    # A ticket whose reply lands exactly on its due time meets the target.
    rows[0].first_response_at = rows[0].first_response_due_at = PERIOD.start + timedelta(hours=2)
    Ticket.objects.bulk_create(rows)
    surveys = []
    for ticket in Ticket.objects.filter(customer=customer, solved_at__isnull=False):
        sent = ticket.solved_at + timedelta(hours=24)
        answered = sent + timedelta(hours=rng.uniform(0.1, 24 * 10)) if rng.random() < 0.6 else None
        surveys.append(
            CSATSurvey(
                ticket=ticket,
                agent=rng.choice([ticket.assignee, *agents]),
                team=ticket.team,
                channel=ticket.channel,
                sent_at=sent,
                expires_at=sent + timedelta(days=28),
                answered_at=answered,
                rating=rng.randint(1, 5) if answered else None,
                comment='=HYPERLINK("x")' if answered and rng.random() < 0.2 else "",
            )
        )
    # Answers exactly on the edges.
    for instant, survey in zip([PERIOD.start, PERIOD.end], [s for s in surveys if s.answered_at][:2], strict=False):
        survey.answered_at = instant
    CSATSurvey.objects.bulk_create(surveys)
    return {"agents": agents, "teams": teams, "customer": customer}


# --- the expected figures, computed from raw rows -------------------------------------------------


def _in(instant: datetime | None, period: Period) -> bool:
    return instant is not None and period.start <= instant < period.end


def _key(value, group_by: str):
    return value


def _median_p90(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    return statistics.median(values), statistics.quantiles(values, n=10, method="inclusive")[8]


def _expected(period: Period, group_by: str, key=..., scope: dict | None = None) -> dict:
    """Every measure for one group (``key``; ``...`` = everyone) in ``period``, from raw rows."""
    scope = scope or {}
    ticket_dim = {"agent": "assignee_id", "team": "team_id", "channel": "channel"}
    survey_dim = {"agent": "agent_id", "team": "team_id", "channel": "channel"}

    def keep(row: dict, dims: dict) -> bool:
        if key is not ... and row[dims[group_by]] != key:
            return False
        return all(row[dims[name]] == value for name, value in scope.items())

    tickets = [t for t in Ticket.objects.values() if keep(t, ticket_dim)]
    surveys = [s for s in CSATSurvey.objects.values() if keep(s, survey_dim)]
    created = [t for t in tickets if _in(t["created_at"], period)]
    responded = [t for t in tickets if _in(t["first_response_at"], period)]
    solved = [t for t in tickets if _in(t["solved_at"], period)]
    answered = [s for s in surveys if _in(s["answered_at"], period)]
    sent = [s for s in surveys if _in(s["sent_at"], period)]

    def fr_state(t):
        due, done = t["first_response_due_at"], t["first_response_at"] or t["solved_at"]
        if due is None:
            return None
        if done is not None:
            return "met" if done <= due else "missed"
        return "missed" if due <= NOW else None

    def res_state(t):
        due, done = t["resolution_due_at"], t["solved_at"]
        if due is None:
            return None
        if done is not None:
            return "met" if done <= due else "missed"
        return "missed" if due <= NOW else None

    fr_p50, fr_p90 = _median_p90(sorted((t["first_response_at"] - t["created_at"]).total_seconds() for t in responded))
    res_p50, res_p90 = _median_p90(sorted((t["solved_at"] - t["created_at"]).total_seconds() for t in solved))
    return {
        "created": len(created),
        "responded": len(responded),
        "solved": len(solved),
        "first_response_p50": fr_p50,
        "first_response_p90": fr_p90,
        "resolution_p50": res_p50,
        "resolution_p90": res_p90,
        "sla_first_response_met": sum(fr_state(t) == "met" for t in created),
        "sla_first_response_missed": sum(fr_state(t) == "missed" for t in created),
        "sla_resolution_met": sum(res_state(t) == "met" for t in created),
        "sla_resolution_missed": sum(res_state(t) == "missed" for t in created),
        "sla_missed_tickets": sum("missed" in (fr_state(t), res_state(t)) for t in created),
        "csat_answers": len(answered),
        "csat_positive": sum(s["rating"] >= 4 for s in answered),
        "csat_low": sum(s["rating"] <= LOW for s in answered),
        "surveys_sent": len(sent),
        "surveys_answered": sum(s["answered_at"] is not None for s in sent),
    }


def _assert_measures(measures: selectors.Measures, expected: dict) -> None:
    for name, value in expected.items():
        actual = getattr(measures, name)
        if isinstance(value, float):
            assert actual == pytest.approx(value, rel=1e-9, abs=1e-6), name
        else:
            assert actual == value, name


# --- tests ------------------------------------------------------------------------------------


class TestPeriods:
    def test_a_period_runs_from_local_midnight_to_the_midnight_after_its_last_day(self):
        assert PERIOD.start == datetime(2026, 3, 1, tzinfo=MADRID)
        assert PERIOD.start.astimezone(UTC) == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
        # Summer time began on 29 March, so the end is at 22:00 UTC.
        assert PERIOD.end.astimezone(UTC) == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)

    def test_the_previous_period_has_as_many_days_and_ends_where_this_one_starts(self):
        previous = PERIOD.previous

        assert (previous.first_day, previous.last_day) == (date(2026, 1, 29), date(2026, 2, 28))
        assert previous.end == PERIOD.start

    @pytest.mark.parametrize(
        ("first", "last", "field"),
        [("2026-03-01", None, "to"), (None, "2026-03-01", "from"), ("March", "2026-03-02", "from"),
         ("2026-03-02", "2026-03-01", "to"), ("2020-01-01", "2026-01-01", "to")],
    )  # fmt: skip
    def test_a_bad_period_names_the_field_at_fault(self, first, last, field):
        with pytest.raises(Exception) as caught:
            period_parse(first=first, last=last)

        assert field in caught.value.message_dict

    def test_a_long_period_trends_by_week_and_a_longer_one_by_month(self):
        assert PERIOD.grain == "day" and len(PERIOD.buckets()) == 31
        quarter = Period(first_day=date(2026, 1, 1), last_day=date(2026, 6, 30), zone=MADRID)
        assert quarter.grain == "week" and quarter.buckets()[0] == date(2025, 12, 29)
        two_years = Period(first_day=date(2025, 1, 1), last_day=date(2026, 6, 30), zone=MADRID)
        assert two_years.grain == "month" and len(two_years.buckets()) == 18

    def test_a_bucket_keeps_to_the_days_of_its_period(self):
        quarter = Period(first_day=date(2026, 1, 1), last_day=date(2026, 3, 31), zone=MADRID)

        first, last = quarter.bucket_period(date(2025, 12, 29)), quarter.bucket_period(date(2026, 3, 30))

        assert (first.first_day, first.last_day) == (date(2026, 1, 1), date(2026, 1, 4))
        assert (last.first_day, last.last_day) == (date(2026, 3, 30), date(2026, 3, 31))


class TestFiguresAreExact:
    @pytest.mark.parametrize("group_by", ["agent", "team", "channel"])
    def test_totals_and_every_group_match_the_raw_rows_in_both_periods(self, group_by):
        _dataset(seed=7)

        report = selectors.report(period=PERIOD, group_by=group_by, now=NOW)

        _assert_measures(report.total.current, _expected(PERIOD, group_by))
        _assert_measures(report.total.previous, _expected(PERIOD.previous, group_by))
        keys = {row.key for row in report.rows}
        for row in report.rows:
            key = (int(row.key) if group_by != "channel" else row.key) if row.key else None
            _assert_measures(row.current, _expected(PERIOD, group_by, key))
            _assert_measures(row.previous, _expected(PERIOD.previous, group_by, key))
        assert "" in keys or group_by == "channel"  # unassigned / no team rows are reported too

    def test_the_period_edges_are_inclusive_at_the_start_and_exclusive_at_the_end(self):
        TicketFactory(created_at=PERIOD.start)
        TicketFactory(created_at=PERIOD.end - timedelta(microseconds=1))
        TicketFactory(created_at=PERIOD.end)
        TicketFactory(created_at=PERIOD.start - timedelta(microseconds=1))
        TicketFactory(created_at=PERIOD.previous.start - timedelta(microseconds=1))

        report = selectors.report(period=PERIOD, now=NOW)

        assert report.total.current.created == 2
        assert report.total.previous.created == 1

    def test_the_trend_buckets_by_local_day_and_matches_the_raw_rows(self):
        _dataset(seed=11)

        report = selectors.report(period=PERIOD, now=NOW)

        assert [point.day for point in report.trend] == PERIOD.buckets()
        for point in report.trend:
            day = Period(first_day=point.day, last_day=point.day, zone=MADRID)
            before = Period(first_day=point.previous_day, last_day=point.previous_day, zone=MADRID)
            _assert_measures(point.current, _expected(day, "agent"))
            _assert_measures(point.previous, _expected(before, "agent"))

    def test_a_weekly_trend_keeps_to_the_period_and_matches_the_raw_rows(self):
        _dataset(seed=17, tickets=120)
        quarter = Period(first_day=date(2026, 1, 7), last_day=date(2026, 3, 31), zone=MADRID)  # from a Wednesday

        report = selectors.report(period=quarter, now=NOW)

        assert quarter.grain == "week" and report.trend[0].day == date(2026, 1, 5)
        for point in report.trend:
            _assert_measures(point.current, _expected(quarter.bucket_period(point.day), "agent"))
            _assert_measures(point.previous, _expected(quarter.previous.bucket_period(point.previous_day), "agent"))

    def test_a_scope_narrows_every_figure(self):
        data = _dataset(seed=3)
        team = data["teams"][0]

        report = selectors.report(period=PERIOD, scope=Scope(team_id=team.pk), group_by="channel", now=NOW)

        _assert_measures(report.total.current, _expected(PERIOD, "channel", scope={"team": team.pk}))
        for row in report.rows:
            _assert_measures(row.current, _expected(PERIOD, "channel", row.key, scope={"team": team.pk}))

    def test_csat_percent_and_response_rate_follow_their_definitions(self):
        ticket = TicketFactory()
        at = PERIOD.start + timedelta(days=2)
        for rating in (5, 4, 3, 1):
            CSATSurveyFactory(sent_at=at, answered_at=at, rating=rating)
        CSATSurveyFactory(sent_at=at, ticket=ticket)  # sent, never answered

        measures = selectors.report(period=PERIOD, now=NOW).total.current

        assert measures.csat_percent == 50.0  # two of four answers rated 4 or 5
        assert measures.response_rate == 80.0  # four of five surveys answered
        assert measures.csat_low == 1


class TestDrillDown:
    @pytest.mark.parametrize("metric", list(selectors.METRICS))
    def test_the_tickets_behind_a_figure_are_the_ones_it_counts(self, metric):
        data = _dataset(seed=5, tickets=60)
        agent = data["agents"][1]
        scope = Scope(agent_id=agent.pk)

        tickets = selectors.drill_tickets(metric=metric, period=PERIOD, scope=scope, now=NOW)
        measures = selectors.report(period=PERIOD, scope=scope, now=NOW).total.current

        counted = {
            "created": measures.created,
            "sla_first_response_met": measures.sla_first_response_met,
            "sla_first_response_missed": measures.sla_first_response_missed,
            "sla_resolution_met": measures.sla_resolution_met,
            "sla_resolution_missed": measures.sla_resolution_missed,
            "sla_missed": measures.sla_missed_tickets,
            "responded": measures.responded,
            "solved": measures.solved,
            "csat_answers": measures.csat_answers,
            "csat_positive": measures.csat_positive,
            "csat_low": measures.csat_low,
            "csat_sent": measures.surveys_sent,
            "csat_responded": measures.surveys_answered,
        }[metric]
        assert tickets.count() == counted
        owner = "agent_id" if metric.startswith("csat") else "assignee_id"
        for ticket in tickets:
            holder = ticket.csat if metric.startswith("csat") else ticket
            assert getattr(holder, owner) == agent.pk

    def test_unassigned_rows_drill_to_tickets_without_an_agent(self):
        TicketFactory(created_at=PERIOD.start, assignee=None)
        TicketFactory(created_at=PERIOD.start, assignee=UserFactory())

        tickets = selectors.drill_tickets(metric="created", period=PERIOD, scope=Scope(agent_id=NONE))

        assert [t.assignee_id for t in tickets] == [None]


class TestDrillDownAsOfTheFigure:
    """A figure served from a stored view and the list behind it agree, whatever happened since."""

    def _later_activity(self, *, waiting: Ticket, survey: CSATSurvey) -> None:
        now = timezone.now()
        TicketFactory(created_at=now)
        Ticket.objects.filter(pk=waiting.pk).update(first_response_at=now, status=Ticket.Status.OPEN)
        CSATSurvey.objects.filter(pk=survey.pk).update(answered_at=now, rating=5)

    def test_a_stored_figure_and_its_list_agree_after_later_activity(self, client, lead, settings):
        settings.DESK_DASHBOARD_SNAPSHOT_SECONDS = 300
        now = timezone.now()
        waiting = TicketFactory(created_at=now - timedelta(days=1), first_response_due_at=now + timedelta(hours=1))
        solved = TicketFactory(created_at=now - timedelta(days=2), solved_at=now - timedelta(days=1))
        survey = CSATSurveyFactory(ticket=solved, sent_at=now - timedelta(hours=1))
        client.force_login(lead)
        index = reverse("dashboards:index")
        client.get(index, {"period": "7d"})  # computes and stores the view

        self._later_activity(waiting=waiting, survey=survey)
        page = client.get(index, {"period": "7d"})

        figures, links = page.context["report"].total.current, page.context["links"]
        assert (figures.created, figures.sla_first_response_met, figures.surveys_answered) == (2, 0, 0)
        listed = {
            metric: client.get(links.drill(metric)).context["page"].paginator.count
            for metric in ("created", "sla_first_response_met", "csat_responded")
        }
        assert listed == {"created": 2, "sla_first_response_met": 0, "csat_responded": 0}
        latest = client.get(client.get(links.drill("created")).context["latest_url"])
        assert latest.context["page"].paginator.count == 3

    def test_the_latest_low_ratings_and_the_list_of_all_of_them_are_live(self, client, lead, settings):
        settings.DESK_DASHBOARD_SNAPSHOT_SECONDS = 300
        client.force_login(lead)
        index = reverse("dashboards:index")
        client.get(index, {"period": "7d"})  # computes and stores the view
        ticket = TicketFactory(created_at=timezone.now() - timedelta(days=1))
        survey = CSATSurveyFactory(ticket=ticket, sent_at=timezone.now(), answered_at=timezone.now(), rating=1)

        page = client.get(index, {"period": "7d"})
        listed = client.get(page.context["low_ratings_url"]).context["page"]

        assert page.context["report"].total.current.csat_low == 0  # the stored figure
        assert [s.pk for s in page.context["low_ratings"]] == [survey.pk]
        assert [t.pk for t in listed] == [ticket.pk]

    def test_as_of_a_moment_the_list_leaves_out_what_came_later(self):
        now = timezone.now()
        earlier = now - timedelta(hours=2)
        replied = TicketFactory(created_at=now - timedelta(days=1), first_response_at=now)
        Ticket.objects.filter(pk=replied.pk).update(first_response_due_at=now + timedelta(hours=1))
        late = TicketFactory(created_at=now - timedelta(days=1), first_response_due_at=earlier - timedelta(hours=1))
        period = Period(first_day=now.date() - timedelta(days=3), last_day=now.date(), zone=ZoneInfo("UTC"))

        def listed(metric: str, **kwargs) -> list[int]:
            return [t.pk for t in selectors.drill_tickets(metric=metric, period=period, **kwargs)]

        assert listed("sla_first_response_met", now=now) == [replied.pk]
        assert listed("sla_first_response_met", as_of=earlier) == []  # the reply came after
        assert listed("sla_first_response_missed", as_of=earlier) == [late.pk]  # overdue by then
        assert listed("responded", as_of=earlier) == []

    def test_a_malformed_moment_is_named(self, client, lead):
        client.force_login(lead)

        response = client.get(reverse("dashboards:tickets"), {"metric": "created", "as_of": "yesterday"})

        assert response.status_code == 400 and "as_of" in response.context["errors"]


class TestTrendDrillDown:
    @pytest.mark.parametrize(
        ("period", "chart", "metric", "figure"),
        [
            (PERIOD, 1, "created", "created"),
            (PERIOD, 3, "sla_missed", "sla_missed_tickets"),
            (Period(first_day=date(2026, 1, 7), last_day=date(2026, 3, 31), zone=MADRID), 0, "csat_answers",
             "csat_answers"),
        ],
    )  # fmt: skip
    def test_every_bucket_of_a_trend_links_to_the_tickets_behind_it(self, period, chart, metric, figure):
        _dataset(seed=13, tickets=80)
        report = selectors.report(period=period, now=NOW)
        previous = period.previous.query()
        links = Links(base_query=period.query(), previous_query=previous, page_query={}, group_by="agent")

        rows = report_charts(report, links)[chart].rows

        assert len(rows) == len(report.trend)
        for row, point in zip(rows, report.trend, strict=True):
            for url, measures in ((row.url, point.current), (row.previous_url, point.previous)):
                query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
                bucket = period_parse(first=query["from"], last=query["to"])
                assert query["metric"] == metric
                tickets = selectors.drill_tickets(metric=metric, period=bucket, now=NOW)
                assert tickets.count() == getattr(measures, figure), (url, point.day)


class TestRecomputeNow:
    def test_a_lead_recomputes_a_stored_view_on_demand(self, client, lead, settings):
        settings.DESK_DASHBOARD_SNAPSHOT_SECONDS = 300
        TicketFactory(created_at=PERIOD.start)
        client.force_login(lead)
        march = {"from": "2026-03-01", "to": "2026-03-31", "group_by": "team"}
        before = client.get(reverse("dashboards:index"), march).context["report"]
        TicketFactory(created_at=PERIOD.start)

        response = client.post(reverse("dashboards:refresh"), march)
        after = client.get(response["Location"]).context["report"]

        assert response.status_code == 302 and "group_by=team" in response["Location"]
        assert (before.total.current.created, after.total.current.created) == (1, 2)
        assert after.computed_at > before.computed_at

    def test_bad_choices_come_back_named_and_a_get_is_refused(self, client, lead):
        client.force_login(lead)

        response = client.post(reverse("dashboards:refresh"), {"from": "2026-03-05", "to": "2026-03-01"}, follow=True)

        assert response.status_code == 400 and "to" in response.context["errors"]
        assert client.get(reverse("dashboards:refresh")).status_code == 405


class TestSuggestionOutcomes:
    """The Suggestions view, checked against figures computed here from the raw rows."""

    VARIANTS = {"churn_risk": ["gesture", "check_in"], "cart_abandoned": ["help", "reminder"], "vip": [""]}

    @staticmethod
    def dataset(seed: int, verdicts: int = 120) -> dict:
        """Verdicts across both periods and their edges, by three agents (two in a team), and
        CSAT answers around them: inside the 14 days, after, before, twice, after ``NOW``."""
        rng = random.Random(seed)
        team = TeamFactory(name=f"Suggestions {seed}")
        agents = [UserFactory(username=f"sugg{seed}-{n}") for n in range(3)]
        team.members.add(*agents[:2])
        customers = [CustomerFactory() for _ in range(12)]
        lo, hi = PERIOD.previous.start - timedelta(days=2), PERIOD.end + timedelta(days=2)
        times = _edges() + [lo + (hi - lo) * rng.random() for _ in range(verdicts)]
        rows = []
        for at in times:
            rule = rng.choice(list(TestSuggestionOutcomes.VARIANTS))
            rows.append(
                SuggestionFeedback(
                    customer=rng.choice(customers),
                    rule=rule,
                    variant=rng.choice(TestSuggestionOutcomes.VARIANTS[rule]),
                    verdict=rng.choice(["accepted", "accepted", "dismissed", "snoozed"]),
                    agent=rng.choice([*agents, None]),
                    created_at=at,
                )
            )
        SuggestionFeedback.objects.bulk_create(rows)
        for customer in customers:
            for _ in range(rng.randint(0, 4)):
                answered = lo + (hi + timedelta(days=20) - lo) * rng.random()
                ticket = TicketFactory(customer=customer, created_at=answered - timedelta(days=2))
                CSATSurveyFactory(ticket=ticket, sent_at=answered - timedelta(hours=1), answered_at=answered,
                                  rating=rng.randint(1, 5))  # fmt: skip
        return {"team": team, "agents": agents}

    @staticmethod
    def expected(period: Period, *, now: datetime, agents: list | None = None) -> dict:
        """(rule, variant) -> figures of the verdicts given in ``period``, from the raw rows."""
        answers = [s for s in CSATSurvey.objects.values("customer_id", "answered_at", "rating", "id")
                   if s["answered_at"] <= now]  # fmt: skip
        out: dict = {}
        for row in SuggestionFeedback.objects.values():
            if not (_in(row["created_at"], period) and row["created_at"] <= now):
                continue
            if agents is not None and row["agent_id"] not in agents:
                continue
            figures = out.setdefault((row["rule"], row["variant"]), {
                "accepted": 0, "dismissed": 0, "snoozed": 0, "csat_answers": 0, "csat_positive": 0,
                "csat_rating_sum": 0,
            })  # fmt: skip
            figures[row["verdict"]] += 1
            if row["verdict"] != "accepted":
                continue
            later = sorted(
                (a["answered_at"], a["id"], a["rating"])
                for a in answers
                if a["customer_id"] == row["customer_id"]
                and row["created_at"] < a["answered_at"] <= row["created_at"] + timedelta(days=14)
            )
            if later:
                rating = later[0][2]
                figures["csat_answers"] += 1
                figures["csat_positive"] += rating >= 4
                figures["csat_rating_sum"] += rating
        return out

    @staticmethod
    def figures(outcome) -> dict:
        return {name: getattr(outcome, name) for name in suggestions.Outcome.__dataclass_fields__}

    def test_every_rule_variant_and_the_total_match_the_raw_rows_in_both_periods(self):
        self.dataset(seed=21)

        data = suggestions.suggestion_report(period=PERIOD, now=NOW)

        for period, side in ((PERIOD, "current"), (PERIOD.previous, "previous")):
            expected = self.expected(period, now=NOW)
            got = {(r.rule, r.variant): self.figures(getattr(r, side)) for r in data.rows}
            assert {k: v for k, v in got.items() if any(v.values())} == expected, side
            total = getattr(data.total, side)
            assert total.accepted == sum(f["accepted"] for f in expected.values())
            assert total.csat_answers == sum(f["csat_answers"] for f in expected.values())
        assert sum(f["csat_answers"] for f in self.expected(PERIOD, now=NOW).values()) > 0  # the data exercises it

    def test_rates_and_averages_follow_their_definitions(self):
        customer = CustomerFactory()
        inside = PERIOD.start + timedelta(days=3)

        def verdict(kind: str, variant: str = "gesture", at: datetime = inside) -> None:
            SuggestionFeedback.objects.create(customer=customer, rule="churn_risk", variant=variant, verdict=kind,
                                              created_at=at)  # fmt: skip

        for kind in ("accepted", "accepted", "accepted", "dismissed", "snoozed"):
            verdict(kind)
        verdict("accepted", at=PERIOD.start - timedelta(days=1))  # the previous period
        verdict("accepted", variant="check_in", at=PERIOD.end)  # at the exclusive end: outside
        for days, rating in ((1, 2), (2, 5), (20, 1)):  # the first answer after counts; 20 days is too late
            ticket = TicketFactory(customer=customer)
            CSATSurveyFactory(ticket=ticket, answered_at=inside + timedelta(days=days), rating=rating)

        data = suggestions.suggestion_report(period=PERIOD, now=NOW)

        (row,) = data.rows
        assert (row.rule, row.variant, row.current.verdicts) == ("churn_risk", "gesture", 5)
        assert row.current.acceptance == 75.0  # 3 / (3 + 1): a snooze is no verdict
        assert (row.current.csat_answers, row.current.csat_average, row.current.csat_percent) == (3, 2.0, 0.0)
        assert (row.previous.accepted, row.previous.csat_answers, row.previous.csat_average) == (1, 1, 2.0)

    def test_a_team_scope_counts_the_verdicts_of_its_agents(self):
        data = self.dataset(seed=22, verdicts=60)
        members = [agent.pk for agent in data["agents"][:2]]

        scoped = suggestions.suggestion_report(period=PERIOD, scope=Scope(team_id=data["team"].pk), now=NOW)

        expected = self.expected(PERIOD, now=NOW, agents=members)
        assert {(r.rule, r.variant): self.figures(r.current) for r in scoped.rows if r.current.verdicts} == expected

    def test_as_of_a_moment_later_answers_wait_and_the_list_agrees(self):
        customer = CustomerFactory()
        accepted_at = timezone.now() - timedelta(days=2)
        SuggestionFeedback.objects.create(customer=customer, rule="vip", verdict="accepted", created_at=accepted_at)
        computed = timezone.now()
        CSATSurveyFactory(ticket=TicketFactory(customer=customer), answered_at=computed + timedelta(seconds=1),
                          rating=5)  # fmt: skip
        period = Period(first_day=accepted_at.date() - timedelta(days=1), last_day=computed.date(),
                        zone=ZoneInfo("UTC"))  # fmt: skip

        then = suggestions.suggestion_report(period=period, now=computed)
        later = suggestions.suggestion_report(period=period, now=computed + timedelta(seconds=2))
        listed_then = suggestions.drill_verdicts(rule="vip", verdict="accepted", outcome="csat", period=period,
                                                 as_of=computed)  # fmt: skip
        listed_now = suggestions.drill_verdicts(rule="vip", verdict="accepted", outcome="csat", period=period)

        assert (then.rows[0].current.csat_answers, later.rows[0].current.csat_answers) == (0, 1)
        assert (listed_then.count(), [f.later_rating for f in listed_now]) == (0, [5])

    def test_a_stored_view_gives_the_same_figures_as_the_raw_rows(self):
        self.dataset(seed=23, verdicts=40)
        live = suggestions.suggestion_report(period=PERIOD, now=NOW)

        stored = suggestions._decode(
            json.loads(json.dumps(suggestions._encode(live))), period=PERIOD, scope=Scope(), computed_at=NOW
        )

        assert stored == live


class TestSuggestionsPage:
    MARCH = {"from": "2026-03-01", "to": "2026-03-31"}

    def test_a_lead_sees_every_rule_and_variant_with_the_csat_that_followed(self, client, lead):
        TestSuggestionOutcomes.dataset(seed=31, verdicts=60)
        client.force_login(lead)

        response = client.get(reverse("dashboards:suggestions"), self.MARCH)

        assert response.status_code == 200
        html = response.content.decode()
        expected = TestSuggestionOutcomes.expected(PERIOD, now=timezone.now())
        lines = {(line.rule, line.variant): line for line in response.context["lines"]}
        for (rule, variant), figures in expected.items():
            line = lines[(rule, variant)]
            assert line.accepted.text == str(figures["accepted"]) and line.csat_answers.text == str(
                figures["csat_answers"]
            )
        assert "Outcomes by rule and variant" in html and "CSAT answers after acceptance" in html
        assert "Figures as of" in html and " style=" not in html and "<script>" not in html

    def test_agents_are_refused_and_visitors_sent_to_sign_in(self, client, agent):
        url = reverse("dashboards:suggestions")
        assert client.get(url).status_code == 302  # to the login page

        client.force_login(agent)

        assert client.get(url, self.MARCH).status_code == 403
        assert client.post(reverse("dashboards:suggestions_refresh"), self.MARCH).status_code == 403
        # An agent's own dashboard keeps its own verdicts, without the link to the lead page.
        page = client.get(reverse("dashboards:index"), self.MARCH).content.decode()
        assert reverse("dashboards:suggestions") not in page

    def test_the_lead_dashboard_links_to_it(self, client, lead):
        client.force_login(lead)

        page = client.get(reverse("dashboards:index"), self.MARCH).content.decode()

        assert reverse("dashboards:suggestions") + "?from=2026-03-01" in page.replace("&amp;", "&")

    def test_every_figure_links_to_the_verdicts_behind_it(self, client, lead):
        TestSuggestionOutcomes.dataset(seed=32, verdicts=50)
        client.force_login(lead)
        lines = client.get(reverse("dashboards:suggestions"), self.MARCH).context["lines"]

        for line in lines:
            for cell in (line.accepted, line.dismissed, line.snoozed, line.csat_answers):
                page = client.get(cell.url)
                assert page.status_code == 200, cell.url
                assert page.context["page"].paginator.count == int(cell.text), cell.url
            listed = client.get(line.csat_answers.url).context["page"]
            assert all(feedback.later_rating for feedback in listed)

    def test_a_stored_figure_and_its_list_agree_after_later_activity(self, client, lead, settings):
        settings.DESK_DASHBOARD_SNAPSHOT_SECONDS = 300
        customer = CustomerFactory()
        SuggestionFeedback.objects.create(customer=customer, rule="vip", verdict="accepted",
                                          created_at=timezone.now() - timedelta(days=2))  # fmt: skip
        client.force_login(lead)
        client.get(reverse("dashboards:suggestions"), {"period": "7d"})  # computes and stores the view

        SuggestionFeedback.objects.create(customer=customer, rule="vip", verdict="accepted")
        CSATSurveyFactory(ticket=TicketFactory(customer=customer), answered_at=timezone.now(), rating=5)
        page = client.get(reverse("dashboards:suggestions"), {"period": "7d"})

        (line, _total) = page.context["lines"]
        assert (line.accepted.text, line.csat_answers.text) == ("1", "0")  # the stored figures
        listed = {name: client.get(getattr(line, name).url).context["page"] for name in ("accepted", "csat_answers")}
        assert (listed["accepted"].paginator.count, listed["csat_answers"].paginator.count) == (1, 0)
        latest = client.get(client.get(line.accepted.url).context["latest_url"]).context["page"]
        assert [feedback.later_rating for feedback in latest] == [5, 5]  # the answer followed both

    def test_a_lead_recomputes_it_on_demand(self, client, lead, settings):
        settings.DESK_DASHBOARD_SNAPSHOT_SECONDS = 300
        client.force_login(lead)
        before = client.get(reverse("dashboards:suggestions"), self.MARCH).context["data"]
        SuggestionFeedback.objects.create(customer=CustomerFactory(), rule="vip", verdict="accepted",
                                          created_at=PERIOD.start + timedelta(days=1))  # fmt: skip
        served = client.get(reverse("dashboards:suggestions"), self.MARCH).context["data"]

        response = client.post(reverse("dashboards:suggestions_refresh"), self.MARCH)
        after = client.get(response["Location"]).context["data"]

        assert (before.total.current.accepted, served.total.current.accepted) == (0, 0)
        assert after.total.current.accepted == 1 and after.computed_at > before.computed_at

    @pytest.mark.parametrize("stored", [False, True])
    def test_the_query_count_is_stated_and_does_not_grow_with_the_data(
        self, client, lead, settings, stored, django_assert_max_num_queries
    ):
        settings.DESK_DASHBOARD_SNAPSHOT_SECONDS = 300 if stored else 0
        client.force_login(lead)
        url = reverse("dashboards:suggestions")
        client.get(url, self.MARCH)  # warm the session and permission caches

        TestSuggestionOutcomes.dataset(seed=33, verdicts=5)
        DashboardSnapshot.objects.all().delete()
        client.get(url, self.MARCH)  # stores the view when snapshots are on
        with CaptureQueriesContext(connection) as small:
            client.get(url, self.MARCH)
        TestSuggestionOutcomes.dataset(seed=34, verdicts=200)
        DashboardSnapshot.objects.all().delete()
        client.get(url, self.MARCH)
        # session, user, permissions, the teams of the form, the view (stored: one lookup;
        # live: one aggregate query)
        with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as large:
            response = client.get(url, self.MARCH)

        assert response.status_code == 200 and len(response.context["lines"]) > 3
        assert len(small) == len(large)
        aggregates = [q for q in large.captured_queries if "customers_suggestionfeedback" in q["sql"]]
        assert len(aggregates) == (0 if stored else 1)

    def test_the_csv_carries_the_same_figures(self, client, lead):
        TestSuggestionOutcomes.dataset(seed=35, verdicts=60)
        client.force_login(lead)
        page = client.get(reverse("dashboards:suggestions"), self.MARCH)

        body = client.get(page.context["export_url"]).content.decode()

        rows = list(csv.DictReader(io.StringIO(body)))
        lines = {(line.rule, line.variant): line for line in page.context["lines"]}
        assert len(rows) == len(lines)
        for row in rows:
            key = ("All rules", "") if row["rule"] == "(all rules)" else (row["rule"], row["variant"])
            line = lines[key]
            assert (row["accepted"], row["csat_after_accepted_answers"]) == (line.accepted.text, line.csat_answers.text)
            assert row["verdicts"] == line.verdicts.text


class TestDashboardPage:
    def test_a_lead_sees_every_table_chart_and_the_latest_low_ratings(self, client, lead):
        _dataset(seed=2, tickets=40)
        low = CSATSurvey.objects.filter(rating__lte=LOW, answered_at__gte=PERIOD.start, answered_at__lt=PERIOD.end)
        client.force_login(lead)

        response = client.get(reverse("dashboards:index"), {"from": "2026-03-01", "to": "2026-03-31"})

        assert response.status_code == 200
        html = response.content.decode()
        for heading in ("Summary", "Trends", "Satisfaction by agent", "Service by agent", "Latest low ratings"):
            assert heading in html
        assert html.count('role="img"') == 4 and "<desc" in html and "as a table</summary>" in html
        assert " style=" not in html and "<script>" not in html
        for survey in low.order_by("-answered_at")[:3]:
            assert reverse("tickets:detail", args=[survey.ticket_id]) in html

    def test_an_agent_sees_only_their_own_figures(self, client, agent):
        mine = TicketFactory(assignee=agent, created_at=PERIOD.start + timedelta(days=1))
        TicketFactory(assignee=UserFactory(), created_at=PERIOD.start + timedelta(days=1))
        client.force_login(agent)

        response = client.get(reverse("dashboards:index"), {"from": "2026-03-01", "to": "2026-03-31", "agent": "999"})

        assert response.status_code == 200
        assert "My figures" in response.content.decode()
        report = response.context["report"]
        assert report.total.current.created == 1
        assert report.scope.agent_id == agent.pk
        assert [row.key for row in report.rows] == [str(agent.pk)]
        drill = client.get(
            reverse("dashboards:tickets"), {"metric": "created", "from": "2026-03-01", "to": "2026-03-31"}
        )
        assert [t.pk for t in drill.context["page"]] == [mine.pk]

    def test_bad_choices_are_named_and_the_default_view_is_shown(self, client, lead):
        client.force_login(lead)

        response = client.get(reverse("dashboards:index"), {"from": "2026-03-05", "to": "2026-03-01", "group_by": "x"})

        assert response.status_code == 400
        assert set(response.context["errors"]) == {"to", "group_by"}
        assert "Some choices could not be used" in response.content.decode()

    @pytest.mark.parametrize("group_by", ["agent", "team", "channel"])
    def test_the_query_count_does_not_grow_with_the_data(self, client, lead, group_by, settings):
        settings.DESK_DASHBOARD_SNAPSHOT_SECONDS = 0  # measure the computation, not a stored view
        client.force_login(lead)
        params = {"from": "2026-03-01", "to": "2026-03-31", "group_by": group_by}
        client.get(reverse("dashboards:index"), params)  # warm the session and permission caches

        _dataset(seed=1, tickets=5)
        with CaptureQueriesContext(connection) as small:
            client.get(reverse("dashboards:index"), params)
        _dataset(seed=9, tickets=150)
        with CaptureQueriesContext(connection) as large:
            response = client.get(reverse("dashboards:index"), params)

        assert response.status_code == 200
        assert len(small) == len(large) <= 16

    def test_every_figure_links_to_its_drill_down_and_lands_on_tickets(self, client, lead):
        _dataset(seed=4, tickets=30)
        client.force_login(lead)
        page = client.get(reverse("dashboards:index"), {"from": "2026-03-01", "to": "2026-03-31"}).content.decode()

        links = {part.split('"')[0].replace("&amp;", "&") for part in page.split('href="')[1:]}
        drills = [link for link in links if link.startswith(reverse("dashboards:tickets"))]

        assert {f"metric={m}" in " ".join(drills) for m in selectors.METRICS} == {True}
        for link in drills[:15]:
            assert client.get(link).status_code == 200, link


class TestSnapshots:
    def test_a_stored_view_gives_the_same_figures_as_the_raw_rows(self):
        _dataset(seed=12, tickets=40)
        live = selectors.report(period=PERIOD, group_by="team", now=NOW)

        stored = snapshots._decode(
            json.loads(json.dumps(snapshots._encode(live))),
            period=PERIOD,
            scope=Scope(),
            group_by="team",
            computed_at=NOW,
        )

        assert stored == live

    def test_a_view_is_served_from_its_snapshot_until_it_is_too_old(self, client, lead, settings):
        settings.DESK_DASHBOARD_SNAPSHOT_SECONDS = 300
        TicketFactory(created_at=PERIOD.start)
        client.force_login(lead)
        march = {"from": "2026-03-01", "to": "2026-03-31"}
        first = client.get(reverse("dashboards:index"), march).context["report"]
        TicketFactory(created_at=PERIOD.start)

        with CaptureQueriesContext(connection) as served:
            again = client.get(reverse("dashboards:index"), march).context["report"]
        DashboardSnapshot.objects.update(computed_at=timezone.now() - timedelta(seconds=301))
        later = client.get(reverse("dashboards:index"), march).context["report"]

        assert (first.total.current.created, again.total.current.created, later.total.current.created) == (1, 1, 2)
        assert again.computed_at == first.computed_at < later.computed_at
        assert not any("tickets_ticket" in q["sql"] and "GROUP BY" in q["sql"] for q in served.captured_queries)

    def test_the_beat_job_keeps_every_standard_view_fresh(self, client, lead, settings):
        settings.DESK_DASHBOARD_SNAPSHOT_SECONDS = 300
        TicketFactory(created_at=timezone.now() - timedelta(days=2))

        stored = dashboard_snapshots_refresh.delay().get()

        # every preset for each breakdown, and the Suggestions view of each preset
        assert stored == len(PRESETS) * 4 == DashboardSnapshot.objects.count()
        client.force_login(lead)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("dashboards:index"), {"days": "90", "group_by": "channel"})
        assert page.context["report"].total.current.created == 1
        assert not any("tickets_ticket" in q["sql"] and "GROUP BY" in q["sql"] for q in queries.captured_queries)


class TestExports:
    @pytest.mark.parametrize("table", exports.TABLES)
    def test_every_table_exports_as_csv(self, client, lead, table):
        _dataset(seed=6, tickets=30)
        client.force_login(lead)

        response = client.get(
            reverse("dashboards:export"), {"from": "2026-03-01", "to": "2026-03-31", "table": table, "group_by": "team"}
        )

        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert len(rows) >= 2 or table in ("rules",)
        assert not any(cell.startswith("=") for row in rows for cell in row)

    def test_the_summary_csv_carries_the_exact_figures(self, client, lead):
        _dataset(seed=8, tickets=40)
        client.force_login(lead)

        body = client.get(reverse("dashboards:export"), {"from": "2026-03-01", "to": "2026-03-31"}).content.decode()

        rows = {row[1]: row for row in csv.reader(io.StringIO(body))}
        expected = _expected(PERIOD, "agent")
        assert int(rows["created"][2]) == expected["created"]
        assert int(rows["csat_answers"][2]) == expected["csat_answers"]
        assert float(rows["csat_percent"][2]) == pytest.approx(
            expected["csat_positive"] * 100 / expected["csat_answers"], abs=0.005
        )

    def test_an_unknown_table_is_refused_naming_the_field(self, client, lead):
        client.force_login(lead)

        response = client.get(reverse("dashboards:export"), {"table": "salaries"})

        assert response.status_code == 400 and response.content.decode().startswith("table:")


class TestCharts:
    def test_a_chart_is_an_accessible_image_with_its_figures_in_words(self):
        _dataset(seed=10, tickets=30)
        report = selectors.report(period=PERIOD, now=NOW)

        charts = report_charts(report)

        assert [c.chart_id for c in charts] == [
            "trend-csat-percent",
            "trend-created",
            "trend-first-response-p50",
            "trend-sla-percent",
        ]
        svg = str(charts[1].svg)
        assert svg.startswith("<svg") and 'role="img"' in svg
        assert 'aria-labelledby="trend-created-title trend-created-desc"' in svg
        assert '<desc id="trend-created-desc">This period: from' in svg and "style=" not in svg
        assert len(charts[1].rows) == 31


def test_the_query_string_is_shared_by_page_export_and_api():
    query = dashboard_query(
        {"period": "7d", "group_by": "channel", "team": "none"}, own_agent_id=None, today=date(2026, 3, 10)
    )

    assert (query.period.first_day, query.period.last_day) == (date(2026, 3, 4), date(2026, 3, 10))
    assert query.scope == Scope(team_id=NONE) and query.group_by == "channel"


def test_a_preset_wins_over_the_dates_left_in_the_form():
    params = {"period": "90d", "from": "2026-01-01", "to": "2026-01-31"}

    query = dashboard_query(params, own_agent_id=None, today=date(2026, 3, 10))

    assert (query.period.first_day, query.period.days, query.preset) == (date(2025, 12, 11), 90, "90d")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"days": "many"}, "days"),
        ({"days": "9999"}, "days"),
        ({"period": "fortnight"}, "period"),
        ({"agent": "me"}, "agent"),
    ],
)
def test_a_bad_query_names_its_field(params, field):
    with pytest.raises(ValidationError) as caught:
        dashboard_query(params, own_agent_id=None)

    assert field in caught.value.message_dict


def test_a_duration_moves_in_hours_and_minutes_and_its_axis_stays_short():
    assert formats.duration_change(9 * 3600 + 14 * 60, 11 * 3600 + 47 * 60) == "\u22122 h 33 min"
    assert formats.duration_change(120.0, 60.0) == "+1 min"
    assert formats.duration_change(None, 60.0) == formats.DASH
    assert [formats.duration_short(s) for s in (30, 1500, 5400, 3 * 86400)] == ["30 s", "25 min", "1.5 h", "3.0 d"]
