"""Celery tasks for CSAT surveys: thin, idempotent wrappers over ``tickets.csat``.

Registered through the import at the bottom of ``tickets/tasks.py`` (Celery autodiscovers
``tasks`` modules only).
"""

from celery import shared_task

from . import csat


@shared_task(acks_late=True)
def csat_survey_send(ticket_id: int) -> str:
    """Send one ticket's survey if it is due; safe to run any number of times."""
    survey = csat.csat_survey_send(ticket_id=ticket_id)
    if survey is None:
        return "not_due"
    return "sent" if survey.sent_at else "not_sent"


@shared_task(acks_late=True)
def csat_sweep() -> int:
    """Beat job: queue the survey of every ticket solved more than the delay ago without one."""
    ticket_ids = csat.csat_tickets_due()
    for ticket_id in ticket_ids:
        csat_survey_send.delay(ticket_id)
    return len(ticket_ids)
