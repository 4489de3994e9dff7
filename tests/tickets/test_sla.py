"""SLA clock: business-hours calendars, pauses while waiting on the customer, due times as tickets
change, the inbox badge, and the breach sweep that notifies once."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import TeamFactory, TicketFactory, UserFactory
from tickets import services, sla
from tickets.models import BusinessCalendar, BusinessHoliday, BusinessHours, Notification, SLABreach, SLAPause, Ticket
from tickets.sla_tasks import sla_sweep

pytestmark = pytest.mark.django_db

MADRID = ZoneInfo("Europe/Madrid")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def _office_hours(*, team=None, name="Madrid office", holidays=()) -> BusinessCalendar:
    """Monday to Friday, 09:00-13:00 and 14:00-18:00 in Madrid."""
    calendar = BusinessCalendar.objects.create(name=name, team=team, timezone="Europe/Madrid")
    for weekday in range(5):
        BusinessHours.objects.create(calendar=calendar, weekday=weekday, opens=time(9), closes=time(13))
        BusinessHours.objects.create(calendar=calendar, weekday=weekday, opens=time(14), closes=time(18))
    for day in holidays:
        BusinessHoliday.objects.create(calendar=calendar, date=day)
    return calendar


def _local(*args) -> datetime:
    return datetime(*args, tzinfo=MADRID)


class TestCalendar:
    def test_without_a_calendar_the_clock_runs_around_the_clock(self):
        first, resolution = sla.sla_due_times(priority="normal", opened_at=T0)

        assert (first, resolution) == (T0 + timedelta(hours=4), T0 + timedelta(hours=24))

    def test_the_clock_runs_only_in_opening_hours_and_skips_the_weekend(self):
        _office_hours()
        friday_afternoon = _local(2026, 3, 6, 16, 0)

        first, resolution = sla.sla_due_times(priority="normal", opened_at=friday_afternoon)

        # 2 h on Friday, then Monday 09:00-11:00.
        assert first == _local(2026, 3, 9, 11, 0)
        # 24 business hours: Fri 2 h, Mon 8 h, Tue 8 h, Wed 6 h -> Wednesday 16:00.
        assert resolution == _local(2026, 3, 11, 16, 0)

    def test_a_ticket_opened_at_night_starts_its_clock_at_opening_time(self):
        _office_hours()

        first, _ = sla.sla_due_times(priority="urgent", opened_at=_local(2026, 3, 3, 22, 15))

        assert first == _local(2026, 3, 4, 9, 30)  # urgent: 30 minutes

    def test_holidays_do_not_count(self):
        _office_hours(holidays=[date(2026, 3, 9)])

        first, _ = sla.sla_due_times(priority="normal", opened_at=_local(2026, 3, 6, 16, 0))

        assert first == _local(2026, 3, 10, 11, 0)

    def test_daylight_saving_changes_follow_the_calendars_wall_clock(self):
        _office_hours()

        # Summer time starts on Sunday 29 March 2026: Friday is UTC+1, Monday is UTC+2.
        first, _ = sla.sla_due_times(priority="normal", opened_at=_local(2026, 3, 27, 16, 0))

        assert first == _local(2026, 3, 30, 11, 0)
        assert first.astimezone(UTC) == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)

    def test_a_teams_calendar_wins_over_the_desk_default(self):
        _office_hours(name="Desk")
        night_team = TeamFactory(name="Night shift")
        calendar = BusinessCalendar.objects.create(name="Nights", team=night_team, timezone="UTC")
        for weekday in range(7):
            BusinessHours.objects.create(calendar=calendar, weekday=weekday, opens=time(22), closes=time(0))

        first, _ = sla.sla_due_times(priority="high", opened_at=T0, team=night_team)

        assert first == datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # one hour after 22:00

    def test_overlapping_windows_are_counted_once(self):
        calendar = BusinessCalendar.objects.create(name="Overlap", timezone="UTC")
        BusinessHours.objects.create(calendar=calendar, weekday=0, opens=time(9), closes=time(12))
        BusinessHours.objects.create(calendar=calendar, weekday=0, opens=time(11), closes=time(13))

        business = sla.calendar_for_team(team_id=None)

        assert sla.business_seconds(start=T0, end=T0 + timedelta(hours=10), calendar=business) == 4 * 3600

    def test_a_calendar_without_hours_never_comes_due(self):
        BusinessCalendar.objects.create(name="Closed", timezone="UTC")

        assert sla.sla_due_times(priority="low", opened_at=T0) == (None, None)


def _ticket(**kwargs) -> Ticket:
    ticket = TicketFactory(created_at=T0, priority="normal", status=Ticket.Status.OPEN, **kwargs)
    return sla.ticket_sla_recompute(ticket=ticket, at=T0)


def _set(ticket: Ticket, at: datetime, **fields) -> Ticket:
    """The ticket changes (as ticket_update would), then the call site recomputes."""
    Ticket.objects.filter(pk=ticket.pk).update(**fields)
    ticket.refresh_from_db()
    return sla.ticket_sla_recompute(ticket=ticket, at=at)


class TestPauses:
    def test_waiting_on_the_customer_stops_the_clock_until_they_answer(self):
        ticket = _ticket()
        _set(ticket, T0 + timedelta(hours=1), first_response_at=T0 + timedelta(hours=1))
        paused = _set(ticket, T0 + timedelta(hours=2), status=Ticket.Status.PENDING)

        assert paused.sla_paused_at == T0 + timedelta(hours=2)
        assert paused.resolution_due_at is None  # unknown while the clock stands still
        assert paused.first_response_due_at == T0 + timedelta(hours=4)  # met before the wait

        resumed = _set(ticket, T0 + timedelta(hours=5), status=Ticket.Status.OPEN)

        assert resumed.sla_paused_at is None
        assert resumed.resolution_due_at == T0 + timedelta(hours=24 + 3)
        assert resumed.first_response_due_at == T0 + timedelta(hours=4)

    def test_a_target_missed_before_the_wait_stays_missed(self):
        ticket = _ticket()
        paused = _set(ticket, T0 + timedelta(hours=6), status=Ticket.Status.PENDING)

        assert paused.first_response_due_at == T0 + timedelta(hours=4)
        assert sla.sla_state(paused, now=T0 + timedelta(hours=7)) == "breached"

    def test_solving_a_pending_ticket_judges_resolution_without_the_wait(self):
        ticket = _ticket()
        _set(ticket, T0 + timedelta(hours=1), first_response_at=T0 + timedelta(hours=1))
        _set(ticket, T0 + timedelta(hours=2), status=Ticket.Status.PENDING)
        solved_at = T0 + timedelta(hours=40)

        solved = _set(ticket, solved_at, status=Ticket.Status.SOLVED, solved_at=solved_at)

        assert solved.resolution_due_at == T0 + timedelta(hours=24 + 38)
        assert solved.solved_at <= solved.resolution_due_at

    def test_time_spent_solved_does_not_count_when_the_ticket_reopens(self):
        ticket = _ticket()
        _set(ticket, T0 + timedelta(hours=1), first_response_at=T0 + timedelta(hours=1))
        _set(ticket, T0 + timedelta(hours=3), status=Ticket.Status.SOLVED, solved_at=T0 + timedelta(hours=3))

        reopened = _set(ticket, T0 + timedelta(hours=50), status=Ticket.Status.OPEN, solved_at=None)

        assert reopened.resolution_due_at == T0 + timedelta(hours=24 + 47)

    def test_recomputing_twice_changes_nothing(self):
        ticket = _ticket()
        _set(ticket, T0 + timedelta(hours=2), status=Ticket.Status.PENDING)

        again = sla.ticket_sla_recompute(ticket=ticket, at=T0 + timedelta(hours=9))

        assert SLAPause.objects.filter(ticket=ticket).count() == 1
        assert again.sla_paused_at == T0 + timedelta(hours=2)

    def test_a_new_priority_moves_the_targets(self):
        ticket = _ticket()

        urgent = _set(ticket, T0 + timedelta(minutes=5), priority="urgent")

        assert urgent.first_response_due_at == T0 + timedelta(minutes=30)
        assert urgent.resolution_due_at == T0 + timedelta(hours=4)

    def test_a_ticket_moved_to_a_team_follows_its_calendar(self):
        team = TeamFactory(name="Office")
        _office_hours(team=team)
        ticket = _ticket()

        moved = _set(ticket, T0, team=team)

        assert moved.first_response_due_at == _local(2026, 3, 2, 15, 0)  # 10:00 + 3 h, lunch excluded

    def test_the_services_then_the_call_site_keep_due_times_current(self):
        opened = timezone.now() - timedelta(hours=1)
        ticket = services.ticket_open(
            customer=TicketFactory().customer, subject="Help", channel="email", opened_at=opened
        )
        actor = UserFactory()

        services.ticket_update(ticket=ticket, actor=actor, status=Ticket.Status.PENDING)
        sla.ticket_sla_recompute(ticket=ticket)  # the call site after ticket_update's save

        assert ticket.sla_paused_at is not None and ticket.resolution_due_at is None
        assert ticket.first_response_due_at is None  # not answered yet, and the clock stands still


class TestBadge:
    @pytest.mark.parametrize(
        ("due_in", "status", "expected"),
        [(timedelta(hours=2), "open", "ok"), (timedelta(minutes=20), "open", "due_soon"),
         (timedelta(minutes=-1), "open", "breached"), (timedelta(0), "new", "breached"),
         (timedelta(minutes=-1), "solved", "ok")],
    )  # fmt: skip
    def test_the_state_of_the_next_target(self, due_in, status, expected):
        ticket = Ticket(status=status, first_response_due_at=T0 + due_in)

        assert sla.sla_state(ticket, now=T0) == expected

    def test_the_badge_partial_reads_without_colour_and_without_queries(self, django_assert_num_queries):
        breached = Ticket(status="open", first_response_due_at=T0 - timedelta(minutes=30))
        soon = Ticket(status="open", first_response_due_at=T0 + timedelta(minutes=10))
        paused = Ticket(status="pending", sla_paused_at=T0, resolution_due_at=None, first_response_at=T0)

        with django_assert_num_queries(0):
            html = [
                render_to_string("tickets/dashboards/partials/sla_badge.html", {"ticket": t, "now": T0})
                for t in (breached, soon, paused, Ticket(status="open"))
            ]

        assert "SLA breached" in html[0] and "30" in html[0]
        assert "SLA due in" in html[1] and "10" in html[1]
        assert "SLA paused" in html[2]
        assert html[3].strip() == ""


class TestBreachSweep:
    def test_a_missed_target_notifies_the_assignee_and_the_team_lead_once(self):
        lead, agent = UserFactory(username="lead-x"), UserFactory(username="agent-x")
        team = TeamFactory(name="Returns", lead=lead)
        ticket = _ticket(assignee=agent, team=team)

        first = sla.sla_breaches_flag(now=T0 + timedelta(hours=5))
        again = sla.sla_breaches_flag(now=T0 + timedelta(hours=6))

        assert (first, again) == (1, 0)
        breach = SLABreach.objects.get()
        assert (breach.ticket_id, breach.target, breach.due_at) == (
            ticket.pk,
            "first_response",
            T0 + timedelta(hours=4),
        )
        notified = Notification.objects.filter(kind="sla_breach", ticket=ticket)
        assert sorted(n.recipient.username for n in notified) == ["agent-x", "lead-x"]
        assert "first response" in notified[0].text

    def test_the_assignee_reads_the_breach_in_the_desk_and_marks_it_read(self, client, agent):
        ticket = _ticket(assignee=agent, subject="Parcel lost")
        sla.sla_breaches_flag(now=T0 + timedelta(hours=5))
        client.force_login(agent)

        badge = client.get(reverse("notifications_badge")).content.decode()
        page = client.get(reverse("notifications")).content.decode()
        client.post(reverse("notifications_read"))
        after = client.get(reverse("notifications_badge")).content.decode()

        assert ">1<" in badge and "unread" in badge
        assert "SLA breached" in page and reverse("tickets:detail", args=[ticket.pk]) in page and "New" in page
        assert "unread" not in after
        assert not Notification.objects.filter(recipient=agent, read_at__isnull=True).exists()

    def test_the_notifications_page_costs_the_same_queries_for_one_or_many(
        self, client, agent, django_assert_max_num_queries
    ):
        client.force_login(agent)
        _ticket(assignee=agent)
        sla.sla_breaches_flag(now=T0 + timedelta(hours=5))
        client.get(reverse("notifications"))  # warm the session and permission caches
        with CaptureQueriesContext(connection) as one:
            client.get(reverse("notifications"))
        for _ in range(30):
            _ticket(assignee=agent)
        sla.sla_breaches_flag(now=T0 + timedelta(hours=30))

        with django_assert_max_num_queries(len(one)):
            response = client.get(reverse("notifications"))

        assert len(one) <= 8
        assert response.content.decode().count("SLA breached") > 30

    def test_the_resolution_target_is_its_own_breach(self):
        ticket = _ticket(assignee=UserFactory())
        _set(ticket, T0 + timedelta(hours=1), first_response_at=T0 + timedelta(hours=1))

        sla.sla_breaches_flag(now=T0 + timedelta(hours=30))

        assert list(SLABreach.objects.values_list("target", flat=True)) == ["resolution"]

    def test_a_paused_or_solved_ticket_is_not_flagged(self):
        waiting = _ticket(assignee=UserFactory())
        _set(waiting, T0 + timedelta(hours=1), status=Ticket.Status.PENDING)
        done = _ticket()
        _set(done, T0 + timedelta(hours=1), status=Ticket.Status.SOLVED, solved_at=T0 + timedelta(hours=1))

        assert sla.sla_breaches_flag(now=T0 + timedelta(days=5)) == 0

    def test_a_target_that_moves_and_is_missed_again_is_a_new_breach(self):
        ticket = _ticket(assignee=UserFactory())
        sla.sla_breaches_flag(now=T0 + timedelta(hours=5))
        _set(ticket, T0 + timedelta(hours=5), priority="low")  # first response now due at +8 h

        assert sla.sla_breaches_flag(now=T0 + timedelta(hours=9)) == 1
        assert SLABreach.objects.count() == 2

    def test_the_beat_job_settles_pauses_changed_without_the_call_and_flags_breaches(self):
        ticket = _ticket(assignee=UserFactory())
        Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.PENDING, updated_at=T0 + timedelta(hours=1))
        overdue = TicketFactory(
            created_at=T0, status="open", first_response_due_at=T0 + timedelta(hours=1), assignee=UserFactory()
        )

        result = sla_sweep.delay().get()

        ticket.refresh_from_db()
        assert result == {"reconciled": 1, "breaches": 1}
        assert ticket.sla_paused_at == T0 + timedelta(hours=1)
        assert SLABreach.objects.get().ticket_id == overdue.pk
