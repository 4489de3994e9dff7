"""Satisfaction surveys: one per solved ticket, sent after a delay, answered on a public page.

Lifecycle:
1. A ticket is solved. ``csat_schedule_for_ticket`` (called by the solving service) queues the
   send for short delays; the beat sweep ``csat_sweep`` finds every ticket solved more than
   ``DESK_CSAT_DELAY_HOURS`` ago without a survey, so nothing depends on that call.
2. ``csat_survey_send`` creates the survey row, credited to the agent who solved the ticket
   (else its assignee) and its team, on the ticket's channel. It asks consent (``surveys``) when
   it runs. The survey goes out as an outbound message of the ticket through the normal
   delivery pipeline: inline in chat for chat tickets, else by email (phone, social and web-form
   tickets are surveyed by email when the customer has an address). A survey that could not be
   sent (no consent, no reachable address) is still stored, with ``sent_at`` null, so it is
   decided once. One survey per ticket, ever: running the send twice sends once.
3. The customer opens the signed link (``CSATSurvey.token``) within ``DESK_CSAT_EXPIRY_DAYS``,
   rates 1-5 and may comment; ``csat_survey_answer`` stores it once. A rating at or below
   ``DESK_CSAT_LOW_RATING`` notifies the team lead in the desk.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers import consent
from customers.models import Channel, ContactPoint
from customers.suggestions.tasks import churn_refresh_on_commit

from .models import CSATSurvey, Message, Notification, Ticket
from .webhooks_out import webhook_event_publish

SURVEYED_STATUSES = (Ticket.Status.SOLVED, Ticket.Status.CLOSED)
COMMENT_MAX_LENGTH = 2000
# Delays longer than this are left to the sweep: a broker such as Redis redelivers tasks whose
# countdown outlives its visibility timeout, so long countdowns would only multiply deliveries.
QUEUE_DELAY_LIMIT = timedelta(minutes=30)


def csat_delay() -> timedelta:
    return timedelta(hours=settings.DESK_CSAT_DELAY_HOURS)


def csat_survey_url(*, survey: CSATSurvey) -> str:
    """The absolute, signed link the customer follows."""
    return settings.DESK_SITE_URL.rstrip("/") + reverse("csat_survey", kwargs={"token": survey.token})


def csat_survey_by_token(*, token: str) -> CSATSurvey | None:
    """The survey a signed link points at, or None for a forged or unknown link."""
    try:
        survey_id = signing.loads(token, salt=settings.DESK_SIGNING_SALT_SURVEY)
    except signing.BadSignature:
        return None
    if not isinstance(survey_id, int):
        return None
    return CSATSurvey.objects.select_related("ticket__customer").filter(pk=survey_id).first()


def csat_is_open(*, survey: CSATSurvey, now: datetime | None = None) -> bool:
    """Can the customer still answer? Sent, not answered, not expired."""
    now = now or timezone.now()
    return (
        survey.sent_at is not None
        and survey.answered_at is None
        and (survey.expires_at is None or survey.expires_at > now)
    )


@transaction.atomic
def csat_schedule_for_ticket(*, ticket: Ticket) -> datetime | None:
    """Plan the survey of a solved ticket; returns when it will be sent, or None if it will not.

    Idempotent and cheap: nothing is written. For a delay under ``QUEUE_DELAY_LIMIT`` the send
    task is queued after commit; longer delays are picked up by ``csat_sweep`` once due. Call it
    when a ticket becomes solved.
    """
    if ticket.status not in SURVEYED_STATUSES or ticket.solved_at is None:
        return None
    if CSATSurvey.objects.filter(ticket_id=ticket.pk).exists():
        return None
    send_at = ticket.solved_at + csat_delay()
    countdown = (send_at - timezone.now()).total_seconds()
    if countdown <= QUEUE_DELAY_LIMIT.total_seconds():
        from .csat_tasks import csat_survey_send as send_task

        ticket_id = ticket.pk
        transaction.on_commit(lambda: send_task.apply_async((ticket_id,), countdown=max(0, countdown)))
    return send_at


def csat_tickets_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of tickets solved more than the delay ago (within the sweep window) without a survey."""
    now = now or timezone.now()
    latest = now - csat_delay()
    earliest = latest - timedelta(days=settings.DESK_CSAT_SWEEP_DAYS)
    surveyed = CSATSurvey.objects.filter(ticket_id=OuterRef("pk"))
    return list(
        Ticket.objects.filter(status__in=SURVEYED_STATUSES, solved_at__gt=earliest, solved_at__lte=latest)
        .exclude(Exists(surveyed))
        .order_by("solved_at")
        .values_list("pk", flat=True)[:limit]
    )


def _survey_route(ticket: Ticket) -> str | None:
    """The channel the survey travels on: chat inline for chat tickets, else email if we can."""
    if ticket.channel == Channel.CHAT:
        return Channel.CHAT
    if ContactPoint.objects.filter(customer_id=ticket.customer_id, channel=Channel.EMAIL).exists():
        return Channel.EMAIL
    return None


def _survey_text(*, survey: CSATSurvey, url: str) -> str:
    ticket = survey.ticket
    with translation.override(ticket.customer.locale):
        return "\n\n".join(
            [
                _("How did we do with your request “%(subject)s”?") % {"subject": ticket.subject},
                _("Please rate our help from 1 to 5, it takes a few seconds: %(url)s") % {"url": url},
                _("This link works for %(days)s days.") % {"days": settings.DESK_CSAT_EXPIRY_DAYS},
            ]
        )


@transaction.atomic
def csat_survey_send(*, ticket_id: int, now: datetime | None = None) -> CSATSurvey | None:
    """Send the survey of one solved ticket, once.

    Returns the survey (sent, or stored unsent when consent or an address is missing), or None
    when it is not time yet: the ticket is unknown, not solved (reopened) or solved less than
    the delay ago. The ticket row is locked, so two runs at once send once.
    """
    from .services import message_delivery_schedule

    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if ticket is None:
        return None
    existing = CSATSurvey.objects.filter(ticket=ticket).first()
    if existing is not None:
        return existing
    if ticket.status not in SURVEYED_STATUSES or ticket.solved_at is None or ticket.solved_at + csat_delay() > now:
        return None
    survey = CSATSurvey(
        ticket=ticket,
        agent_id=ticket.solved_by_id or ticket.assignee_id,
        team_id=ticket.team_id,
        channel=ticket.channel,
        created_at=now,
    )
    route = _survey_route(ticket) if consent.allows(ticket.customer, consent.SURVEYS) else None
    if route is not None:
        survey.sent_at = now
        survey.expires_at = now + timedelta(days=settings.DESK_CSAT_EXPIRY_DAYS)
    survey.save()
    if route is None:
        return survey
    message = Message.objects.create(
        ticket=ticket,
        channel=route,
        direction=Message.Direction.OUTBOUND,
        body=_survey_text(survey=survey, url=csat_survey_url(survey=survey)),
        delivery=Message.Delivery.QUEUED,
        created_at=now,
    )
    message_delivery_schedule(message=message)
    return survey


def _low_rating_recipients(survey: CSATSurvey) -> list:
    """The lead of the credited team; without one, everyone who watches the dashboards."""
    lead = survey.team.lead if survey.team_id and survey.team else None
    if lead is not None and lead.is_active:
        return [lead]
    perm = Permission.objects.filter(content_type__app_label="tickets", codename="view_dashboards")
    return list(
        get_user_model()
        .objects.filter(Q(groups__permissions__in=perm) | Q(user_permissions__in=perm), is_active=True)
        .distinct()
    )


@transaction.atomic
def csat_survey_answer(
    *, survey: CSATSurvey, rating: int, comment: str = "", now: datetime | None = None
) -> CSATSurvey:
    """Store the customer's answer, once, while the survey is open.

    A rating at or below ``DESK_CSAT_LOW_RATING`` notifies the team lead (a Notification row).
    Raises ValidationError for a closed survey or a rating outside 1-5.
    """
    now = now or timezone.now()
    locked = CSATSurvey.objects.select_for_update(of=("self",)).select_related("ticket", "team__lead").get(pk=survey.pk)
    if not csat_is_open(survey=locked, now=now):
        raise ValidationError({"rating": "This survey is closed."})
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError({"rating": "Choose a rating from 1 to 5."})
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ValidationError({"comment": f"Keep the comment under {COMMENT_MAX_LENGTH} characters."})
    locked.rating, locked.comment, locked.answered_at = rating, comment, now
    locked.save(update_fields=["rating", "comment", "answered_at"])
    churn_refresh_on_commit(customer_id=locked.ticket.customer_id)
    webhook_event_publish(event="csat.answered", survey=locked)
    if rating <= settings.DESK_CSAT_LOW_RATING:
        ticket = locked.ticket
        text = f"Low CSAT rating {rating}/5 on #{ticket.pk} {ticket.subject}"[:255]
        Notification.objects.bulk_create(
            [
                Notification(recipient=person, kind="csat_low", text=text, ticket=ticket, created_at=now)
                for person in _low_rating_recipients(locked)
            ]
        )
    for field in ("rating", "comment", "answered_at"):
        setattr(survey, field, getattr(locked, field))
    return survey
