"""/api/v1/reports/: the dashboard's figures as JSON, with the API's auth and error shape."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import Group

from supportdesk import roles
from tests.api.conftest import error_of
from tests.factories import CSATSurveyFactory, TeamFactory, TicketFactory, UserFactory
from tickets.dashboards import selectors
from tickets.dashboards.periods import Period

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.reports_urls")]

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
AT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def figures():
    """Two agents in two teams; four answers in March, one in February."""
    ana, ben = UserFactory(username="ana", first_name="Ana"), UserFactory(username="ben", first_name="Ben")
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    for agent, team, rating, channel in [
        (ana, north, 5, "email"),
        (ana, north, 2, "chat"),
        (ben, south, 4, "email"),
        (ben, south, 4, "email"),
    ]:
        ticket = TicketFactory(assignee=agent, team=team, channel=channel, created_at=AT - timedelta(hours=5))
        CSATSurveyFactory(
            ticket=ticket, agent=agent, team=team, channel=channel, sent_at=AT, answered_at=AT, rating=rating
        )
    february = AT - timedelta(days=20)
    CSATSurveyFactory(agent=ana, team=north, sent_at=february, answered_at=february, rating=1)
    return {"ana": ana, "ben": ben, "north": north, "south": south}


class TestCsatReport:
    def test_csat_by_agent_with_the_previous_period(self, read_api, figures):
        response = read_api.get("/api/v1/reports/csat/", {**MARCH, "group_by": "agent"})

        assert response.status_code == 200
        body = response.json()
        assert body["period"] == {
            "from": "2026-03-01",
            "to": "2026-03-31",
            "start": "2026-03-01T00:00:00Z",
            "end": "2026-04-01T00:00:00Z",
            "timezone": "UTC",
        }
        assert body["previous_period"]["from"] == "2026-01-29"
        assert body["total"]["current"]["csat_percent"] == 75.0
        assert body["total"]["previous"]["csat_answers"] == 1
        rows = {row["label"]: row for row in body["results"]}
        assert rows["Ana"]["current"]["csat_percent"] == 50.0 and rows["Ana"]["key"] == str(figures["ana"].pk)
        assert rows["Ben"]["current"]["csat_percent"] == 100.0
        assert rows["Ana"]["previous"]["csat_low"] == 1
        assert len(body["trend"]) == 31

    @pytest.mark.parametrize(("group_by", "expected"), [("team", {"North": 50.0, "South": 100.0}),
                                                        ("channel", {"Email": 100.0, "Live chat": 0.0})])  # fmt: skip
    def test_by_team_and_by_channel(self, read_api, figures, group_by, expected):
        body = read_api.get("/api/v1/reports/csat/", {**MARCH, "group_by": group_by}).json()

        assert {row["label"]: row["current"]["csat_percent"] for row in body["results"]} == expected

    def test_the_figures_are_the_dashboards(self, read_api, figures):
        body = read_api.get("/api/v1/reports/csat/", {**MARCH, "group_by": "team"}).json()

        period = Period(first_day=date(2026, 3, 1), last_day=date(2026, 3, 31), zone=UTC)
        report = selectors.report(period=period, group_by="team")
        assert body["total"]["current"]["response_rate"] == report.total.current.response_rate


class TestServiceAndSuggestions:
    def test_the_service_report_carries_times_and_sla(self, read_api, figures):
        body = read_api.get("/api/v1/reports/service/", {**MARCH, "group_by": "channel"}).json()

        assert body["total"]["current"]["created"] == 4
        assert "first_response_p90" in body["total"]["current"] and "sla_percent" in body["total"]["current"]
        assert "csat_percent" not in body["total"]["current"]

    def test_the_suggestions_report_lists_rules(self, read_api):
        response = read_api.get("/api/v1/reports/suggestions/", MARCH)

        assert response.status_code == 200 and response.json()["results"] == []


class TestValidationAndAccess:
    @pytest.mark.parametrize(
        ("params", "field"),
        [({"from": "2026-03-01"}, "to"), ({"from": "yesterday", "to": "2026-03-01"}, "from"),
         ({"from": "2026-03-09", "to": "2026-03-01"}, "to"), ({**MARCH, "group_by": "moon"}, "group_by"),
         ({**MARCH, "team": "north"}, "team"), ({**MARCH, "channel": "fax"}, "channel")],
    )  # fmt: skip
    def test_a_bad_parameter_answers_400_naming_it(self, read_api, params, field):
        response = read_api.get("/api/v1/reports/csat/", params)

        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == "invalid" and field in error["fields"]

    def test_without_a_key_the_answer_is_401(self, anon_api):
        response = anon_api.get("/api/v1/reports/csat/", MARCH)

        assert response.status_code == 401 and error_of(response)["code"]

    def test_a_signed_in_agent_reads_their_own_figures_only(self, client, figures):
        client.force_login(figures["ana"])
        figures["ana"].groups.add(Group.objects.get(name=roles.AGENT))

        body = client.get("/api/v1/reports/csat/", {**MARCH, "agent": str(figures["ben"].pk)}).json()

        assert [row["label"] for row in body["results"]] == ["Ana"]
        assert body["total"]["current"]["csat_answers"] == 2

    def test_someone_without_a_desk_role_is_refused(self, client, nobody):
        client.force_login(nobody)

        assert client.get("/api/v1/reports/csat/", MARCH).status_code == 403


def test_the_reports_are_described_in_the_openapi_schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    paths = response.json()["paths"]
    assert {"/api/v1/reports/csat/", "/api/v1/reports/service/", "/api/v1/reports/suggestions/"} <= set(paths)
    parameters = {p["name"] for p in paths["/api/v1/reports/csat/"]["get"]["parameters"]}
    assert {"from", "to", "group_by"} <= parameters
