"""What tickets contribute to a customer's export and erasure, and the retention rule that
anonymises old closed tickets. Registered with ``customers.privacy.registry`` from
``TicketsConfig.ready()``, so ``customers`` never imports ``tickets``.

Erasure keeps every figure (ticket counts, timings, SLA, CSAT ratings) and removes the words:
message text and HTML become ``[erased]``, senders and subjects go, attachments are deleted
with their files, chat visitor ids are replaced, CSAT comments are blanked.
"""

import secrets
from datetime import datetime
from typing import Any

from django.db.models import Model, Prefetch, Q, QuerySet

from customers.models import Customer, RetentionRule
from customers.privacy.registry import PrivacyContribution, RetentionHandler, RetentionPreview, privacy_registry
from customers.privacy.scope import ERASED, PrivacyScope

from .models import (
    Attachment,
    ChatSession,
    CSATSurvey,
    Message,
    Notification,
    QuarantinedEmail,
    SLABreach,
    SLAPause,
    Ticket,
    TicketEvent,
)

ANONYMISED_SUBJECT = "[anonymised]"
NOT_SENT_ERASED = "Not sent: the customer was erased."
RETENTION_BATCH = 200
RETENTION_STATUSES = (Ticket.Status.SOLVED, Ticket.Status.CLOSED)

EXPORT_COVERAGE: dict[type[Model], str] = {
    Ticket: "tickets",
    Ticket.tags.through: "tickets[].tags",
    Message: "tickets[].messages (internal notes included, marked as such)",
    Attachment: "tickets[].messages[].attachments (file name, type, size; the files on request)",
    CSATSurvey: "tickets[].csat",
    TicketEvent: "tickets[].history",
    ChatSession: "chat_sessions",
    Notification: "omitted: alerts to desk staff that only point at the ticket",
    SLAPause: "omitted: the desk's own service-level clock, no personal data",
    SLABreach: "omitted: the desk's own service-level record, no personal data",
}
ERASURE_COVERAGE: dict[type[Model], str] = {
    Ticket: "anonymised: subject erased; status, timings and assignment kept for the figures",
    Ticket.tags.through: "kept: the desk's own tags, no personal data",
    Message: "anonymised: text, HTML and sender erased; direction, channel and times kept",
    Attachment: "deleted with their files",
    CSATSurvey: "anonymised: comment blanked, rating kept for the CSAT score",
    TicketEvent: "kept; the person's identifiers scrubbed from the data",
    ChatSession: "anonymised: visitor id replaced, page address blanked",
    Notification: "anonymised: text reduced to the ticket number",
    SLAPause: "kept: no personal data",
    SLABreach: "kept: no personal data",
}


def _tickets(scope: PrivacyScope) -> QuerySet[Ticket]:
    return Ticket.objects.filter(customer__in=scope.customer_ids)


def privacy_export(scope: PrivacyScope) -> dict[str, Any]:
    messages = Message.objects.order_by("created_at", "id").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    tickets = (
        _tickets(scope)
        .order_by("created_at", "id")
        .select_related("csat", "assignee")
        .prefetch_related(
            Prefetch("messages", queryset=messages),
            Prefetch("events", queryset=TicketEvent.objects.order_by("created_at", "id")),
            "tags",
        )
    )
    chats = ChatSession.objects.filter(Q(customer__in=scope.customer_ids) | Q(ticket__customer__in=scope.customer_ids))
    return {
        "tickets": [_ticket(ticket) for ticket in tickets],
        "chat_sessions": list(
            chats.distinct().order_by("created_at").values("visitor_id", "page_url", "created_at", "last_seen_at")
        ),
    }


def _ticket(ticket: Ticket) -> dict[str, Any]:
    csat = getattr(ticket, "csat", None)
    return {
        "id": ticket.pk,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "tags": [tag.name for tag in ticket.tags.all()],
        "assignee": ticket.assignee.get_username() if ticket.assignee else "",
        "created_at": ticket.created_at,
        "first_response_at": ticket.first_response_at,
        "solved_at": ticket.solved_at,
        "messages": [
            {
                "id": message.pk,
                "channel": message.channel,
                "direction": message.direction,
                "internal_note": message.is_note,
                "sender": message.sender,
                "external_id": message.external_id,
                "delivery": message.delivery,
                "delivery_error": message.delivery_error,
                "body": message.body,
                "body_html": message.body_html,
                "created_at": message.created_at,
                "sent_at": message.sent_at,
                "attachments": [
                    {
                        "filename": attachment.filename,
                        "content_type": attachment.content_type,
                        "size": attachment.size,
                        "created_at": attachment.created_at,
                    }
                    for attachment in message.attachments.all()
                ],
            }
            for message in ticket.messages.all()
        ],
        "history": [{"kind": event.kind, "at": event.created_at, "data": event.data} for event in ticket.events.all()],
        "csat": None
        if csat is None
        else {
            "sent_at": csat.sent_at,
            "answered_at": csat.answered_at,
            "rating": csat.rating,
            "comment": csat.comment,
        },
    }


def _anonymise_tickets(ticket_ids: list[int], subject: str, scope: PrivacyScope | None) -> dict[str, int]:
    """Remove the words from these tickets, keep the figures. Files go after commit (scope) or now."""
    attachments = Attachment.objects.filter(message__ticket__in=ticket_ids)
    files = [attachment.file for attachment in attachments.only("file") if attachment.file]
    counts = {"attachments": attachments.delete()[0]}
    if scope is not None:
        for stored in files:
            scope.delete_file_on_commit(stored)
    else:
        for stored in files:
            stored.storage.delete(stored.name)
    counts["messages"] = Message.objects.filter(ticket__in=ticket_ids).update(
        body=ERASED, body_html="", body_display="", sender=""
    )
    counts["delivery_errors"] = (
        Message.objects.filter(ticket__in=ticket_ids)
        .exclude(delivery_error__in=["", NOT_SENT_ERASED])
        .update(delivery_error=ERASED)
    )
    counts["tickets"] = Ticket.objects.filter(pk__in=ticket_ids).update(subject=subject)
    counts["csat_comments"] = CSATSurvey.objects.filter(ticket__in=ticket_ids).exclude(comment="").update(comment="")
    for notification in Notification.objects.filter(ticket__in=ticket_ids).only("pk", "kind", "ticket_id"):
        Notification.objects.filter(pk=notification.pk).update(text=f"{notification.kind} on #{notification.ticket_id}")
    return counts


def privacy_erase(scope: PrivacyScope) -> dict[str, int]:
    ticket_ids = list(_tickets(scope).values_list("pk", flat=True))
    # A reply still in the outbox would go out as "[erased]" to an address the desk forgot.
    cancelled = Message.objects.filter(ticket__in=ticket_ids, delivery=Message.Delivery.QUEUED).update(
        delivery=Message.Delivery.FAILED, delivery_error=NOT_SENT_ERASED
    )
    counts = _anonymise_tickets(ticket_ids, ERASED, scope)
    counts["outbox_cancelled"] = cancelled
    changed = 0
    for event in TicketEvent.objects.filter(ticket__in=ticket_ids).only("pk", "data"):
        if scope.mentions(event.data):
            TicketEvent.objects.filter(pk=event.pk).update(data=scope.scrub(event.data))
            changed += 1
    counts["ticket_events"] = changed
    chats = ChatSession.objects.filter(Q(customer__in=scope.customer_ids) | Q(ticket__in=ticket_ids))
    counts["chat_sessions"] = 0
    for session in chats.only("pk"):
        ChatSession.objects.filter(pk=session.pk).update(visitor_id=f"erased-{secrets.token_hex(12)}", page_url="")
        counts["chat_sessions"] += 1
    # Mail held back from the inbox is linked to nobody; it is found by the sender's address.
    held = QuarantinedEmail.objects.filter(sender__in=scope.emails) if scope.emails else QuarantinedEmail.objects.none()
    for item in held:
        scope.delete_file_on_commit(item.raw)
    counts["quarantined_emails"] = held.delete()[0]
    return counts


def _retention_candidates(cutoff: datetime) -> QuerySet[Ticket]:
    return (
        Ticket.objects.filter(status__in=RETENTION_STATUSES, last_message_at__lt=cutoff, customer__legal_hold=False)
        .exclude(subject__in=[ANONYMISED_SUBJECT, ERASED])
        .order_by("last_message_at", "pk")
    )


def retention_preview(cutoff: datetime) -> RetentionPreview:
    candidates = _retention_candidates(cutoff)
    sample = [
        f"#{pk} closed ticket, last message {last:%Y-%m-%d}"
        for pk, last in candidates.values_list("pk", "last_message_at")[:10]
    ]
    return RetentionPreview(count=candidates.count(), sample=sample)


def retention_apply(cutoff: datetime) -> int:
    """Anonymise closed tickets older than the cutoff, in batches; returns how many."""
    done = 0
    while True:
        batch = list(_retention_candidates(cutoff).values_list("pk", flat=True)[:RETENTION_BATCH])
        if not batch:
            return done
        _anonymise_tickets(batch, ANONYMISED_SUBJECT, None)
        done += len(batch)


def evidence_for_message(customer: Customer, message_id: int) -> str | None:
    ticket_id = (
        Message.objects.filter(pk=message_id, ticket__customer=customer).values_list("ticket_id", flat=True).first()
    )
    return None if ticket_id is None else f"message {message_id} on ticket {ticket_id}"


def register() -> None:
    privacy_registry.register(
        PrivacyContribution(
            name="tickets",
            export=privacy_export,
            erase=privacy_erase,
            export_coverage=EXPORT_COVERAGE,
            erasure_coverage=ERASURE_COVERAGE,
        )
    )
    privacy_registry.register_retention(
        RetentionHandler(kind=RetentionRule.Kind.ANONYMISE_TICKETS, preview=retention_preview, apply=retention_apply)
    )
    privacy_registry.register_evidence(evidence_for_message)
