"""The inbox's rows and the SLA badge, rendered in Python.

The inbox draws 25 rows of nine cells every few seconds for every agent. Through the template
engine each row costs a thousand small calls (variable lookups, filters, a ``{% url %}``, an
include); here a row is one ``format_html`` call, as Django's admin builds its change-list rows.
The markup is the same as the templates it replaces.
"""

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.timesince import timesince, timeuntil

from supportdesk.templatetags.desk import day, day_time, day_time_short, iso

register = template.Library()


@register.simple_tag
def sla_badge(ticket, now) -> SafeString:
    """Where the ticket stands against its SLA: breached, due soon, paused, on track or none."""
    state, due = getattr(ticket, "sla_state", ""), getattr(ticket, "next_due_at", None)
    if state == "breached":
        return format_html('<span class="sla sla-breached" title="Was due {}">Breached</span>', day_time_short(due))
    if state == "due_soon":
        return format_html(
            '<span class="sla sla-due_soon" title="Due {}">Due in {}</span>',
            day_time_short(due),
            _until(due, now),
        )
    if state == "paused":
        return mark_safe('<span class="sla sla-paused">Paused</span>')
    if due and ticket.is_unsolved:
        return format_html('<span class="sla sla-ok" title="Due {}">On track</span>', day_time_short(due))
    return mark_safe('<span class="meta">—</span>')


def _until(due, now) -> str:
    try:
        return timeuntil(due, now) if due else ""
    except (ValueError, TypeError):
        return ""


def _since(when, now) -> str:
    try:
        return timesince(when, now) if when else ""
    except (ValueError, TypeError):
        return ""


_ROW = (
    '<tr data-ticket="{pk}" class="row-sla-{sla}">'
    '<td><a href="{url}" class="row-link">#{pk} {subject}</a>{tags}</td>'
    "<td>{customer}</td>"
    '<td><span class="channel channel-{channel}">{channel_label}</span></td>'
    '<td><span class="status status-{status}">{status_label}</span></td>'
    '<td><span class="priority priority-{priority}">{priority_label}</span></td>'
    "<td>{badge}</td>"
    "<td>{assignee}{team}</td>"
    '<td><time datetime="{at}" title="{at_title}">{ago} ago</time></td>'
    "</tr>\n"
)


@register.simple_tag
def inbox_rows(tickets, now) -> SafeString:
    """The ``<tr>`` of each ticket on the inbox page (tags prefetched, people selected)."""
    base = reverse("tickets:detail", args=[0])[: -len("0/")]
    rows = []
    for ticket in tickets:
        assignee = ticket.assignee
        if assignee is not None:
            who = format_html("{}", assignee.get_full_name() or assignee.get_username())
        else:
            who = mark_safe('<span class="meta">Unassigned</span>')
        rows.append(
            format_html(
                _ROW,
                pk=ticket.pk,
                sla=getattr(ticket, "sla_state", ""),
                url=f"{base}{ticket.pk}/",
                subject=ticket.subject,
                tags=format_html_join("", ' <span class="tag">{}</span>', ((t.name,) for t in ticket.tags.all())),
                customer=ticket.customer.display_name,
                channel=ticket.channel,
                channel_label=ticket.get_channel_display(),
                status=ticket.status,
                status_label=ticket.get_status_display(),
                priority=ticket.priority,
                priority_label=ticket.get_priority_display(),
                badge=sla_badge(ticket, now),
                assignee=who,
                team=format_html(' <span class="meta">· {}</span>', ticket.team.name) if ticket.team else "",
                at=iso(ticket.last_message_at),
                at_title=day_time(ticket.last_message_at),
                ago=_since(ticket.last_message_at, now),
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 (each row was built by format_html)


_CUSTOMER_RESULT = (
    '<li><a href="{url}">{name}</a>{goes_by}\n'
    '        <span class="meta">· {orders} order{plural}{last}</span>\n'
    '        <br><span class="contacts-inline">{contacts}</span></li>\n'
)
_TICKET_RESULT = (
    '<li><a href="{url}">#{pk} {subject}</a>\n'
    '        <span class="channel channel-{channel}">{channel_label}</span>'
    ' <span class="status status-{status}">{status_label}</span>\n'
    '        <span class="meta">{customer} · {day}</span>\n'
    "        {snippet}</li>\n"
)
_NO_CONTACTS = mark_safe('<span class="meta">No contact points</span>')


@register.simple_tag
def customer_results(customers) -> SafeString:
    """The search page's customer hits (contact points prefetched), as its template had them."""
    base = reverse("customers:detail", args=[0])[: -len("0/")]
    items = []
    for customer in customers:
        points = list(customer.contact_points.all())
        contacts = (
            format_html_join(
                " · ",
                '<span class="channel channel-{}">{}</span> {}',
                ((p.channel, p.get_channel_display(), p.value) for p in points),
            )
            if points
            else _NO_CONTACTS
        )
        items.append(
            format_html(
                _CUSTOMER_RESULT,
                url=f"{base}{customer.pk}/",
                name=customer.display_name,
                goes_by=format_html(' <span class="meta">goes by {}</span>', customer.preferred_name)
                if customer.preferred_name
                else "",
                orders=customer.order_count,
                plural="" if customer.order_count == 1 else "s",
                last=format_html(", last {}", day(customer.last_order_at)) if customer.last_order_at else "",
                contacts=contacts,
            )
        )
    return format_html_join("", "{}", ((item,) for item in items))


@register.simple_tag
def ticket_results(tickets) -> SafeString:
    """The search page's ticket hits (customer selected, ``snippet`` annotated)."""
    base = reverse("tickets:detail", args=[0])[: -len("0/")]
    items = []
    for ticket in tickets:
        snippet = ticket.snippet
        items.append(
            format_html(
                _TICKET_RESULT,
                url=f"{base}{ticket.pk}/",
                pk=ticket.pk,
                subject=ticket.subject,
                channel=ticket.channel,
                channel_label=ticket.get_channel_display(),
                status=ticket.status,
                status_label=ticket.get_status_display(),
                customer=ticket.customer.display_name,
                day=day(ticket.last_message_at),
                snippet=format_html('<p class="snippet">{}</p>', Truncator(snippet).chars(200)) if snippet else "",
            )
        )
    return format_html_join("", "{}", ((item,) for item in items))
