"""Privacy pages, mounted at /privacy/ (namespace ``privacy``). The public preference centre
is mounted separately, at /preferences/<token>/ (``preference_centre``)."""

from django.urls import path

from .views import agents, customers, operations, purposes

app_name = "privacy"
urlpatterns = [
    path("", purposes.index, name="index"),
    path("purposes/", purposes.purposes, name="purposes"),
    path("purposes/new/", purposes.purpose_create, name="purpose_create"),
    path("purposes/<int:purpose_id>/", purposes.purpose_edit, name="purpose_edit"),
    path("customers/", customers.customers, name="customers"),
    path("customers/<int:customer_id>/", customers.customer, name="customer"),
    path("customers/<int:customer_id>/decisions/", customers.decision_record, name="decision_record"),
    path("customers/<int:customer_id>/stated/", agents.agent_decision, name="agent_decision"),
    path("customers/<int:customer_id>/preference-link/", agents.preference_link, name="preference_link"),
    path("customers/<int:customer_id>/export/", customers.export_start, name="export_start"),
    path("customers/<int:customer_id>/erase/", customers.erase_start, name="erase_start"),
    path("customers/<int:customer_id>/legal-hold/", customers.legal_hold, name="legal_hold"),
    path("jobs/<int:job_id>/", customers.job, name="job"),
    path("jobs/<int:job_id>/download/", customers.job_download, name="job_download"),
    path("imports/", operations.imports, name="imports"),
    path("retention/", operations.retention, name="retention"),
    path("retention/preview/", operations.retention_preview, name="retention_preview"),
    path("retention/run/", operations.retention_run, name="retention_run"),
    path("audit/", operations.audit, name="audit"),
    path("audit/export/", operations.audit_export, name="audit_export"),
]
