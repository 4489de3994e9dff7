"""A customer's consent, ledger, export, erasure and legal hold, and privacy jobs (admins)."""

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from supportdesk.access import permission_required

from ...models import ConsentPurpose, ConsentRecord, Customer, Job
from ...services import consent_record, profile_view_record
from .. import forms, selectors
from ..erasure import customer_erase_start, customer_legal_hold_set
from ..export import ExportUnavailable, customer_export_open, customer_export_start
from . import ERASE, EXPORT, MANAGE, customer_or_404, errors_into

# The privacy tab a job of no customer belongs to.
JOB_SECTIONS = {Job.Kind.IMPORT: "imports", Job.Kind.RETENTION: "retention"}


@permission_required(MANAGE)
def customers(request: HttpRequest) -> HttpResponse:
    form = forms.CustomerSearchForm(request.GET or None)
    found = selectors.customers_find(query=form.cleaned_data["q"]) if form.is_valid() else []
    return render(request, "privacy/customers.html", {"section": "customers", "form": form, "found": found})


def _customer_page(request: HttpRequest, customer: Customer, status: int = 200, **forms_in_error) -> HttpResponse:
    overview = selectors.customer_privacy(customer=customer, page=request.GET.get("page"))
    purposes = [state.purpose for state in overview.states.values()]
    context = {
        "section": "customers",
        "overview": overview,
        "decision_form": forms.DecisionForm(purposes=purposes, prefix="decision"),
        "export_form": forms.ExportForm(prefix="export"),
        "erasure_form": forms.ErasureForm(requester_pk=request.user.pk, prefix="erase"),
        "hold_form": forms.LegalHoldForm(prefix="hold", initial={"hold": "0" if customer.legal_hold else "1"}),
        "can_export": request.user.has_perm(EXPORT),
        "can_erase": request.user.has_perm(ERASE),
        **forms_in_error,
    }
    return render(request, "privacy/customer.html", context, status=status)


@permission_required(MANAGE)
def customer(request: HttpRequest, customer_id: int) -> HttpResponse:
    found = customer_or_404(customer_id)
    profile_view_record(customer=found, actor=request.user)
    return _customer_page(request, found)


@require_POST
@permission_required(MANAGE, "customers.add_consentrecord")
def decision_record(request: HttpRequest, customer_id: int) -> HttpResponse:
    found = customer_or_404(customer_id)
    purposes = ConsentPurpose.objects.filter(active=True)
    form = forms.DecisionForm(request.POST, purposes=purposes, prefix="decision")
    if form.is_valid():
        try:
            consent_record(
                customer=found,
                purpose=form.cleaned_data["purpose"],
                granted=form.cleaned_data["granted"],
                source=ConsentRecord.Source.ADMIN,
                actor=request.user,
                note=form.cleaned_data["note"],
                evidence=form.cleaned_data["evidence"],
            )
        except ValidationError as exc:
            errors_into(form, exc)
        else:
            flash.success(request, "Decision recorded.")
            return redirect("privacy:customer", customer_id=found.pk)
    return _customer_page(request, found, status=400, decision_form=form)


@require_POST
@permission_required(MANAGE, EXPORT)
def export_start(request: HttpRequest, customer_id: int) -> HttpResponse:
    found = customer_or_404(customer_id)
    form = forms.ExportForm(request.POST, prefix="export")
    if not form.is_valid():
        return _customer_page(request, found, status=400, export_form=form)
    job = customer_export_start(customer=found, actor=request.user, reason=form.cleaned_data["reason"])
    flash.success(request, "Export started. It stays downloadable for a limited time once ready.")
    return redirect("privacy:job", job_id=job.pk)


@require_POST
@permission_required(MANAGE, ERASE)
def erase_start(request: HttpRequest, customer_id: int) -> HttpResponse:
    found = customer_or_404(customer_id)
    form = forms.ErasureForm(request.POST, requester_pk=request.user.pk, prefix="erase")
    if form.is_valid():
        try:
            job = customer_erase_start(
                customer=found,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                approved_by=form.cleaned_data["approved_by"],
            )
        except ValidationError as exc:
            errors_into(form, exc)
        else:
            flash.success(request, "Erasure started.")
            return redirect("privacy:job", job_id=job.pk)
    return _customer_page(request, found, status=400, erasure_form=form)


@require_POST
@permission_required(MANAGE, ERASE)
def legal_hold(request: HttpRequest, customer_id: int) -> HttpResponse:
    found = customer_or_404(customer_id)
    form = forms.LegalHoldForm(request.POST, prefix="hold")
    if form.is_valid():
        try:
            customer_legal_hold_set(
                customer=found, actor=request.user, hold=form.cleaned_data["hold"], reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            errors_into(form, exc)
        else:
            flash.success(request, "Legal hold placed." if form.cleaned_data["hold"] else "Legal hold lifted.")
            return redirect("privacy:customer", customer_id=found.pk)
    return _customer_page(request, found, status=400, hold_form=form)


@permission_required(MANAGE)
def job(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        found = selectors.job_get(job_id=job_id)
    except Job.DoesNotExist:
        raise Http404("No such job.") from None
    context = {
        "section": "customers" if found.customer_id else JOB_SECTIONS.get(found.kind, "overview"),
        "job": found,
        "counts": selectors.job_counts(job=found),
        "expired": bool(found.expires_at and found.expires_at <= timezone.now()),
        "can_download": request.user.has_perm(EXPORT),
    }
    template = "privacy/partials/job_status.html" if request.htmx else "privacy/job.html"
    return render(request, template, context)


@require_GET
@permission_required(MANAGE, EXPORT)
def job_download(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        found = selectors.job_get(job_id=job_id)
    except Job.DoesNotExist:
        raise Http404("No such job.") from None
    try:
        handle, filename = customer_export_open(job=found, actor=request.user)
    except ExportUnavailable as exc:
        context = {"section": "customers", "job": found, "message": str(exc)}
        return render(request, "privacy/job_unavailable.html", context, status=410 if exc.gone else 409)
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type="application/json")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
