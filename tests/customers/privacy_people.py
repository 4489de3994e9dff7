"""A person the desk knows in every way it can, built through the real services, for the export
and erasure tests (tests/customers/test_export.py, test_erasure.py)."""

import base64
import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from customers.merge import customer_merge
from customers.models import AuditEvent, Channel, Customer, SuggestionFeedback
from customers.services import (
    EventInput,
    LineInput,
    audit_record,
    consent_record,
    customer_create,
    events_record,
    order_record,
    refund_record,
)
from tickets.attachments import attachment_store
from tickets.chat.services import chat_message_post, chat_session_start, chat_visitor_identify
from tickets.models import CSATSurvey, Notification, QuarantinedEmail, Ticket, TicketEvent
from tickets.services import message_receive, ticket_reply

# Distinctive, so that a search for them can only find this person.
FIRST, LAST = "Zebulon", "Quixworth"
EMAIL = "zebulon.quixworth@example.org"
OLD_EMAIL = "zq.old@example.net"
PHONE = "+34612345678"
PHONE_NATIONAL = "612345678"


@dataclass
class Person:
    customer: Customer
    ticket: Ticket
    chat_ticket: Ticket
    attachment_names: list[str]
    quarantine_names: list[str]

    @property
    def terms(self) -> list[str]:
        return [FIRST, LAST, EMAIL, OLD_EMAIL, PHONE, PHONE_NATIONAL]


def build_person(*, agent) -> Person:
    customer = customer_create(
        first_name=FIRST,
        last_name=LAST,
        preferred_name=FIRST,
        country="ES",
        contacts=[(Channel.EMAIL, EMAIL), (Channel.PHONE, PHONE)],
    )
    Customer.objects.filter(pk=customer.pk).update(churn_factors={"said": f"{FIRST} likes boots"})
    # An old record of the same person, merged into this one.
    duplicate = customer_create(first_name=FIRST, last_name=LAST, contacts=[(Channel.EMAIL, OLD_EMAIL)])
    customer_merge(survivor=customer, merged=duplicate, actor=agent, reason=f"same person as {OLD_EMAIL}")

    consent_record(
        customer=customer,
        purpose="behavioral_tracking",
        granted=True,
        source="agent",
        actor=agent,
        note=f"{FIRST} agreed on the phone ({PHONE})",
        evidence=f"call with {FIRST} {LAST}",
    )
    consent_record(customer=customer, purpose="marketing", granted=True, source="customer")
    events_record(
        events=[
            EventInput(
                customer=customer,
                kind="page_view",
                occurred_at=timezone.now() - timedelta(days=2),
                payload={"url": "/boots", "email": EMAIL},
            )
        ]
    )
    order, _ = order_record(
        customer=customer,
        source="shop",
        external_id="ZQ-1",
        number="ZQ1001",
        total=Decimal("120.00"),
        placed_at=timezone.now() - timedelta(days=10),
        tracking_number="TRK-1",
        lines=[LineInput(name="Walking boots", quantity=1, unit_price=Decimal("120.00"))],
    )
    refund_record(
        order=order,
        source="shop",
        external_id="ZQ-R1",
        amount=Decimal("20.00"),
        status="completed",
        reason=f"{FIRST} found a scratch",
    )

    inbound = message_receive(
        channel=Channel.EMAIL,
        sender=EMAIL,
        subject=f"Boots for {FIRST} {LAST}",
        body=f"Hello, this is {FIRST} {LAST}. Call me on {PHONE}.",
        body_html=f"<p>Hello, this is {FIRST} {LAST}.</p>",
        external_id="<zq-1@example.org>",
    )
    ticket = inbound.ticket
    attachment = attachment_store(
        message=inbound, filename=f"{LAST}-receipt.txt", content_type="text/plain", data=f"{FIRST} {LAST}".encode()
    )
    ticket_reply(ticket=ticket, author=agent, body=f"Hello {FIRST}, we are on it.", channel=Channel.EMAIL)
    ticket_reply(ticket=ticket, author=agent, body=f"Called {PHONE} — {EMAIL} confirmed.", internal=True)
    TicketEvent.objects.create(ticket=ticket, kind="contact", data={"sender": EMAIL, "note": f"{FIRST} called"})
    CSATSurvey.objects.create(
        ticket=ticket,
        channel=Channel.EMAIL,
        sent_at=timezone.now(),
        answered_at=timezone.now(),
        rating=2,
        comment=f"{FIRST} is not happy",
    )
    Notification.objects.create(
        recipient=agent, kind="csat_low", text=f"Low CSAT rating 2/5 on #{ticket.pk} {ticket.subject}", ticket=ticket
    )

    session = chat_session_start(page_url=f"https://shop.example.com/account?email={EMAIL}")
    chat_message = chat_message_post(session=session, body=f"Hi, {FIRST} here, my number is {PHONE}")
    chat_visitor_identify(session=session, email=EMAIL, name=f"{FIRST} {LAST}")

    held = QuarantinedEmail(
        reason=QuarantinedEmail.Reason.AUTO_REPLY, sender=EMAIL, subject=f"Out of office: {FIRST} {LAST}"
    )
    held.raw.save("message.eml", ContentFile(f"From: {EMAIL}\n\n{FIRST}".encode()), save=False)
    held.save()

    SuggestionFeedback.objects.create(
        customer=customer, rule="cross_sell", subject="P-1", verdict="dismissed", reason=f"{FIRST} has these"
    )
    audit_record(action=AuditEvent.Action.CUSTOMER_UPDATED, customer=customer, details={"email": EMAIL})
    customer.refresh_from_db()
    return Person(
        customer=customer,
        ticket=ticket,
        chat_ticket=chat_message.ticket,
        attachment_names=[attachment.file.name],
        quarantine_names=[held.raw.name],
    )


def spread_through_integrations(*, person: Person, client, settings, admin) -> None:
    """The same person again, as the integrations and the desk's own bookkeeping hold them: the
    signed webhooks (email with an attachment, chat, an order), a reply waiting in the outbox and
    one that bounced, a consent CSV import naming them, an audit-log export filtered on their
    address and a Django-admin edit of their record. Rows that are not linked to the customer
    (webhook deliveries, the import job and its file, audit rows about the log) are the ones a
    customer-by-customer erasure forgets."""
    from django.contrib.admin.models import CHANGE, LogEntry

    from customers.privacy.audit_log import AuditQuery, audit_export_record
    from customers.privacy.consent_import import consent_import_run, consent_import_start
    from supportdesk.webhook_signatures import signature_headers
    from tickets.models import Message

    settings.DESK_WEBHOOK_SECRETS = {"orders": "orders-secret", "email": "email-secret", "chat": "chat-secret"}

    def post(url: str, payload: dict, secret: str, delivery: str) -> dict:
        body = json.dumps(payload).encode()
        headers = signature_headers(secret=secret, body=body, delivery_id=delivery)
        response = client.post(url, data=body, content_type="application/json", headers=headers)
        assert response.status_code == 200, response.content
        return response.json()

    post(
        "/webhooks/email/",
        {
            "from": f"{FIRST} {LAST} <{EMAIL}>",
            "to": "support@desk.example.com",
            "subject": f"Invoice for {FIRST} {LAST}",
            "text": f"My number is {PHONE}, my address {EMAIL}.\n\nOn Mon, Desk wrote:\n> Dear {FIRST}",
            "html": f"<p>Regards, {FIRST} {LAST}</p>",
            "message_id": "<zq-webhook-1@example.org>",
            "attachments": [
                {
                    "filename": f"{LAST}-id.txt",
                    "content_type": "text/plain",
                    "content_base64": base64.b64encode(f"{FIRST} {LAST} {PHONE}".encode()).decode(),
                }
            ],
        },
        "email-secret",
        "email-zq-1",
    )
    post(
        "/webhooks/chat/",
        {
            "visitor_id": "zq-visitor",
            "message_id": "zq-chat-1",
            "text": f"{FIRST} again, {EMAIL}",
            "email": EMAIL,
            "name": f"{FIRST} {LAST}",
            "page_url": f"https://shop.example.com/?ref={EMAIL}",
        },
        "chat-secret",
        "chat-zq-1",
    )
    post(
        "/webhooks/orders/",
        {
            "id": 7700001,
            "order_number": 7701,
            "email": EMAIL,
            "created_at": "2026-01-05T10:00:00+01:00",
            "currency": "EUR",
            "total_price": "30.00",
            "financial_status": "paid",
            "customer": {"email": EMAIL, "first_name": FIRST, "last_name": LAST, "phone": PHONE},
            "line_items": [{"id": 1, "sku": "SK-9", "title": "Socks", "quantity": 1, "price": "30.00"}],
            "fulfillments": [],
            "refunds": [],
        },
        "orders-secret",
        "order-zq-1",
    )

    # A reply still in the outbox, and one that bounced with the address in the error.
    ticket_reply(ticket=person.ticket, author=admin, body=f"Dear {FIRST}, a parcel is coming.", channel=Channel.EMAIL)
    bounced = ticket_reply(ticket=person.ticket, author=admin, body="Second try", channel=Channel.EMAIL)
    Message.objects.filter(pk=bounced.pk).update(
        delivery=Message.Delivery.FAILED, delivery_error=f"550 5.1.1 <{EMAIL}>: mailbox unavailable"
    )

    # A consent import: the uploaded file and the job's report both name the person.
    csv = f"email,purpose,granted,note\n{EMAIL},surveys,yes,{FIRST} {LAST} said yes at the fair\n"
    csv += f"{EMAIL},telepathy,yes,\n"
    job = consent_import_start(data=csv.encode(), filename=f"fair-{LAST}.csv", actor=admin)
    consent_import_run(job_id=job.pk)

    # The audit log filtered on the person's address, then exported (the filter is audited).
    audit_export_record(actor=admin, query=AuditQuery(customer=EMAIL))

    # An edit in the Django admin.
    LogEntry.objects.log_actions(
        user_id=admin.pk,
        queryset=[person.customer],
        action_flag=CHANGE,
        change_message=f"Changed name to {FIRST} {LAST}",
    )
