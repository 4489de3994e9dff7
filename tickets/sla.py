"""Service-level targets: when a ticket's first response and resolution are due.

The clock of a target starts when the ticket is opened and runs only
- inside the business hours of the ticket's team calendar (else the desk's default calendar,
  else around the clock), skipping the calendar's holidays; and
- while the ticket is not waiting on the customer (pending) or solved: those stretches are
  recorded as ``SLAPause`` rows and do not count.

A target is due when the running clock reaches the policy's minutes. It stops at the moment the
target is met: the first response (or the solve, for a ticket solved without a reply) for the
first-response target, the solve for the resolution target. While the clock stands still and the
target was not already missed, the due time is unknown and stored as null ("paused").

Due times are stored on the ticket and recomputed by ``ticket_sla_recompute`` whenever
something that moves them changes: status (pending, solved, reopened), priority, team, first
response. Call sites (in ``tickets.services``, owned by the workspace):
- ``ticket_update``: after ``ticket.save(...)``: ``ticket_sla_recompute(ticket=ticket)``;
- ``message_receive``: after a pending or solved ticket is reopened by the customer's message:
  ``ticket_sla_recompute(ticket=ticket, at=received_at)``;
- ``ticket_open``: ``sla_due_times(priority=..., opened_at=..., team=team)``.
The SLA sweep (``sla_sweep``, a beat job) reconciles pending tickets that were changed without
the call (pause start estimated by ``updated_at``) and records breaches once, notifying the
assignee and the team lead.
"""

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .models import (
    BusinessCalendar,
    Notification,
    SLABreach,
    SLAPause,
    SLAPolicy,
    Team,
    Ticket,
)

logger = logging.getLogger(__name__)

# Statuses in which the clock stands still: waiting on the customer, or done.
CLOCK_STOPPED = (Ticket.Status.PENDING, Ticket.Status.SOLVED, Ticket.Status.CLOSED)
# Statuses in which the clock runs and a target can be missed.
CLOCK_RUNNING = (Ticket.Status.NEW, Ticket.Status.OPEN)
# How far ahead a calendar is searched for the due moment (a long holiday season fits).
HORIZON_DAYS = 366 * 2
NEVER = datetime(9999, 1, 1, tzinfo=UTC)

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Calendar:
    """Weekly opening windows (merged, sorted, per weekday 0 = Monday) in one timezone."""

    zone: ZoneInfo
    windows: dict[int, tuple[tuple[time, time | None], ...]]
    holidays: frozenset[date]

    @classmethod
    def from_model(cls, calendar: BusinessCalendar) -> "Calendar":
        by_day: dict[int, list[tuple[time, time | None]]] = {}
        for hours in calendar.hours.all():
            closes = None if hours.closes == time(0, 0) else hours.closes
            by_day.setdefault(hours.weekday, []).append((hours.opens, closes))
        merged: dict[int, tuple[tuple[time, time | None], ...]] = {}
        for weekday, windows in by_day.items():
            windows.sort(key=lambda w: w[0])
            out: list[tuple[time, time | None]] = []
            for opens, closes in windows:
                if out and (out[-1][1] is None or opens <= out[-1][1]):
                    last_opens, last_closes = out[-1]
                    if last_closes is not None and (closes is None or closes > last_closes):
                        out[-1] = (last_opens, closes)
                else:
                    out.append((opens, closes))
            merged[weekday] = tuple(out)
        return cls(
            zone=ZoneInfo(calendar.timezone),
            windows=merged,
            holidays=frozenset(h.date for h in calendar.holidays.all()),
        )

    def open_intervals(self, start: datetime, *, until: datetime = NEVER) -> Iterator[Interval]:
        """Opening windows from ``start`` on, in UTC, in order, clipped to start at ``start``."""
        first_day = start.astimezone(self.zone).date()
        for offset in range(HORIZON_DAYS):
            day = first_day + timedelta(days=offset)
            if day in self.holidays:
                continue
            for opens, closes in self.windows.get(day.weekday(), ()):
                begin = datetime.combine(day, opens, tzinfo=self.zone).astimezone(UTC)
                if begin >= until:
                    return
                end_day, end_time = (day, closes) if closes is not None else (day + timedelta(days=1), time(0, 0))
                end = datetime.combine(end_day, end_time, tzinfo=self.zone).astimezone(UTC)
                if end > start:
                    yield max(begin, start), end


def calendar_for_team(*, team_id: int | None) -> Calendar | None:
    """The team's calendar, else the desk's default (no team), else None: around the clock."""
    wanted = Q(team__isnull=True) | Q(team_id=team_id) if team_id else Q(team__isnull=True)
    candidates = BusinessCalendar.objects.filter(wanted).prefetch_related("hours", "holidays")
    chosen = min(candidates, key=lambda c: (c.team_id is None, c.pk), default=None)
    return Calendar.from_model(chosen) if chosen else None


def _subtract(interval: Interval, pauses: list[Interval]) -> Iterator[Interval]:
    begin, end = interval
    for pause_start, pause_end in pauses:
        if pause_end <= begin or pause_start >= end:
            continue
        if pause_start > begin:
            yield begin, pause_start
        begin = max(begin, pause_end)
        if begin >= end:
            return
    yield begin, end


def business_add(
    *, start: datetime, seconds: int, calendar: Calendar | None, pauses: Iterable[Interval] = ()
) -> datetime | None:
    """The moment the clock, started at ``start``, has run ``seconds``; None if it never does
    (an open-ended pause, or a calendar without opening hours within the horizon)."""
    pause_list = sorted(pauses)
    # Nothing counts after an open-ended pause starts.
    until = min((s for s, e in pause_list if e >= NEVER), default=NEVER)
    intervals = calendar.open_intervals(start, until=until) if calendar else iter([(start, NEVER)])
    remaining = timedelta(seconds=seconds)
    for interval in intervals:
        for begin, end in _subtract(interval, pause_list):
            if end >= NEVER and begin + remaining >= NEVER - timedelta(days=1):
                return None
            if end - begin >= remaining:
                return begin + remaining
            remaining -= end - begin
    return None


def business_seconds(
    *, start: datetime, end: datetime, calendar: Calendar | None, pauses: Iterable[Interval] = ()
) -> float:
    """How long the clock ran between ``start`` and ``end``."""
    if end <= start:
        return 0.0
    pause_list = sorted(pauses)
    intervals = calendar.open_intervals(start, until=end) if calendar else iter([(start, end)])
    total = timedelta()
    for interval in intervals:
        for begin, stop in _subtract((interval[0], min(interval[1], end)), pause_list):
            if stop > begin:
                total += stop - begin
    return total.total_seconds()


def sla_due_times(
    *, priority: str, opened_at: datetime, team: Team | None = None
) -> tuple[datetime | None, datetime | None]:
    """(first response due, resolution due) for a new ticket under the active policy for
    ``priority``, on ``team``'s business calendar (else the default calendar, else 24x7)."""
    policy = SLAPolicy.objects.filter(priority=priority, active=True).first()
    if policy is None:
        return None, None
    calendar = calendar_for_team(team_id=team.pk if team else None)
    return (
        business_add(start=opened_at, seconds=policy.first_response_minutes * 60, calendar=calendar),
        business_add(start=opened_at, seconds=policy.resolution_minutes * 60, calendar=calendar),
    )


def _pauses_before(pauses: list[tuple[datetime, datetime | None]], stop: datetime | None) -> list[Interval]:
    """Pauses that count for a target: those that began before it was met, clipped there."""
    counted = []
    for began, ended in pauses:
        if stop is not None and began >= stop:
            continue
        end = ended or NEVER
        if stop is not None:
            end = min(end, stop)
        counted.append((began, end))
    return counted


@transaction.atomic
def ticket_sla_recompute(*, ticket: Ticket, at: datetime | None = None) -> Ticket:
    """Bring the ticket's SLA clock and due times up to date with its current state.

    Opens a pause when the ticket is pending, solved or closed and none is open; closes the open
    pause when it is new or open again (``at`` is when that change happened, default now).
    Then recomputes both due times from the active policy, the team's calendar and the pauses,
    stores them with ``sla_paused_at``, and copies them onto ``ticket``. Idempotent.
    """
    at = at or timezone.now()
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    open_pause = SLAPause.objects.filter(ticket=locked, ended_at__isnull=True).first()
    if locked.status in CLOCK_STOPPED and open_pause is None:
        open_pause = SLAPause.objects.create(ticket=locked, started_at=max(at, locked.created_at))
    elif locked.status not in CLOCK_STOPPED and open_pause is not None:
        open_pause.ended_at = max(at, open_pause.started_at)
        open_pause.save(update_fields=["ended_at"])
        open_pause = None
    policy = SLAPolicy.objects.filter(priority=locked.priority, active=True).first()
    first_due = resolution_due = None
    if policy is not None:
        calendar = calendar_for_team(team_id=locked.team_id)
        pauses = list(SLAPause.objects.filter(ticket=locked).values_list("started_at", "ended_at"))
        first_stop = locked.first_response_at or locked.solved_at
        first_due = business_add(
            start=locked.created_at,
            seconds=policy.first_response_minutes * 60,
            calendar=calendar,
            pauses=_pauses_before(pauses, first_stop),
        )
        resolution_due = business_add(
            start=locked.created_at,
            seconds=policy.resolution_minutes * 60,
            calendar=calendar,
            pauses=_pauses_before(pauses, locked.solved_at),
        )
    changes = {
        "first_response_due_at": first_due,
        "resolution_due_at": resolution_due,
        "sla_paused_at": open_pause.started_at if open_pause else None,
    }
    Ticket.objects.filter(pk=locked.pk).update(**changes)
    for field, value in changes.items():
        setattr(ticket, field, value)
    return ticket


def sla_state(ticket: Ticket, *, now: datetime, soon: timedelta | None = None) -> str:
    """'breached', 'due_soon', 'paused' or 'ok' for the next target the ticket must meet."""
    if soon is None:
        soon = timedelta(minutes=settings.DESK_SLA_DUE_SOON_MINUTES)
    if not ticket.is_unsolved:
        return "ok"
    due = ticket.resolution_due_at if ticket.first_response_at else ticket.first_response_due_at
    if ticket.status == Ticket.Status.PENDING:
        # The clock stands still; a target missed before the wait began stays missed.
        paused_since = ticket.sla_paused_at or now
        return "breached" if due is not None and due <= paused_since else "paused"
    if due is None:
        return "ok"
    if due <= now:
        return "breached"
    if due <= now + soon:
        return "due_soon"
    return "ok"


def sla_pauses_reconcile(*, now: datetime | None = None, batch: int = 500) -> int:
    """Recompute tickets whose pause state disagrees with their status (changed without the
    ``ticket_sla_recompute`` call): pending without a pause, or running with one. The change is
    dated by ``updated_at``. Solved tickets are left alone: back-filling history is not our job."""
    stale = Ticket.objects.filter(
        Q(status=Ticket.Status.PENDING, sla_paused_at__isnull=True)
        | Q(status__in=CLOCK_RUNNING, sla_paused_at__isnull=False)
    ).only("id", "updated_at")[:batch]
    count = 0
    for ticket in stale:
        ticket_sla_recompute(ticket=ticket, at=min(ticket.updated_at, now or timezone.now()))
        count += 1
    return count


def _breach_recipients(ticket: Ticket) -> list:
    people = [ticket.assignee, ticket.team.lead if ticket.team else None]
    seen, out = set(), []
    for person in people:
        if person is not None and person.is_active and person.pk not in seen:
            seen.add(person.pk)
            out.append(person)
    return out


@transaction.atomic
def sla_breach_record(*, ticket: Ticket, target: str, due_at: datetime, now: datetime | None = None) -> bool:
    """Record one missed target and notify the assignee and the team lead, once.

    Returns False when that breach (ticket, target, due time) was already recorded."""
    try:
        with transaction.atomic():
            SLABreach.objects.create(ticket=ticket, target=target, due_at=due_at, detected_at=now or timezone.now())
    except IntegrityError:
        return False
    label = SLABreach.Target(target).label
    text = f"SLA breached: {label.lower()} on #{ticket.pk} {ticket.subject}"[:255]
    Notification.objects.bulk_create(
        [
            Notification(recipient=person, kind="sla_breach", text=text, ticket=ticket)
            for person in _breach_recipients(ticket)
        ]
    )
    return True


def sla_breaches_flag(*, now: datetime | None = None, batch: int = 500) -> int:
    """Find targets missed in a running clock and not yet recorded; record and notify each."""
    now = now or timezone.now()
    recorded = 0
    checks = (
        (
            SLABreach.Target.FIRST_RESPONSE,
            "first_response_due_at",
            Q(first_response_at__isnull=True, first_response_due_at__lte=now),
        ),
        (SLABreach.Target.RESOLUTION, "resolution_due_at", Q(resolution_due_at__lte=now)),
    )
    for target, due_field, missed in checks:
        known = SLABreach.objects.filter(ticket=OuterRef("pk"), target=target, due_at=OuterRef(due_field))
        tickets = (
            Ticket.objects.filter(missed, status__in=CLOCK_RUNNING)
            .exclude(Exists(known))
            .select_related("assignee", "team__lead")
            .order_by(due_field)[:batch]
        )
        for ticket in tickets:
            recorded += sla_breach_record(ticket=ticket, target=target, due_at=getattr(ticket, due_field), now=now)
    if recorded:
        logger.info("sla: %s new breaches recorded", recorded)
    return recorded
