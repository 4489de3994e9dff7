"""The suggestions panel and agents' verdicts on it (HTML; htmx with a plain-form fallback).

- ``GET /suggestions/customers/<id>/?ticket=<id>``: the panel alone (htmx refresh or lazy load).
- ``POST /suggestions/<suggestion id>/feedback/``: accept, dismiss (with a reason) or snooze.
  With htmx the answer is the refreshed panel (an accepted suggestion's reply text rides along
  and desk.js puts it in the composer); without, a flash message and a redirect to ``next``.
"""

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from customers.models import Customer, SuggestionFeedback
from supportdesk.access import permission_required

from .feedback import Accepted, suggestion_accept, suggestion_dismiss, suggestion_snooze
from .forms import SuggestionFeedbackForm
from .registry import SuggestionRef
from .selectors import suggestion_panel

TEMPLATE = "customers/partials/suggestions.html"
Verdict = SuggestionFeedback.Verdict


MAX_ID = 2**63 - 1


def _int(value) -> int | None:
    """A positive database id from a query or form value, else None (never an overflow)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def _safe_next(request: HttpRequest, value: str | None, customer_id: int) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=False):
        return value
    return reverse("customers:detail", kwargs={"customer_id": customer_id})


def _panel_response(
    request: HttpRequest,
    customer: Customer,
    *,
    ticket_id: int | None,
    next_url: str,
    accepted: Accepted | None = None,
    notice: str = "",
    error: str = "",
) -> HttpResponse:
    panel = suggestion_panel(customer=customer, agent=request.user, ticket_id=ticket_id)
    context = {"suggestions": panel, "next_url": next_url, "accepted": accepted, "notice": notice, "error": error}
    return render(request, TEMPLATE, context)


@require_GET
@permission_required("customers.view_customer")
def suggestions_panel(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=customer_id)
    next_url = _safe_next(request, request.GET.get("next"), customer.pk)
    return _panel_response(request, customer, ticket_id=_int(request.GET.get("ticket")), next_url=next_url)


@require_POST
@permission_required("customers.add_suggestionfeedback")
def suggestion_feedback(request: HttpRequest, token: str) -> HttpResponse:
    try:
        ref = SuggestionRef.from_token(token)
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages))
    customer = get_object_or_404(Customer, pk=ref.customer_id)
    form = SuggestionFeedbackForm(request.POST)
    next_url = _safe_next(request, request.POST.get("next"), customer.pk)
    ticket_id = _int(request.POST.get("ticket"))
    accepted, notice, error = None, "", ""
    if not form.is_valid():
        error = " ".join(" ".join(messages) for messages in form.errors.values())
    else:
        verdict = form.cleaned_data["verdict"]
        try:
            if verdict == Verdict.ACCEPTED:
                accepted = suggestion_accept(ref=ref, agent=request.user, ticket_id=ticket_id)
                notice = f"Accepted: {accepted.suggestion.title}."
            elif verdict == Verdict.DISMISSED:
                suggestion_dismiss(ref=ref, agent=request.user, reason=form.dismiss_reason())
                notice = "Dismissed. It will not come back for this customer for a while."
            else:
                until = form.snooze_until()
                suggestion_snooze(ref=ref, agent=request.user, until=until)
                notice = f"Snoozed until {date_format(timezone.localtime(until), 'j M H:i')}."
        except ValidationError as exc:
            error = " ".join(exc.messages)
    if request.htmx:
        return _panel_response(
            request, customer, ticket_id=ticket_id, next_url=next_url, accepted=accepted, notice=notice, error=error
        )
    if error:
        flash.error(request, error)
    elif accepted is not None and accepted.text:
        flash.success(request, f"{notice} Reply text to use: {accepted.text}")
    else:
        flash.success(request, notice)
    return redirect(next_url)
