"""Every write to tickets and messages goes through a function here."""

import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify

from customers import consent
from customers.identity import contact_normalise
from customers.models import Channel, ContactPoint, Customer
from customers.services import customer_contact_touch, customer_resolve
from customers.suggestions.tasks import churn_refresh_after_contact
from supportdesk.compiled import compiled_query

from .models import Message, Priority, Tag, Team, Ticket, TicketEvent
from .sla import sla_due_times, ticket_sla_recompute
from .webhooks_out import webhook_event_publish

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
    return _ticket_create(
        customer=customer, subject=subject, channel=channel, priority=priority, team=team, opened_at=opened_at
    )


def _ticket_create(
    *,
    customer: Customer,
    subject: str,
    channel: str,
    priority: str = "normal",
    team: Team | None = None,
    opened_at: datetime | None = None,
) -> Ticket:
    # ticket_open without a savepoint of its own, for callers already inside a transaction.
    opened_at = opened_at or timezone.now()
    subject = (subject or "").strip()[:255] or "(no subject)"
    first_due, resolution_due = sla_due_times(priority=priority, opened_at=opened_at, team=team)
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
    webhook_event_publish(event="ticket.created", ticket=ticket)
    churn_refresh_after_contact(customer=customer)
    return ticket


@compiled_query(Ticket, shaped=True)
def _unsolved_latest(by: str, *, channel: str, window: datetime, key: int | str, contact_channel: str = "") -> QuerySet:
    tickets = Ticket.objects.filter(channel=channel, status__in=Ticket.UNSOLVED, last_message_at__gte=window)
    if by == "customer":
        tickets = tickets.filter(customer_id=key)
    else:
        tickets = tickets.filter(
            customer__merged_into__isnull=True,
            customer__contact_points__channel=contact_channel,
            customer__contact_points__value=key,
        )
    return tickets.order_by("-last_message_at", "-pk")[:1]


def _ticket_to_continue(
    *, channel: str, at: datetime, customer: Customer | None = None, sender: str = ""
) -> Ticket | None:
    """The latest unsolved ticket on ``channel`` of ``customer``, or of whoever owns the
    normalised contact ``sender`` (one query for both: the sender is found through the join).
    Not locked: ``_ticket_touch`` decides on the status in the UPDATE itself.

    Every inbound message asks this, so its SQL is compiled once per process
    (``supportdesk.compiled``): building and compiling the join cost more Python than the rest
    of storing the message."""
    window = at - timedelta(days=settings.DESK_CONTINUE_TICKET_DAYS)
    if customer is not None:
        found = _unsolved_latest(shape="customer", channel=channel, window=window, key=customer.pk)
    else:
        found = _unsolved_latest(
            shape="sender",
            channel=channel,
            window=window,
            key=sender,
            contact_channel=SENDER_CONTACT_CHANNEL[channel],
        )
    return found[0] if found else None


def message_receive(
    *,
    channel: str,
    sender: str,
    body: str,
    subject: str = "",
    body_html: str = "",
    body_display: str = "",
    external_id: str = "",
    received_at: datetime | None = None,
    ticket: Ticket | None = None,
    sender_is_ticket_customer: bool = False,
    first_name: str = "",
    last_name: str = "",
    unseen: bool = False,
    savepoint: bool = True,
) -> Message:
    """Store an inbound message, opening a ticket or continuing one.

    The sender is resolved to a customer (created if new). The message continues ``ticket``
    when given (e.g. an email reply threaded by its headers) and the sender is its customer,
    else the customer's latest unsolved ticket on the same channel, else it opens a new one.
    A message to a pending or solved ticket reopens it. ``body_display`` is the text to show
    when it differs from ``body`` (an email without its quoted history).
    ``sender_is_ticket_customer`` tells that the caller has checked that the sender's contact
    belongs to ``ticket``'s (unmerged) customer, which spares the lookup of the sender.

    Idempotent: a message whose (channel, external_id) is already stored is returned
    unchanged; ``unseen`` tells that the caller has just looked that up in this transaction.
    All or nothing: a concurrent delivery of the same message that wins the race leaves no
    ticket or customer behind from this one, and its message is returned. With
    ``savepoint=False`` a lost race (the same message, or a new sender's first contact point)
    raises ``IntegrityError`` instead, for a caller whose own transaction is rolled back whole
    and tried again (the email path): no savepoint for every message to pay for a rare race.

    Round trips matter here (every inbound email, chat line and API message comes through):
    a known sender with an open ticket costs one query for both, a new ticket is created
    without a savepoint of its own, and the ticket and customer are touched by one UPDATE each.
    """
    if channel not in Channel.values:
        raise ValidationError({"channel": f"Unknown channel {channel!r}."})
    if not (body or "").strip() and not body_html:
        raise ValidationError({"body": "A message needs a body."})
    if external_id and not unseen:
        existing = Message.objects.filter(channel=channel, external_id=external_id).first()
        if existing:
            return existing
    store = {
        "channel": channel,
        "sender": sender,
        "body": body,
        "subject": subject,
        "body_html": body_html,
        "body_display": body_display,
        "external_id": external_id,
        "received_at": received_at or timezone.now(),
        "ticket": ticket,
        "sender_is_ticket_customer": sender_is_ticket_customer and ticket is not None,
        "first_name": first_name,
        "last_name": last_name,
        "savepoint": savepoint,
    }
    if not savepoint:
        return _message_store(**store)
    try:
        with transaction.atomic():
            return _message_store(**store)
    except IntegrityError:
        winner = Message.objects.filter(channel=channel, external_id=external_id).first() if external_id else None
        if winner is None:
            raise
        return winner


def _message_store(
    *,
    channel: str,
    sender: str,
    body: str,
    subject: str,
    body_html: str,
    body_display: str,
    external_id: str,
    received_at: datetime,
    ticket: Ticket | None,
    sender_is_ticket_customer: bool,
    first_name: str,
    last_name: str,
    savepoint: bool,
) -> Message:
    contact_channel = SENDER_CONTACT_CHANNEL[channel]
    # The usual message continues the sender's open ticket, found by the sender's contact in
    # one query; the customer is then known by id only, which is all that is needed of it.
    customer = None
    customer_id = None
    looked_up_by_sender = ticket is None
    if looked_up_by_sender:
        normalised = contact_normalise(channel=contact_channel, value=sender)
        ticket = _ticket_to_continue(channel=channel, at=received_at, sender=normalised)
        customer_id = ticket.customer_id if ticket is not None else None
    elif sender_is_ticket_customer:
        customer_id = ticket.customer_id
    created = False
    if customer_id is None:
        resolution = customer_resolve(
            channel=contact_channel,
            value=sender,
            first_name=first_name,
            last_name=last_name,
            contacted_at=received_at,
            savepoint=savepoint,
        )
        customer, created = resolution.customer, resolution.created
        customer_id = customer.pk
        if ticket is not None and ticket.customer_id != customer.pk:
            ticket = None
        # A customer created just now has no tickets, nor has the sender's own customer when
        # the lookup by sender missed; the customer is looked up again when that lookup did not
        # run (a threaded reply from someone else) or could not see them (a merge survivor).
        if ticket is None and not created and (resolution.via_merge or not looked_up_by_sender):
            ticket = _ticket_to_continue(channel=channel, at=received_at, customer=customer)
    opened = ticket is None
    if opened:
        ticket = _ticket_create(customer=customer, subject=subject or body[:80], channel=channel, opened_at=received_at)
    message = Message.objects.create(
        ticket=ticket,
        channel=channel,
        direction=Message.Direction.INBOUND,
        sender=sender.strip()[:254],
        body=body,
        body_html=body_html,
        body_display=body_display if body_display and body_display != body.strip() else "",
        external_id=external_id,
        created_at=received_at,
    )
    if not opened and _ticket_touch(ticket=ticket, at=received_at):
        ticket_sla_recompute(ticket=ticket, at=received_at)
    if not created:  # a new customer was created with this contact as its last
        customer_contact_touch(customer_id=customer_id, at=received_at)
    return message


def _ticket_touch(*, ticket: Ticket, at: datetime) -> bool:
    """Note the new message on the ticket; a pending or solved ticket reopens. True if it did.

    The status is decided by the UPDATE's own condition, on the row as it is now (an agent may
    have solved the ticket a moment ago), so nothing needs locking beforehand. The usual case,
    a new or open ticket, is one statement.
    """
    now = timezone.now()
    rows = Ticket.objects.filter(pk=ticket.pk)
    ticket.last_message_at, ticket.updated_at = at, now
    if _open_ticket_touch(ticket_id=ticket.pk, at=at, now=now):
        return False
    reopened = rows.filter(status__in=(Ticket.Status.PENDING, Ticket.Status.SOLVED)).update(
        last_message_at=at, updated_at=now, status=Ticket.Status.OPEN, solved_at=None
    )
    if reopened:
        ticket.status, ticket.solved_at = Ticket.Status.OPEN, None
        return True
    rows.update(last_message_at=at, updated_at=now)  # closed stays closed
    return False


def _open_ticket_touch(*, ticket_id: int, at: datetime, now: datetime) -> int:
    """``UPDATE ticket SET last_message_at, updated_at WHERE id AND status IN (new, open)``.

    Written out rather than built by the ORM: every inbound message runs it, and building the
    update cost four times the Python of sending it. Column names come from the model, values
    are adapted as the ORM adapts them, and the statement is logged like the ORM's."""
    db = connections[router.db_for_write(Ticket)]
    table = db.ops.quote_name(Ticket._meta.db_table)
    last, updated, pk, status = (
        db.ops.quote_name(Ticket._meta.get_field(name).column)
        for name in ("last_message_at", "updated_at", "id", "status")
    )
    sql = f"UPDATE {table} SET {last} = %s, {updated} = %s WHERE {pk} = %s AND {status} IN (%s, %s)"  # noqa: S608 - model names
    adapt = db.ops.adapt_datetimefield_value
    with db.cursor() as cursor:
        cursor.execute(sql, [adapt(at), adapt(now), ticket_id, Ticket.Status.NEW.value, Ticket.Status.OPEN.value])
        return cursor.rowcount


def reachable_channels(customer: Customer, contact_points: list[ContactPoint] | None = None) -> list[str]:
    """Channels an agent can reply on: those where the customer has a contact point.

    Pass the customer's ``contact_points`` when they are loaded already, to save the query.
    """
    if contact_points is not None:
        kinds = {point.channel for point in contact_points}
    else:
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
    """Queue delivery once the surrounding transaction has committed.

    The message is stored first: if the broker cannot be reached, the error is logged, the
    agent's request still succeeds, and ``outbox_sweep`` (beat) enqueues it later."""
    from .tasks import message_deliver

    transaction.on_commit(lambda: message_deliver.delay(message.pk), robust=True)


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
    actor: AbstractBaseUser | None,
    status: str | None = None,
    priority: str | None = None,
    assignee: AbstractBaseUser | None = None,
    unassign: bool = False,
    team: Team | None = None,
    clear_team: bool = False,
) -> Ticket:
    """Change a ticket's status, priority, assignee or team; solving records who and when.

    Each change writes a ``TicketEvent``. A change of status, priority or team recomputes the
    SLA clock (``tickets.sla.ticket_sla_recompute``); solving plans the CSAT survey.
    """
    now = timezone.now()
    fields = ["updated_at"]
    changes: list[tuple[str, Any, Any]] = []
    solved_now = False
    if status is not None and status != ticket.status:
        if status not in Ticket.Status.values:
            raise ValidationError({"status": f"Unknown status {status!r}."})
        changes.append(("status", ticket.status, status))
        ticket.status = status
        fields.append("status")
        if status == Ticket.Status.SOLVED:
            ticket.solved_at, ticket.solved_by = now, actor
            solved_now = True
            webhook_event_publish(event="ticket.solved", ticket=ticket)
        elif status in Ticket.UNSOLVED:
            ticket.solved_at, ticket.solved_by = None, None
        fields += ["solved_at", "solved_by"]
    if priority is not None and priority != ticket.priority:
        if priority not in Priority.values:
            raise ValidationError({"priority": f"Unknown priority {priority!r}."})
        changes.append(("priority", ticket.priority, priority))
        ticket.priority = priority
        fields.append("priority")
    if unassign and ticket.assignee_id is not None:
        changes.append(("assignee", ticket.assignee_id, None))
        ticket.assignee = None
        fields.append("assignee")
    elif assignee is not None and assignee.pk != ticket.assignee_id:
        changes.append(("assignee", ticket.assignee_id, assignee.pk))
        ticket.assignee = assignee
        fields.append("assignee")
    if clear_team and ticket.team_id is not None:
        changes.append(("team", ticket.team_id, None))
        ticket.team = None
        fields.append("team")
    elif team is not None and team.pk != ticket.team_id:
        changes.append(("team", ticket.team_id, team.pk))
        ticket.team = team
        fields.append("team")
    ticket.updated_at = now
    ticket.full_clean(exclude=["customer", "team", "assignee", "solved_by"])
    ticket.save(update_fields=sorted(set(fields)))
    if changes:
        TicketEvent.objects.bulk_create(
            TicketEvent(ticket=ticket, actor=_person(actor), kind=kind, data={"from": old, "to": new}, created_at=now)
            for kind, old, new in changes
        )
    if any(kind in ("status", "priority", "team") for kind, _old, _new in changes):
        ticket_sla_recompute(ticket=ticket, at=now)
    if solved_now:
        from .csat import csat_schedule_for_ticket

        csat_schedule_for_ticket(ticket=ticket)
    return ticket


def _person(actor: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return actor if actor is not None and actor.is_authenticated else None


TAG_LIMIT = 20


@transaction.atomic
def ticket_tags_set(*, ticket: Ticket, actor: AbstractBaseUser | None, names: list[str]) -> Ticket:
    """Give the ticket exactly these tags (slugified; new ones are created), and record it."""
    wanted: list[str] = []
    for name in names:
        slug = slugify(name)[:50]
        if slug and slug not in wanted:
            wanted.append(slug)
    if len(wanted) > TAG_LIMIT:
        raise ValidationError({"tags": f"A ticket takes at most {TAG_LIMIT} tags."})
    before = sorted(ticket.tags.values_list("name", flat=True))
    if before == sorted(wanted):
        return ticket
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=wanted)}
    missing = [Tag(name=name) for name in wanted if name not in existing]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    tags = list(Tag.objects.filter(name__in=wanted))
    ticket.tags.set(tags)
    now = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
    ticket.updated_at = now
    TicketEvent.objects.create(
        ticket=ticket, actor=_person(actor), kind="tags", data={"from": before, "to": sorted(wanted)}, created_at=now
    )
    return ticket


# ``{{ ... }}`` or ``{% ... %}`` left in a reply: a macro placeholder that was not filled.
UNFILLED_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


@transaction.atomic
def ticket_reply_compose(
    *,
    ticket: Ticket,
    author: AbstractBaseUser,
    body: str,
    channel: str | None = None,
    internal: bool = False,
    macro_id: int | None = None,
) -> Message:
    """An agent's reply or note from the composer, possibly started from a macro.

    A reply (not a note) that still contains a placeholder is refused: an unknown or empty
    ``{{ ... }}`` must never reach a customer. A reply started from a macro that serves a
    consent purpose goes through ``ticket_reply(purpose=...)``, which refuses it without that
    consent. Then as ``ticket_reply``.
    """
    from .models import Macro

    purpose = ""
    if macro_id is not None:
        macro = Macro.objects.filter(pk=macro_id, active=True).first()
        if macro is None:
            raise ValidationError({"macro": "That macro no longer exists."})
        purpose = macro.purpose
    if not internal:
        left = [match.group(0) for match in UNFILLED_PLACEHOLDER.finditer(body or "")]
        if left:
            raise ValidationError(
                {"body": f"Replace the placeholder {left[0]} before sending; it would reach the customer as is."}
            )
    return ticket_reply(ticket=ticket, author=author, body=body, channel=channel, internal=internal, purpose=purpose)
