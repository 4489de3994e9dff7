"""Service-level targets: when a ticket's first response and resolution are due."""

from datetime import datetime, timedelta

from .models import SLAPolicy, Ticket


def sla_due_times(*, priority: str, opened_at: datetime) -> tuple[datetime | None, datetime | None]:
    """(first response due, resolution due) under the active policy for ``priority``."""
    policy = SLAPolicy.objects.filter(priority=priority, active=True).first()
    if policy is None:
        return None, None
    return (
        opened_at + timedelta(minutes=policy.first_response_minutes),
        opened_at + timedelta(minutes=policy.resolution_minutes),
    )


def sla_state(ticket: Ticket, *, now: datetime, soon: timedelta = timedelta(minutes=15)) -> str:
    """'breached', 'due_soon' or 'ok' for the next target the ticket must meet."""
    if not ticket.is_unsolved:
        return "ok"
    due = ticket.resolution_due_at if ticket.first_response_at else ticket.first_response_due_at
    if due is None:
        return "ok"
    if due <= now:
        return "breached"
    if due <= now + soon:
        return "due_soon"
    return "ok"
