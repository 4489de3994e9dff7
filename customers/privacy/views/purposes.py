"""Purposes and their wording versions, and the privacy overview (admins)."""

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from supportdesk.access import permission_required

from ...models import ConsentPurpose
from .. import forms, selectors
from ..purposes import consent_purpose_create, consent_purpose_update
from . import MANAGE, errors_into


@permission_required(MANAGE)
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "privacy/index.html",
        {
            "section": "overview",
            "purposes": selectors.purposes_with_versions(),
            "jobs": selectors.privacy_jobs_recent(limit=10),
            "rules": selectors.retention_summary(),
            "search_form": forms.CustomerSearchForm(),
        },
    )


@permission_required(MANAGE)
def purposes(request: HttpRequest) -> HttpResponse:
    return render(
        request, "privacy/purposes.html", {"section": "purposes", "purposes": selectors.purposes_with_versions()}
    )


@require_http_methods(["GET", "POST"])
@permission_required(MANAGE)
def purpose_create(request: HttpRequest) -> HttpResponse:
    form = forms.PurposeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            purpose = consent_purpose_create(
                code=form.cleaned_data["code"], actor=request.user, **form.service_kwargs()
            )
        except ValidationError as exc:
            errors_into(form, exc)
        else:
            flash.success(request, f"Purpose “{purpose.name}” created.")
            return redirect("privacy:purpose_edit", purpose_id=purpose.pk)
    status = 400 if form.is_bound else 200
    return render(request, "privacy/purpose_form.html", {"section": "purposes", "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@permission_required(MANAGE)
def purpose_edit(request: HttpRequest, purpose_id: int) -> HttpResponse:
    try:
        purpose = selectors.purpose_get(purpose_id=purpose_id)
    except ConsentPurpose.DoesNotExist:
        raise Http404("No such purpose.") from None
    form = forms.PurposeForm(request.POST or None, initial=forms.PurposeForm.initial_for(purpose), editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            consent_purpose_update(purpose=purpose, actor=request.user, **form.service_kwargs())
        except ValidationError as exc:
            errors_into(form, exc)
        else:
            flash.success(request, f"Purpose “{form.cleaned_data['name']}” saved.")
            return redirect("privacy:purpose_edit", purpose_id=purpose.pk)
    status = 400 if form.is_bound else 200
    context = {"section": "purposes", "form": form, "purpose": purpose}
    return render(request, "privacy/purpose_form.html", context, status=status)
