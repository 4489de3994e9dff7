"""Celery tasks for SLAs: thin wrappers over ``tickets.sla``.

Registered through the import at the bottom of ``tickets/tasks.py`` (Celery autodiscovers
``tasks`` modules only).
"""

from celery import shared_task

from . import sla


@shared_task(acks_late=True)
def sla_sweep() -> dict[str, int]:
    """Beat job: settle pause state changed without a recompute, then record and notify new
    breaches. Idempotent: each breach (ticket, target, due time) is recorded and notified once."""
    reconciled = sla.sla_pauses_reconcile()
    breaches = sla.sla_breaches_flag()
    return {"reconciled": reconciled, "breaches": breaches}


@shared_task(acks_late=True)
def ticket_sla_recompute(ticket_id: int) -> bool:
    """Recompute one ticket's due times (e.g. after an admin changed a calendar or policy)."""
    from .models import Ticket

    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        return False
    sla.ticket_sla_recompute(ticket=ticket)
    return True
