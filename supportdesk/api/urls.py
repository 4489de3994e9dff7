"""``/api/``: the v1 resources, the OpenAPI schema and its interactive docs.

Every unknown path under /api/ answers 404 in the API's error shape.
"""

from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.routers import SimpleRouter

from customers import api as customers_api
from customers.suggestions import api as suggestions_api
from tickets import api as tickets_api

from .docs import ApiDocsView, ApiSchemaView
from .errors import api_not_found

app_name = "api"

router = SimpleRouter(use_regex_path=False)
router.register("customers", customers_api.CustomerViewSet, basename="customer")
router.register("contact-points", customers_api.ContactPointViewSet, basename="contact-point")
router.register("products", customers_api.ProductViewSet, basename="product")
router.register("orders", customers_api.OrderViewSet, basename="order")
router.register("jobs", customers_api.JobViewSet, basename="job")
router.register("tickets", tickets_api.TicketViewSet, basename="ticket")
router.register("csat", tickets_api.CsatAnswerViewSet, basename="csat")

v1 = [
    path(
        "customers/<uuid:public_id>/consents/", customers_api.CustomerConsentsView.as_view(), name="customer-consents"
    ),
    path("events/", customers_api.EventBatchView.as_view(), name="events"),
    path("tickets/<int:ticket_id>/messages/", tickets_api.TicketMessagesView.as_view(), name="ticket-messages"),
    path("customers/merge/", customers_api.CustomerMergeView.as_view(), name="customer-merge"),
    path(
        "customers/<uuid:public_id>/timeline/", customers_api.CustomerTimelineView.as_view(), name="customer-timeline"
    ),
    path("customers/<uuid:public_id>/export/", customers_api.CustomerExportView.as_view(), name="customer-export"),
    path("customers/<uuid:public_id>/erase/", customers_api.CustomerEraseView.as_view(), name="customer-erase"),
    *suggestions_api.api_urls,
    path("reports/", include("tickets.dashboards.api")),
    *router.urls,
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", ApiSchemaView.as_view(), name="schema"),
    path("docs/", ApiDocsView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^[\s\S]*$", csrf_exempt(login_not_required(api_not_found)), name="not_found"),
]
