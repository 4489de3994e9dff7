"""A person the desk knows in every way it can, built through the real services, for the export
and erasure tests (tests/customers/test_export.py, test_erasure.py)."""

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
