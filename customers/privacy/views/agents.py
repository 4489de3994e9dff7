"""What agents need in a conversation: record a choice the customer stated, and get or send the
customer's preference-centre link."""

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from supportdesk.access import permission_required

from ... import consent
from ...models import ConsentRecord
from ...services import consent_record
from .. import forms
from ..preferences import preference_link_send, preference_url
from ..registry import privacy_registry
from . import RECORD_STATED, customer_or_404, errors_into


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


@require_http_methods(["GET", "POST"])
@permission_required("customers.view_customer", RECORD_STATED)
def agent_decision(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Record a decision the customer stated in a conversation (source "agent")."""
    found = customer_or_404(customer_id)
    states = consent.consent_states(found)
    purposes = [state.purpose for state in states.values()]
    form = forms.AgentDecisionForm(request.POST or None, purposes=purposes)
    recorded = None
    if request.method == "POST" and form.is_valid():
        message_id = form.cleaned_data["message"]
        evidence = form.cleaned_data["evidence"].strip()
        if message_id:
            linked = privacy_registry.evidence_for_message(found, message_id)
            if linked is None:
                form.add_error(None, "That message is not from this customer's conversations.")
            evidence = "; ".join(part for part in (linked, evidence) if part)
        if form.is_valid():
            try:
                recorded = consent_record(
                    customer=found,
                    purpose=form.cleaned_data["purpose"],
                    granted=form.cleaned_data["granted"],
                    source=ConsentRecord.Source.AGENT,
                    actor=request.user,
                    note=form.cleaned_data["note"],
                    evidence=evidence,
                )
            except ValidationError as exc:
                errors_into(form, exc)
    if recorded is not None and not request.htmx:
        flash.success(request, f"Recorded: {recorded.purpose.name} {'granted' if recorded.granted else 'withdrawn'}.")
        return redirect(_safe_next(request, reverse("customers:detail", kwargs={"customer_id": found.pk})))
    if recorded is not None:
        states = consent.consent_states(found)
        form = forms.AgentDecisionForm(purposes=purposes)
    context = {
        "customer": found,
        "consents": states,
        "agent_form": form,
        "recorded": recorded,
        "message": request.POST.get("message") or request.GET.get("message") or "",
        "next": _safe_next(request, ""),
    }
    status = 400 if form.is_bound and form.errors else 200
    template = "privacy/partials/agent_decision.html" if request.htmx else "privacy/agent_decision.html"
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@permission_required("customers.view_customer", RECORD_STATED)
def preference_link(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Show the customer's preference-centre link to copy into a reply; POST emails it."""
    found = customer_or_404(customer_id)
    if found.erased:
        raise Http404("This customer was erased.")
    sent_to, error = "", ""
    if request.method == "POST":
        try:
            sent_to = preference_link_send(customer=found, actor=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    context = {"customer": found, "url": preference_url(customer=found), "sent_to": sent_to, "error": error}
    template = "privacy/partials/preference_link.html" if request.htmx else "privacy/preference_link.html"
    return render(request, template, context, status=400 if error else 200)
