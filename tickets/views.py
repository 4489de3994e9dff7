from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from customers.models import Channel
from customers.selectors import customer_profile
from supportdesk.access import permission_required

from . import selectors, services
from .forms import ReplyForm, TicketUpdateForm
from .models import Message, Ticket

INBOX_PAGE_SIZE = 25


def _ticket_or_404(ticket_id: int) -> Ticket:
    try:
        return selectors.ticket_get(ticket_id=ticket_id)
    except Ticket.DoesNotExist:
        raise Http404("No such ticket.") from None


@permission_required("tickets.view_ticket")
def inbox(request: HttpRequest) -> HttpResponse:
    view = request.GET.get("view", "open")
    if view not in selectors.INBOX_VIEWS:
        view = "open"
    page = Paginator(selectors.inbox_tickets(user=request.user, view=view), INBOX_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "tickets/inbox.html", {"page": page, "view": view, "views": selectors.INBOX_VIEWS})


def _ticket_page(request: HttpRequest, ticket: Ticket, reply_form: ReplyForm | None = None, status: int = 200):
    thread = selectors.ticket_thread(ticket=ticket)
    channels = services.reachable_channels(ticket.customer)
    last_inbound = next((m.channel for m in reversed(thread) if m.direction == Message.Direction.INBOUND), None)
    reply_form = reply_form or ReplyForm(channels=channels, default_channel=last_inbound or ticket.channel)
    update_form = TicketUpdateForm(
        initial={"status": ticket.status, "priority": ticket.priority, "assignee": ticket.assignee_id}
    )
    context = {
        "ticket": ticket,
        "thread": thread,
        "reply_form": reply_form,
        "update_form": update_form,
        "profile": customer_profile(customer=ticket.customer),
    }
    return render(request, "tickets/detail.html", context, status=status)


@permission_required("tickets.view_ticket")
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _ticket_page(request, _ticket_or_404(ticket_id))


@require_POST
@permission_required("tickets.view_ticket", "tickets.add_message")
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket_or_404(ticket_id)
    internal = request.POST.get("internal") == "on"
    # A note may go on any channel; a reply only where the customer can be reached.
    channels = list(Channel.values) if internal else services.reachable_channels(ticket.customer)
    form = ReplyForm(request.POST, channels=channels)
    if form.is_valid():
        try:
            services.ticket_reply(
                ticket=ticket,
                author=request.user,
                body=form.cleaned_data["body"],
                channel=form.cleaned_data["channel"],
                internal=form.cleaned_data["internal"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            flash.success(request, "Note added." if internal else "Reply queued for delivery.")
            return redirect("tickets:detail", ticket_id=ticket.pk)
    return _ticket_page(request, ticket, reply_form=form, status=400)


@require_POST
@permission_required("tickets.change_ticket")
def ticket_update(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket_or_404(ticket_id)
    form = TicketUpdateForm(request.POST)
    if not form.is_valid():
        flash.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        return redirect("tickets:detail", ticket_id=ticket.pk)
    assignee = form.cleaned_data["assignee"]
    services.ticket_update(
        ticket=ticket,
        actor=request.user,
        status=form.cleaned_data["status"],
        priority=form.cleaned_data["priority"],
        assignee=assignee,
        unassign=assignee is None,
    )
    flash.success(request, "Ticket updated.")
    return redirect("tickets:detail", ticket_id=ticket.pk)


@require_POST
@permission_required("tickets.add_message")
def message_retry(request: HttpRequest, message_id: int) -> HttpResponse:
    message = get_object_or_404(Message, pk=message_id)
    try:
        services.message_delivery_retry(message=message)
    except ValidationError as exc:
        flash.error(request, " ".join(exc.messages))
    else:
        flash.success(request, "Delivery retried.")
    return redirect("tickets:detail", ticket_id=message.ticket_id)
