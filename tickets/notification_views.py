"""The desk's notifications page and the unread badge in the navigation. Thin: call the
selectors and the service in ``tickets.notifications``, render."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from supportdesk.access import permission_required

from .notifications import KIND_LABELS, notifications_for, notifications_mark_read, notifications_unread_count

PAGE_SIZE = 50


@permission_required("tickets.view_ticket")
def notifications(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications_for(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(item, KIND_LABELS.get(item.kind, item.kind)) for item in page]
    unread = notifications_unread_count(user=request.user)
    context = {"page": page, "rows": rows, "unread": unread}
    return render(request, "tickets/notifications/index.html", context)


@permission_required("tickets.view_ticket")
def badge(request: HttpRequest) -> HttpResponse:
    """The unread count for the navigation (loaded by htmx, so pages pay no query for it)."""
    unread = notifications_unread_count(user=request.user)
    return render(request, "tickets/notifications/badge.html", {"unread": unread})


@require_POST
@permission_required("tickets.view_ticket")
def mark_read(request: HttpRequest) -> HttpResponse:
    notifications_mark_read(user=request.user)
    return HttpResponseRedirect(reverse("notifications"))
