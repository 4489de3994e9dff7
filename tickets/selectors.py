"""Reads for the inbox and ticket pages; query counts do not grow with history size."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, QuerySet

from .models import Message, Tag, Ticket

INBOX_VIEWS = ("mine", "unassigned", "open", "all")


def inbox_tickets(*, user: AbstractBaseUser, view: str = "open") -> QuerySet[Ticket]:
    """Tickets for one inbox view, newest activity first, with what each row shows."""
    tickets = Ticket.objects.select_related("customer", "assignee", "team").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.only("id", "name"))
    )
    if view == "mine":
        tickets = tickets.filter(assignee=user, status__in=Ticket.UNSOLVED)
    elif view == "unassigned":
        tickets = tickets.filter(assignee__isnull=True, status__in=Ticket.UNSOLVED)
    elif view == "open":
        tickets = tickets.filter(status__in=Ticket.UNSOLVED)
    return tickets.order_by("-last_message_at", "-id")


def ticket_get(*, ticket_id: int) -> Ticket:
    return Ticket.objects.select_related("customer", "assignee", "team").get(pk=ticket_id)


def ticket_thread(*, ticket: Ticket) -> list[Message]:
    """The whole thread, oldest first, with authors, in one query."""
    return list(ticket.messages.select_related("author").order_by("created_at", "id"))


def customer_tickets(*, customer_id: int, limit: int = 10) -> list[Ticket]:
    return list(Ticket.objects.filter(customer_id=customer_id).order_by("-created_at")[:limit])
