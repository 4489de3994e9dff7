"""Every write to tickets and messages goes through a function here."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers import consent
from customers.models import Channel, ContactPoint, Customer
from customers.services import customer_contact_touch, customer_resolve

from .models import Message, Team, Ticket
from .sla import sla_due_times

# Which kind of contact point identifies the sender of an inbound message on each channel.
SENDER_CONTACT_CHANNEL = {
    Channel.EMAIL: Channel.EMAIL,
    Channel.WEB: Channel.EMAIL,
    Channel.CHAT: Channel.CHAT,
    Channel.PHONE: Channel.PHONE,
    Channel.SOCIAL: Channel.SOCIAL,
}
# Which contact point an agent's reply on each channel needs.
REPLY_CONTACT_CHANNEL = SENDER_CONTACT_CHANNEL


@transaction.atomic
def ticket_open(
    *,
    customer: Customer,
    subject: str,
    channel: str,
    priority: str = "normal",
    team: Team | None = None,
    opened_at: datetime | None = None,
) -> Ticket:
    """Open a ticket and set its SLA due times from the active policy for its priority."""
    opened_at = opened_at or timezone.now()
    subject = (subject or "").strip()[:255] or "(no subject)"
    first_due, resolution_due = sla_due_times(priority=priority, opened_at=opened_at)
    ticket = Ticket(
        customer=customer,
        subject=subject,
        channel=channel,
        priority=priority,
        team=team,
        created_at=opened_at,
        updated_at=opened_at,
        last_message_at=opened_at,
        first_response_due_at=first_due,
        resolution_due_at=resolution_due,
    )
    ticket.full_clean(exclude=["customer", "team", "assignee"])
    ticket.save()
    return ticket


def _ticket_to_continue(customer: Customer, channel: str, at: datetime) -> Ticket | None:
    window = at - timedelta(days=settings.DESK_CONTINUE_TICKET_DAYS)
    return (
        Ticket.objects.select_for_update()
        .filter(customer=customer, channel=channel, status__in=Ticket.UNSOLVED, last_message_at__gte=window)
        .order_by("-last_message_at")
        .first()
    )


@transaction.atomic
def message_receive(
    *,
    channel: str,
    sender: str,
    body: str,
    subject: str = "",
    body_html: str = "",
    external_id: str = "",
    received_at: datetime | None = None,
    ticket: Ticket | None = None,
    first_name: str = "",
    last_name: str = "",
) -> Message:
    """Store an inbound message, opening a ticket or continuing one.

    The sender is resolved to a customer (created if new). The message continues ``ticket``
    when given (e.g. an email reply threaded by its headers), else the customer's latest
    unsolved ticket on the same channel, else it opens a new one. Idempotent: a message whose
    (channel, external_id) is already stored is returned unchanged.
    """
    if channel not in Channel.values:
        raise ValidationError({"channel": f"Unknown channel {channel!r}."})
    if not (body or "").strip() and not body_html:
        raise ValidationError({"body": "A message needs a body."})
    if external_id:
        existing = Message.objects.filter(channel=channel, external_id=external_id).first()
        if existing:
            return existing
    received_at = received_at or timezone.now()
    customer = customer_resolve(
        channel=SENDER_CONTACT_CHANNEL[channel], value=sender, first_name=first_name, last_name=last_name
    ).customer
    if ticket is None or ticket.customer_id != customer.pk:
        ticket = _ticket_to_continue(customer, channel, received_at)
    if ticket is None:
        ticket = ticket_open(customer=customer, subject=subject or body[:80], channel=channel, opened_at=received_at)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                ticket=ticket,
                channel=channel,
                direction=Message.Direction.INBOUND,
                sender=sender.strip()[:254],
                body=body,
                body_html=body_html,
                external_id=external_id,
                created_at=received_at,
            )
    except IntegrityError:
        # A concurrent delivery of the same message won the race.
        return Message.objects.get(channel=channel, external_id=external_id)
    updates = {"last_message_at": received_at, "updated_at": timezone.now()}
    if ticket.status in (Ticket.Status.PENDING, Ticket.Status.SOLVED):
        updates.update(status=Ticket.Status.OPEN, solved_at=None)
    Ticket.objects.filter(pk=ticket.pk).update(**updates)
    customer_contact_touch(customer=customer, at=received_at)
    return message


def reachable_channels(customer: Customer) -> list[str]:
    """Channels an agent can reply on: those where the customer has a contact point."""
    kinds = set(ContactPoint.objects.filter(customer=customer).values_list("channel", flat=True))
    return [channel for channel, contact in REPLY_CONTACT_CHANNEL.items() if contact in kinds]


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    author: AbstractBaseUser,
    body: str,
    channel: str | None = None,
    internal: bool = False,
    purpose: str = "",
) -> Message:
    """Store an agent's reply (queued for delivery) or an internal note.

    A reply that serves a consent purpose (``purpose``, e.g. ``marketing`` for an offer) is
    refused unless the customer granted it. A reply needs a channel on which the customer can
    be reached; it is delivered by
    ``tickets.tasks.message_deliver`` after the transaction commits. The first reply sets the
    ticket's first response time; a reply to a new ticket opens it.
    """
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write a message before sending."})
    channel = channel or ticket.channel
    if channel not in Channel.values:
        raise ValidationError({"channel": f"Unknown channel {channel!r}."})
    now = timezone.now()
    if internal:
        return Message.objects.create(
            ticket=ticket, channel=channel, direction=Message.Direction.NOTE, author=author, body=body, created_at=now
        )
    if purpose and not consent.allows(ticket.customer, purpose):
        raise ValidationError({"purpose": f"The customer has not agreed to {purpose}; this message cannot be sent."})
    if channel not in reachable_channels(ticket.customer):
        raise ValidationError({"channel": f"The customer cannot be reached by {channel}."})
    message = Message.objects.create(
        ticket=ticket,
        channel=channel,
        direction=Message.Direction.OUTBOUND,
        author=author,
        body=body,
        delivery=Message.Delivery.QUEUED,
        created_at=now,
    )
    updates: dict = {"updated_at": now, "last_message_at": now}
    if ticket.first_response_at is None:
        updates["first_response_at"] = now
    if ticket.status == Ticket.Status.NEW:
        updates["status"] = Ticket.Status.OPEN
    if ticket.assignee_id is None:
        updates["assignee"] = author
    Ticket.objects.filter(pk=ticket.pk).update(**updates)
    for field, value in updates.items():
        setattr(ticket, field, value)
    message_delivery_schedule(message=message)
    return message


def message_delivery_schedule(*, message: Message) -> None:
    """Queue delivery once the surrounding transaction has committed."""
    from .tasks import message_deliver

    transaction.on_commit(lambda: message_deliver.delay(message.pk))


@transaction.atomic
def message_deliver_now(*, message_id: int) -> Message:
    """Deliver one queued outbound message through its channel's transport.

    Idempotent: a message already sent is left alone. Raises the transport's error so the
    task can retry; the caller marks the message failed when retries run out.
    """
    from .channels import transport_for

    message = Message.objects.select_for_update().select_related("ticket").get(pk=message_id)
    if message.direction != Message.Direction.OUTBOUND or message.delivery == Message.Delivery.SENT:
        return message
    message.delivery_attempts += 1
    external_id = transport_for(message.channel)(message)
    message.delivery = Message.Delivery.SENT
    message.delivery_error = ""
    message.sent_at = timezone.now()
    if external_id and not message.external_id:
        message.external_id = external_id
    message.save(update_fields=["delivery", "delivery_attempts", "delivery_error", "sent_at", "external_id"])
    return message


def message_delivery_failed(*, message_id: int, error: str) -> None:
    """Mark an outbound message failed after its retries ran out, so an agent sees it."""
    Message.objects.filter(pk=message_id, delivery=Message.Delivery.QUEUED).update(
        delivery=Message.Delivery.FAILED, delivery_error=error[:500]
    )


@transaction.atomic
def message_delivery_retry(*, message: Message) -> Message:
    """Put a failed message back in the queue (the agent's retry button)."""
    if message.delivery != Message.Delivery.FAILED:
        raise ValidationError({"delivery": "Only a failed message can be retried."})
    message.delivery = Message.Delivery.QUEUED
    message.delivery_error = ""
    message.save(update_fields=["delivery", "delivery_error"])
    message_delivery_schedule(message=message)
    return message


@transaction.atomic
def ticket_update(
    *,
    ticket: Ticket,
    actor: AbstractBaseUser,
    status: str | None = None,
    priority: str | None = None,
    assignee: AbstractBaseUser | None = None,
    unassign: bool = False,
    team: Team | None = None,
) -> Ticket:
    """Change a ticket's status, priority, assignee or team; solving records who and when."""
    now = timezone.now()
    fields = ["updated_at"]
    if status is not None and status != ticket.status:
        if status not in Ticket.Status.values:
            raise ValidationError({"status": f"Unknown status {status!r}."})
        ticket.status = status
        fields.append("status")
        if status == Ticket.Status.SOLVED:
            ticket.solved_at, ticket.solved_by = now, actor
        elif status in Ticket.UNSOLVED:
            ticket.solved_at, ticket.solved_by = None, None
        fields += ["solved_at", "solved_by"]
    if priority is not None and priority != ticket.priority:
        ticket.priority = priority
        first_due, resolution_due = sla_due_times(priority=priority, opened_at=ticket.created_at)
        ticket.first_response_due_at, ticket.resolution_due_at = first_due, resolution_due
        fields += ["priority", "first_response_due_at", "resolution_due_at"]
    if unassign:
        ticket.assignee = None
        fields.append("assignee")
    elif assignee is not None:
        ticket.assignee = assignee
        fields.append("assignee")
    if team is not None:
        ticket.team = team
        fields.append("team")
    ticket.updated_at = now
    ticket.full_clean(exclude=["customer", "team", "assignee", "solved_by"])
    ticket.save(update_fields=sorted(set(fields)))
    return ticket
