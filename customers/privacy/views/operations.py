"""Consent imports, retention rules and the audit log (admins)."""

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from supportdesk.access import permission_required

from ...models import Job, RetentionRule
from .. import forms, selectors
from ..audit_log import AuditQuery, audit_csv_lines, audit_details_lines, audit_events, audit_export_record
from ..consent_import import consent_import_start
from ..retention import retention_preview as retention_dry_run
from ..retention import retention_rule_save, retention_run_start
from . import MANAGE, errors_into

AUDIT_PAGE_SIZE = 50


@require_http_methods(["GET", "POST"])
@permission_required(MANAGE, "customers.add_consentrecord")
def imports(request: HttpRequest) -> HttpResponse:
    form = forms.ConsentImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = consent_import_start(data=upload.read(), filename=upload.name, actor=request.user)
        except ValidationError as exc:
            errors_into(form, exc)
        else:
            return redirect("privacy:job", job_id=job.pk)
    context = {"section": "imports", "form": form, "imports": selectors.consent_imports_recent()}
    return render(request, "privacy/imports.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@permission_required(MANAGE)
def retention(request: HttpRequest) -> HttpResponse:
    bound, bound_kind = None, request.POST.get("rule", "")
    if request.method == "POST":
        if bound_kind not in RetentionRule.Kind.values:
            raise Http404("No such retention rule.")
        bound = forms.RETENTION_RULE_FORMS[bound_kind](request.POST, prefix=bound_kind)
        if bound.is_valid():
            try:
                retention_rule_save(
                    kind=bound_kind,
                    actor=request.user,
                    after_days=bound.cleaned_data["after_days"],
                    active=bound.cleaned_data["active"],
                )
            except ValidationError as exc:
                errors_into(bound, exc)
            else:
                flash.success(request, "Retention rule saved.")
                return redirect("privacy:retention")
    rules = []
    for kind, rule in selectors.retention_rules().items():
        if bound is not None and bound_kind == kind:
            form = bound
        else:
            form_class = forms.RETENTION_RULE_FORMS[kind]
            form = form_class(prefix=kind, initial=form_class.initial_for(rule))
        rules.append({"kind": kind, "label": RetentionRule.Kind(kind).label, "rule": rule, "form": form})
    context = {
        "section": "retention",
        "rules": rules,
        "jobs": selectors.privacy_jobs_recent(kinds=[Job.Kind.RETENTION]),
    }
    return render(request, "privacy/retention.html", context, status=400 if bound is not None else 200)


@require_GET
@permission_required(MANAGE)
def retention_preview(request: HttpRequest) -> HttpResponse:
    """The dry run: how much a rule would remove now, and a sample. Changes nothing."""
    form = forms.RetentionPreviewForm(request.GET)
    preview, error = None, ""
    if form.is_valid():
        try:
            preview = retention_dry_run(kind=form.cleaned_data["kind"], after_days=form.cleaned_data["after_days"])
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = " ".join(message for messages in form.errors.values() for message in messages)
    context = {"section": "retention", "form": form, "preview": preview, "error": error}
    template = "privacy/partials/retention_preview.html" if request.htmx else "privacy/retention_preview.html"
    return render(request, template, context, status=400 if error else 200)


@require_POST
@permission_required(MANAGE)
def retention_run(request: HttpRequest) -> HttpResponse:
    job = retention_run_start(actor=request.user)
    flash.success(request, "Retention rules are running now.")
    return redirect("privacy:job", job_id=job.pk)


def _audit_query(form: forms.AuditFilterForm) -> AuditQuery | None:
    if not form.is_valid():
        return None
    return AuditQuery(**form.cleaned_data)


@permission_required(MANAGE)
def audit(request: HttpRequest) -> HttpResponse:
    form = forms.AuditFilterForm(request.GET or None)
    query = _audit_query(form) if form.is_bound else AuditQuery()
    events = audit_events(query=query) if query is not None else audit_events(query=AuditQuery()).none()
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    filters = request.GET.copy()
    filters.pop("page", None)
    context = {
        "section": "audit",
        "form": form if form.is_bound else forms.AuditFilterForm(),
        "page": page,
        "rows": [(event, audit_details_lines(event.details)) for event in page],
        "extra": "&" + filters.urlencode() if filters else "",
        "export_query": filters.urlencode(),
    }
    return render(request, "privacy/audit.html", context, status=200 if query is not None else 400)


@require_GET
@permission_required(MANAGE)
def audit_export(request: HttpRequest) -> HttpResponse:
    form = forms.AuditFilterForm(request.GET or None)
    query = _audit_query(form) if form.is_bound else AuditQuery()
    if query is None:
        flash.error(request, "Fix the filters before exporting.")
        return redirect(f"{reverse('privacy:audit')}?{request.GET.urlencode()}")
    audit_export_record(actor=request.user, query=query)
    response = StreamingHttpResponse(audit_csv_lines(query=query), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{timezone.localdate():%Y-%m-%d}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
