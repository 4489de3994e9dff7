"""Writes and reads for live chat. Visitors are anonymous until they give an email address."""

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from customers.identity import contact_normalise
from customers.ingest import customer_update
from customers.models import AuditEvent, Channel, ContactPoint, Customer
from customers.services import audit_record, contact_point_add, customer_resolve

from ..models import ChatSession, Message, Ticket
from ..services import message_receive

VISITOR_SALT = "tickets.chat.visitor"
VISITOR_MAX_AGE = 60 * 60 * 24 * 365
MAX_BODY = 5000


def visitor_token(visitor_id: str) -> str:
    """A signed visitor id: the widget keeps it, so nobody can chat as another visitor."""
    return signing.dumps(visitor_id, salt=VISITOR_SALT, compress=False)


def visitor_from_token(token: str) -> str | None:
    try:
        visitor_id = signing.loads(token or "", salt=VISITOR_SALT, max_age=VISITOR_MAX_AGE)
    except signing.BadSignature:
        return None
    return visitor_id if isinstance(visitor_id, str) and 0 < len(visitor_id) <= 64 else None


@transaction.atomic
def chat_session_start(*, visitor_id: str | None = None, page_url: str = "") -> ChatSession:
    """Resume the visitor's session, or start one with a new random visitor id."""
    page_url = page_url[:500] if page_url.startswith(("http://", "https://")) else ""
    now = timezone.now()
    if visitor_id:
        session, _ = ChatSession.objects.select_for_update().get_or_create(
            visitor_id=visitor_id[:64], defaults={"page_url": page_url, "created_at": now, "last_seen_at": now}
        )
    else:
        session = ChatSession.objects.create(visitor_id="v_" + secrets.token_urlsafe(24), page_url=page_url)
    updates = {"last_seen_at": now}
    if page_url and page_url != session.page_url:
        updates["page_url"] = page_url
    ChatSession.objects.filter(pk=session.pk).update(**updates)
    for field, value in updates.items():
        setattr(session, field, value)
    return session


@transaction.atomic
def chat_message_post(
    *, session: ChatSession, body: str, external_id: str = "", sent_at: datetime | None = None
) -> Message:
    """A visitor's message: continues the session's open ticket, else opens a chat ticket."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write a message first."})
    if len(body) > MAX_BODY:
        raise ValidationError({"body": f"At most {MAX_BODY} characters."})
    ticket = None
    if session.ticket_id:
        ticket = Ticket.objects.filter(pk=session.ticket_id, status__in=Ticket.UNSOLVED).first()
    message = message_receive(
        channel=Channel.CHAT,
        sender=session.visitor_id,
        body=body,
        subject=f"Chat: {body[:70]}",
        external_id=external_id,
        received_at=sent_at,
        ticket=ticket,
    )
    customer_id = message.ticket.customer_id
    if session.ticket_id != message.ticket_id or session.customer_id != customer_id:
        ChatSession.objects.filter(pk=session.pk).update(ticket_id=message.ticket_id, customer_id=customer_id)
        session.ticket_id, session.customer_id = message.ticket_id, customer_id
    return message


def _is_placeholder(customer: Customer) -> bool:
    """A customer the chat created for an anonymous visitor: no way to reach them but the chat."""
    return not customer.contact_points.exclude(channel=Channel.CHAT).exists() and not customer.orders.exists()


@transaction.atomic
def chat_visitor_identify(*, session: ChatSession, email: str, name: str = "") -> Customer:
    """Join the visitor to the customer who owns ``email`` (created if new).

    The visitor's chat contact point and the session's ticket move to that customer; the
    anonymous customer the chat had created, now empty, is marked merged into them. The email
    is unverified: the visitor typed it.
    """
    try:
        normalised = contact_normalise(channel=Channel.EMAIL, value=email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from None
    first, _, last = (name or "").strip().partition(" ")
    target = customer_resolve(
        channel=Channel.EMAIL, value=normalised, first_name=first[:150], last_name=last[:150], actor_label="chat"
    ).customer
    if first and not target.first_name and not target.erased:
        customer_update(customer=target, values={"first_name": first, "last_name": last}, actor_label="chat")
    point = ContactPoint.objects.select_for_update().filter(channel=Channel.CHAT, value=session.visitor_id).first()
    previous = point.customer if point else None
    if point is None:
        contact_point_add(customer=target, channel=Channel.CHAT, value=session.visitor_id)
    elif previous.pk != target.pk:
        placeholder = _is_placeholder(previous)
        ContactPoint.objects.filter(pk=point.pk).update(customer=target, is_primary=False)
        # Everything an anonymous visitor's placeholder holds came from this visitor; a known
        # customer keeps their history and only this session's conversation moves.
        tickets = Ticket.objects.filter(customer=previous)
        if not placeholder:
            tickets = tickets.filter(chat_sessions=session)
        tickets.update(customer=target)
        if placeholder:
            Customer.objects.filter(pk=previous.pk).update(merged_into=target)
            audit_record(
                action=AuditEvent.Action.CUSTOMER_MERGED,
                customer=previous,
                actor_label="chat",
                details={"into": str(target.public_id), "reason": "chat visitor gave their email"},
            )
    ChatSession.objects.filter(pk=session.pk).update(customer=target)
    session.customer = target
    return target


@dataclass(frozen=True)
class TranscriptLine:
    id: int
    sender: str  # "visitor" or "agent"
    author: str
    body: str
    at: datetime


def chat_transcript(*, session: ChatSession, after_id: int = 0, limit: int = 200) -> list[TranscriptLine]:
    """What the visitor sees: their messages and agents' chat replies on the session's ticket."""
    if not session.ticket_id:
        return []
    messages: QuerySet[Message] = (
        Message.objects.filter(ticket_id=session.ticket_id, channel=Channel.CHAT, id__gt=after_id)
        .exclude(direction=Message.Direction.NOTE)
        .exclude(delivery=Message.Delivery.FAILED)
        .select_related("author")
        .order_by("id")[:limit]
    )
    return [
        TranscriptLine(
            id=m.pk,
            sender="visitor" if m.direction == Message.Direction.INBOUND else "agent",
            author="" if m.direction == Message.Direction.INBOUND else _agent_name(m),
            body=m.body,
            at=m.created_at,
        )
        for m in messages
    ]


def _agent_name(message: Message) -> str:
    if message.author and message.author.first_name:
        return message.author.first_name
    return getattr(settings, "DESK_CHAT_AGENT_LABEL", "Support")
