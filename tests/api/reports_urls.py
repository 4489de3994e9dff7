"""The project's URLs with the reports API mounted where ``supportdesk.api.urls`` will mount it
(``path("reports/", include("tickets.dashboards.api"))`` under ``/api/v1/``)."""

from django.urls import include, path

from supportdesk.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("api/v1/reports/", include("tickets.dashboards.api")),
    *project_urlpatterns,
]
