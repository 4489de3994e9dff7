"""The customer's own preference centre: public, behind a signed link."""

import contextlib

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from supportdesk.rate_limits import Rate, rate_limit_hit

from .. import forms
from ..preferences import preference_choices, preference_customer, preference_decide


def _client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


@login_not_required
@require_http_methods(["GET", "POST"])
def preference_centre(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's own page: every purpose in plain words, grant or withdraw each one."""
    wait = rate_limit_hit(
        scope="preferences", key=_client_address(request), rate=Rate.parse(settings.DESK_PREFERENCE_RATE_LIMIT)
    )
    if wait:
        response = render(request, "privacy/preferences/busy.html", {"wait": wait}, status=429)
        response["Retry-After"] = str(wait)
        return response
    found = preference_customer(token=token)
    if found is None:
        return render(request, "privacy/preferences/invalid.html", {}, status=404)
    with translation.override(found.locale):
        saved = ""
        if request.method == "POST":
            form = forms.PreferenceForm(request.POST)
            if form.is_valid():
                # A purpose withdrawn from the page meanwhile is refused; the page below says so.
                with contextlib.suppress(ValidationError):
                    preference_decide(
                        customer=found,
                        purpose=form.cleaned_data["purpose"],
                        granted=form.cleaned_data["granted"],
                        wording_id=form.cleaned_data["wording"],
                    )
                    return redirect(f"{request.path}?saved={form.cleaned_data['purpose']}")
            status = 400
        else:
            status = 200
            saved = request.GET.get("saved", "")
        choices = preference_choices(customer=found)
        context = {
            "customer": found,
            "choices": choices,
            "saved": next((choice for choice in choices if choice.code == saved), None),
            "refused": request.method == "POST",
            "language": found.locale,
        }
        response = render(request, "privacy/preferences/centre.html", context, status=status)
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
