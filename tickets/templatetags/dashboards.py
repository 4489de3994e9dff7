"""Template helpers for the dashboards and the SLA badge: formatting figures, drill-down links."""

from datetime import datetime

from django import template
from django.utils import timezone

from ..dashboards import formats
from ..sla import sla_state

register = template.Library()
register.filter("percent", formats.percent)
register.filter("duration", formats.duration)


@register.simple_tag(takes_context=True)
def drill(context, metric: str, key: str | None = None, previous: bool = False, **extra: str) -> str:
    """The drill-down URL behind a figure (see ``tickets.dashboards.tables.Links``)."""
    return context["links"].drill(metric, key, previous=previous, **extra)


@register.simple_tag
def sla_badge_state(ticket, now: datetime | None = None) -> str:
    """'breached', 'due_soon', 'paused' or 'ok' for the inbox badge (no query)."""
    return sla_state(ticket, now=now or timezone.now())


@register.filter
def sla_next_due(ticket) -> datetime | None:
    """The due time of the next target the ticket must meet."""
    return ticket.resolution_due_at if ticket.first_response_at else ticket.first_response_due_at
