"""The agent's pages: inbox, ticket page (with its live parts), search.

Views check the shape of input, call selectors and services, render. Live parts (the inbox
rows, the thread, presence) are polled by htmx; a poll that finds nothing new answers 204,
which htmx leaves alone.
"""

from urllib.parse import urlencode

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from customers.models import Channel
from customers.selectors import customer_profile
from customers.services import profile_view_record
from customers.timeline import timeline_for_customer
from supportdesk.access import permission_required
from supportdesk.query_params import query_params_allowed

from . import presence, selectors, services
from .forms import InboxFilterForm, ReplyForm, TicketUpdateForm
from .macros import macro_preview
from .models import Macro, Message, Ticket
from .search import search_everything

INBOX_PAGE_SIZE = 25
HISTORY_ITEMS = 8
NO_CHANGE = 204  # htmx swaps nothing


def _ticket_or_404(ticket_id: int) -> Ticket:
    try:
        return selectors.ticket_get(ticket_id=ticket_id)
    except Ticket.DoesNotExist:
        raise Http404("No such ticket.") from None


# Inbox -------------------------------------------------------------------------------------------


def _inbox_context(request: HttpRequest) -> dict:
    form = InboxFilterForm(request.GET)
    query = form.inbox_query()
    now = timezone.now()
    tickets = selectors.inbox_tickets(user=request.user, query=query, now=now)
    counts = selectors.inbox_counts(user=request.user)
    known = counts.stats_for(query)  # the plain views come with the counts' scan
    if known is not None:
        total, view_fingerprint = known.n, known.fingerprint()
    else:
        total, view_fingerprint = selectors.inbox_view_stats(tickets=tickets)
    fingerprint = (
        view_fingerprint
        + "-"
        + "-".join(str(n) for n in (counts.mine, counts.unassigned, counts.open, *(t.open_count for t in counts.teams)))
    )
    params = {
        key: value
        for key, value in {
            "view": query.view,
            "team": query.team or "",
            "channel": query.channel,
            "status": query.status,
            "priority": query.priority,
            "tag": query.tag,
            "sla": query.sla,
            "sort": query.sort if query.sort != "activity" else "",
        }.items()
        if value
    }
    return {
        "form": form,
        "query": query,
        "tickets": selectors.InboxRows(user=request.user, query=query, count=total, now=now),
        "counts": counts,
        "fingerprint": fingerprint,
        "params": params,
        "views": [(name, selectors.INBOX_VIEW_LABELS[name], counts.for_view(name)) for name in selectors.INBOX_VIEWS],
        "tag_names": selectors.tag_names(),
        "now": now,
    }


@require_GET
@permission_required("tickets.view_ticket")
@query_params_allowed("view", "team", "channel", "status", "priority", "tag", "sla", "sort", "page", "since")
def inbox(request: HttpRequest) -> HttpResponse:
    context = _inbox_context(request)
    if request.htmx and request.GET.get("since") == context["fingerprint"]:
        return HttpResponse(status=NO_CHANGE)
    page = Paginator(context["tickets"], INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    filters = urlencode(context["params"])
    context.update(
        page=page,
        view=context["query"].view,
        filters=filters,
        page_suffix="&" + filters if filters else "",
        poll_url=f"?{filters}&page={page.number}&since={context['fingerprint']}",
    )
    if request.htmx and request.htmx.target == "inbox-live":
        return render(request, "tickets/partials/inbox_live.html", context)
    return render(request, "tickets/inbox.html", context)


# Ticket page -------------------------------------------------------------------------------------


def _ticket_page(
    request: HttpRequest,
    ticket: Ticket,
    reply_form: ReplyForm | None = None,
    status: int = 200,
    preview=None,
) -> HttpResponse:
    thread = selectors.ticket_thread(ticket=ticket)
    customer = ticket.customer
    # "Welcome back" if the customer wrote before this conversation began, or has ordered.
    returning = bool(ticket.earlier_conversation or customer.order_count or customer.last_order_at)
    profile = customer_profile(customer=customer, returning=returning, summarise_refunds=True)
    channels = services.reachable_channels(ticket.customer, profile.contact_points)
    if reply_form is None:
        default = selectors.last_inbound_channel(thread) or ticket.channel
        reply_form = ReplyForm(channels=channels, default_channel=default)
    # Personal data is on screen beside the conversation: the same audit as the profile page.
    profile_view_record(customer=ticket.customer, actor=request.user)
    presence.presence_beat(ticket_id=ticket.pk, user=request.user)
    context = {
        "ticket": ticket,
        "thread": thread,
        "thread_fingerprint": _thread_fingerprint_of(thread),
        "reply_form": reply_form,
        "reachable": channels,
        "profile": profile,
        "macros": selectors.macros_active(),
        "preview": preview,
        "others": presence.presence_others(ticket_id=ticket.pk, user=request.user),
        "now": timezone.now(),
    }
    return render(request, "tickets/detail.html", context, status=status)


def _thread_fingerprint_of(thread: list[Message]) -> str:
    sent = sum(1 for m in thread if m.delivery == Message.Delivery.SENT)
    failed = sum(1 for m in thread if m.delivery == Message.Delivery.FAILED)
    top = max((m.pk for m in thread), default=0)
    return f"{len(thread)}-{top}-{sent}-{failed}"


@require_GET
@permission_required("tickets.view_ticket")
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _ticket_page(request, _ticket_or_404(ticket_id))


@require_GET
@permission_required("tickets.view_ticket")
def ticket_thread(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The thread alone, for the page's 5-second poll: 204 when nothing changed."""
    ticket = get_object_or_404(Ticket.objects.select_related("customer"), pk=ticket_id)
    if request.GET.get("since") == selectors.thread_fingerprint(ticket_id=ticket.pk):
        return HttpResponse(status=NO_CHANGE)
    thread = selectors.ticket_thread(ticket=ticket)
    return render(
        request,
        "tickets/partials/thread.html",
        {"ticket": ticket, "thread": thread, "thread_fingerprint": _thread_fingerprint_of(thread), "live": True},
    )


@require_GET
@permission_required("tickets.view_ticket")
def ticket_history(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The side panel's second half, loaded after the page: the customer's other open
    conversations and the latest of their timeline (bounded queries, no audit: the page
    view that loads it was audited)."""
    ticket = get_object_or_404(Ticket.objects.select_related("customer"), pk=ticket_id)
    # This conversation is on screen already: the history shows what came before and beside it.
    page = timeline_for_customer(
        customer=ticket.customer, limit=HISTORY_ITEMS, exclude_ref=(("ticket", "message", "note"), ticket.pk)
    )
    context = {
        "ticket": ticket,
        "customer": ticket.customer,
        "open_elsewhere": selectors.customer_open_tickets(customer_id=ticket.customer_id, exclude_ticket_id=ticket.pk),
        "timeline": page,
    }
    return render(request, "tickets/partials/history.html", context)


@require_POST
@permission_required("tickets.view_ticket", "tickets.add_message")
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket_or_404(ticket_id)
    internal = request.POST.get("internal") == "on"
    # A note may go on any channel; a reply only where the customer can be reached.
    channels = list(Channel.values) if internal else services.reachable_channels(ticket.customer)
    if request.POST.get("action") == "preview":
        return _macro_preview_page(request, ticket, channels)
    form = ReplyForm(request.POST, channels=channels)
    if form.is_valid():
        try:
            services.ticket_reply_compose(
                ticket=ticket,
                author=request.user,
                body=form.cleaned_data["body"],
                channel=form.cleaned_data["channel"],
                internal=form.cleaned_data["internal"],
                macro_id=form.cleaned_data["macro"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields and field != "macro" else None, errors)
        else:
            presence.presence_beat(ticket_id=ticket.pk, user=request.user)
            flash.success(request, _reply_stored_message(internal=internal, channel=form.cleaned_data["channel"]))
            return redirect("tickets:detail", ticket_id=ticket.pk)
    return _ticket_page(request, ticket, reply_form=form, status=400)


def _reply_stored_message(*, internal: bool, channel: str) -> str:
    if internal:
        return "Note added."
    if channel in (Channel.PHONE, Channel.SOCIAL):
        return f"Recorded as made on {Channel(channel).label}."
    return "Reply queued for delivery."


def _macro_preview_page(request: HttpRequest, ticket: Ticket, channels: list[str]) -> HttpResponse:
    """Without JavaScript: the page again, the composer filled with the macro's text."""
    macro = Macro.objects.filter(pk=_int(request.POST.get("macro_pick")), active=True).first()
    data = request.POST.copy()
    preview = None
    if macro is not None:
        preview = macro_preview(macro=macro, ticket=ticket, agent=request.user)
        data["body"] = preview.text
        data["macro"] = str(macro.pk)
    form = ReplyForm(data, channels=channels)
    form.is_valid()
    return _ticket_page(request, ticket, reply_form=form, preview=preview and {"macro": macro, "rendered": preview})


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_GET
@permission_required("tickets.view_ticket", "tickets.view_macro")
def macro_preview_partial(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The macro picked in the composer, rendered for this customer, problems flagged."""
    ticket = get_object_or_404(Ticket.objects.select_related("customer"), pk=ticket_id)
    macro = Macro.objects.filter(pk=_int(request.GET.get("macro_pick")), active=True).first()
    if macro is None:
        return render(request, "tickets/partials/macro_preview.html", {"preview": None})
    rendered = macro_preview(macro=macro, ticket=ticket, agent=request.user)
    return render(request, "tickets/partials/macro_preview.html", {"preview": {"macro": macro, "rendered": rendered}})


# Ticket fields, edited in place ------------------------------------------------------------------


def _fields_partial(request: HttpRequest, ticket: Ticket, status: int = 200, error: str = "") -> HttpResponse:
    ticket = selectors.ticket_get(ticket_id=ticket.pk)
    context = {"ticket": ticket, "error": error, "now": timezone.now()}
    return render(request, "tickets/partials/fields.html", context, status=status)


@require_GET
@permission_required("tickets.view_ticket", "tickets.change_ticket")
def ticket_edit(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The editor for one field (``?field=``) in place, or, without htmx, a page with every field."""
    ticket = _ticket_or_404(ticket_id)
    field = request.GET.get("field", "")
    if request.htmx and field == "view":
        return _fields_partial(request, ticket)
    initial = {
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": ticket.assignee_id,
        "team": ticket.team_id,
        "tags": ", ".join(tag.name for tag in ticket.tags.all()),
    }
    form = TicketUpdateForm(initial=initial)
    field = field if field in form.FIELDS else ""
    context = {
        "ticket": ticket,
        "form": form,
        "field": field,
        "tags": [],
        "bound_field": form[field] if field else None,
    }
    if field == "tags" or not request.htmx:
        context["tags"] = selectors.tag_names()
    if request.htmx and context["field"]:
        return render(request, "tickets/partials/field_editor.html", context)
    return render(request, "tickets/edit.html", context)


@require_POST
@permission_required("tickets.change_ticket")
def ticket_update(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Change the posted fields (any of status, priority, assignee, team, tags)."""
    ticket = _ticket_or_404(ticket_id)
    form = TicketUpdateForm(request.POST)
    error = ""
    if not form.is_valid():
        error = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
    else:
        posted = form.posted()
        data = form.cleaned_data
        try:
            services.ticket_update(
                ticket=ticket,
                actor=request.user,
                status=data["status"] or None if "status" in posted else None,
                priority=data["priority"] or None if "priority" in posted else None,
                assignee=data["assignee"] if "assignee" in posted else None,
                unassign="assignee" in posted and data["assignee"] is None,
                team=data["team"] if "team" in posted else None,
                clear_team="team" in posted and data["team"] is None,
            )
            if "tags" in posted:
                services.ticket_tags_set(ticket=ticket, actor=request.user, names=form.tag_names())
        except ValidationError as exc:
            error = " ".join(exc.messages)
    if request.htmx:
        return _fields_partial(request, ticket, status=400 if error else 200, error=error)
    if error:
        flash.error(request, error)
    else:
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


# Presence ----------------------------------------------------------------------------------------


@require_POST
@permission_required("tickets.view_ticket")
def ticket_presence(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Heartbeat from an open ticket page; answers who else is there."""
    if not Ticket.objects.filter(pk=ticket_id).exists():
        raise Http404("No such ticket.")
    if request.POST.get("state") == "gone":
        presence.presence_leave(ticket_id=ticket_id, user=request.user)
        return HttpResponse(status=NO_CHANGE)
    presence.presence_beat(ticket_id=ticket_id, user=request.user, state=request.POST.get("state", presence.VIEWING))
    others = presence.presence_others(ticket_id=ticket_id, user=request.user)
    return render(request, "tickets/partials/presence.html", {"others": others})


# Search ------------------------------------------------------------------------------------------


@require_GET
@permission_required("customers.view_customer", "tickets.view_ticket")
@query_params_allowed("q")
def search(request: HttpRequest) -> HttpResponse:
    results = search_everything(query=request.GET.get("q", ""))
    return render(request, "tickets/search.html", {"results": results, "search_query": results.query})
