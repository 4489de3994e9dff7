"""The OpenAPI schema and Swagger UI, served from drf-spectacular-sidecar (no CDN).

Both are public: the schema describes the API, it holds no data. The docs page keeps the
desk's ``script-src 'self'`` (the init script is a separate same-origin file, not inline) and
relaxes ``style-src`` for this page only, because Swagger UI sets inline style attributes.
"""

from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from .base import DeskApiMixin


class ApiSchemaView(DeskApiMixin, SpectacularAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    filter_backends: list = []


@method_decorator(csp_update({"style-src": ["'unsafe-inline'"]}), name="dispatch")
class ApiDocsView(DeskApiMixin, SpectacularSwaggerSplitView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    filter_backends: list = []
    template_name = "api/swagger_ui.html"
