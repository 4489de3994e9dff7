"""The public CSAT survey page, reached by the signed link in the survey message.

No login: the signed token is the key. The page speaks the customer's language.
"""

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from . import csat

RATING_CHOICES = [
    (5, _("5 - Very satisfied")),
    (4, _("4 - Satisfied")),
    (3, _("3 - Neither satisfied nor dissatisfied")),
    (2, _("2 - Dissatisfied")),
    (1, _("1 - Very dissatisfied")),
]


class SurveyForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you with the help you received?"),
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        required=False,
        max_length=csat.COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    found = csat.csat_survey_by_token(token=token)
    if found is None or found.sent_at is None or found.ticket.customer.erased:
        raise Http404("No such survey.")
    customer = found.ticket.customer
    with translation.override(customer.locale):
        context = {"survey": found, "language": customer.locale}
        if found.answered_at is not None:
            return render(request, "tickets/csat/thanks.html", context)
        if not csat.csat_is_open(survey=found, now=timezone.now()):
            return render(request, "tickets/csat/expired.html", context, status=410)
        form = SurveyForm(request.POST or None, initial={"rating": request.GET.get("rating")})
        if request.method == "POST" and form.is_valid():
            try:
                csat.csat_survey_answer(
                    survey=found, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("csat_survey", token=token)
        status = 400 if form.is_bound else 200
        return render(request, "tickets/csat/survey.html", {**context, "form": form}, status=status)
