"""Email out through Django's email backend (SMTP in production)."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid

from customers.models import Channel, ContactPoint

from ..models import Message


def email_send(message: Message) -> str:
    """Send ``message`` to the customer's primary email; returns the Message-ID used."""
    ticket = message.ticket
    recipient = (
        ContactPoint.objects.filter(customer_id=ticket.customer_id, channel=Channel.EMAIL)
        .order_by("-is_primary", "id")
        .values_list("value", flat=True)
        .first()
    )
    if not recipient:
        raise ValueError("The customer has no email address.")
    message_id = message.external_id or make_msgid(domain=settings.DEFAULT_FROM_EMAIL.split("@")[-1])
    headers = {"Message-ID": message_id}
    previous = (
        Message.objects.filter(ticket=ticket, channel=Channel.EMAIL, created_at__lt=message.created_at)
        .exclude(external_id="")
        .exclude(direction=Message.Direction.NOTE)
        .order_by("-created_at")
        .values_list("external_id", flat=True)
        .first()
    )
    if previous:
        headers["In-Reply-To"] = previous
        headers["References"] = previous
    email = EmailMessage(
        subject=f"Re: {ticket.subject} [#{ticket.pk}]",
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
        headers=headers,
    )
    email.send(fail_silently=False)
    return message_id
