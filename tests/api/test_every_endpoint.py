"""One table, every operation of the OpenAPI schema: the happy path, bad input named by its field,
a read key on a write (403), no credentials (401). An operation added to the schema without a
row here fails ``test_the_table_covers_every_operation_in_the_schema``.

Reads whose only input is the path (a retrieve) have no bad input to name: an unknown or
malformed id answers 404 in the error shape, which the last test checks for each of them.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from customers.models import Channel, Job, Order
from customers.services import consent_record
from tests.api.conftest import error_of
from tests.factories import (
    ContactPointFactory,
    CSATSurveyFactory,
    CustomerFactory,
    MessageFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

MISSING_UUID = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Row:
    operation: str  # the schema's operationId
    method: str
    url: str  # formatted with the world below
    happy: object = None  # body (writes) or query (reads)
    status: int = 200
    bad: object = None  # body or query that is wrong in exactly one named field
    field: str = ""
    missing_url: str = ""  # for a retrieve: the same URL with an unknown id


def _order(world: dict) -> dict:
    return {
        "source": "shop",
        "external_id": "A-1",
        "number": "1001",
        "customer": world["customer"],
        "total": "89.90",
        "placed_at": "2026-10-01T10:00:00Z",
        "lines": [{"name": "Boots", "quantity": 1, "unit_price": "79.90"}],
    }


REPORT = {"from": "2026-03-01", "to": "2026-03-31"}
ROWS = [
    Row("contact_points_list", "get", "/api/v1/contact-points/", {"channel": "email"}, 200, {"channel": "fax"},
        "channel"),
    Row("contact_points_create", "post", "/api/v1/contact-points/",
        {"customer": "{customer}", "channel": "social", "value": "instagram:@maria.l"}, 201,
        {"customer": "{customer}", "channel": "social", "value": "no handle"}, "value"),
    Row("csat_list", "get", "/api/v1/csat/", {"rating": "4"}, 200, {"rating": "9"}, "rating"),
    Row("csat_retrieve", "get", "/api/v1/csat/{survey}/", missing_url="/api/v1/csat/999999/"),
    Row("customers_list", "get", "/api/v1/customers/", {"email": "maria@example.com"}, 200,
        {"ordering": "assignee__password"}, "ordering"),
    Row("customers_create", "post", "/api/v1/customers/", {"first_name": "Ana", "email": "ana@example.com"}, 201,
        {"first_name": "Ana", "email": "not-an-address"}, "email"),
    Row("customers_retrieve", "get", "/api/v1/customers/{customer}/", missing_url=f"/api/v1/customers/{MISSING_UUID}/"),
    Row("customers_partial_update", "patch", "/api/v1/customers/{customer}/", {"preferred_name": "Mari"}, 200,
        {"timezone": "Mars/Olympus"}, "timezone"),
    Row("customers_consents_retrieve", "get", "/api/v1/customers/{customer}/consents/",
        missing_url=f"/api/v1/customers/{MISSING_UUID}/consents/"),
    Row("customers_consents_create", "post", "/api/v1/customers/{customer}/consents/",
        {"purpose": "marketing", "granted": True, "note": "Checkout"}, 201,
        {"purpose": "astrology", "granted": True}, "purpose"),
    Row("customers_erase_create", "post", "/api/v1/customers/{customer}/erase/", {"reason": "GDPR request"}, 202,
        {"reason": ""}, "reason"),
    Row("customers_export_create", "post", "/api/v1/customers/{customer}/export/", {"reason": "Customer asked"}, 202,
        {"reason": "x" * 2001}, "reason"),
    Row("customers_suggestions_retrieve", "get", "/api/v1/customers/{customer}/suggestions/", {"limit": "3"}, 200,
        {"colour": "red"}, "colour"),
    Row("customers_timeline_retrieve", "get", "/api/v1/customers/{customer}/timeline/", {"page_size": "5"}, 200,
        {"page_size": "0"}, "page_size"),
    Row("customers_merge_create", "post", "/api/v1/customers/merge/",
        {"survivor": "{customer}", "merged": "{duplicate}", "reason": "Same person"}, 200,
        {"survivor": "{customer}", "merged": MISSING_UUID, "reason": "Same person"}, "merged"),
    Row("events_create", "post", "/api/v1/events/", [{"email": "maria@example.com", "kind": "page_view"}], 200,
        [{"email": "maria@example.com", "kind": "teleport"}], "[0].kind"),
    Row("jobs_retrieve", "get", "/api/v1/jobs/{job}/", missing_url="/api/v1/jobs/999999/"),
    Row("orders_list", "get", "/api/v1/orders/", {"status": "paid"}, 200, {"status": "lost"}, "status"),
    Row("orders_create", "post", "/api/v1/orders/", "order", 201, "order-bad", "total"),
    Row("orders_retrieve", "get", "/api/v1/orders/{order}/", missing_url="/api/v1/orders/999999/"),
    Row("products_list", "get", "/api/v1/products/", {"active": "true"}, 200, {"active": "maybe"}, "active"),
    Row("products_create", "post", "/api/v1/products/",
        {"source": "shop", "external_id": "P-9", "name": "Boots", "price": "79.90"}, 201,
        {"source": "shop", "external_id": "P-9", "name": "Boots", "price": "cheap"}, "price"),
    Row("products_retrieve", "get", "/api/v1/products/{product}/", missing_url="/api/v1/products/999999/"),
    Row("reports_csat_retrieve", "get", "/api/v1/reports/csat/", REPORT, 200, {**REPORT, "group_by": "moon"},
        "group_by"),
    Row("reports_service_retrieve", "get", "/api/v1/reports/service/", REPORT, 200, {"from": "2026-03-01"}, "to"),
    Row("reports_suggestions_retrieve", "get", "/api/v1/reports/suggestions/", REPORT, 200,
        {"from": "yesterday", "to": "2026-03-31"}, "from"),
    Row("suggestions_feedback_create", "post", "/api/v1/suggestions/{suggestion}/feedback/", {"verdict": "accepted"},
        201, {"verdict": "dismissed"}, "reason"),
    Row("tickets_list", "get", "/api/v1/tickets/", {"unsolved": "true", "ordering": "-last_message_at"}, 200,
        {"assignee__password": "x"}, "assignee__password"),
    Row("tickets_create", "post", "/api/v1/tickets/",
        {"channel": "web", "sender": "maria@example.com", "subject": "Wrong size", "body": "Size 41 arrived."}, 201,
        {"channel": "pigeon", "sender": "maria@example.com", "body": "Hello"}, "channel"),
    Row("tickets_retrieve", "get", "/api/v1/tickets/{ticket}/", missing_url="/api/v1/tickets/999999/"),
    Row("tickets_messages_list", "get", "/api/v1/tickets/{ticket}/messages/", {"page_size": "10"}, 200,
        {"colour": "red"}, "colour"),
    Row("tickets_messages_create", "post", "/api/v1/tickets/{ticket}/messages/",
        {"body": "Your exchange is on its way.", "author": "agent"}, 201, {"body": "", "author": "agent"}, "body"),
]  # fmt: skip
BY_OPERATION = {row.operation: row for row in ROWS}
WRITES = [row for row in ROWS if row.method != "get"]


@pytest.fixture
def world(agent) -> dict:
    """One of everything an operation needs, as the strings that go into URLs and bodies."""
    cache.clear()  # suggestions are cached per customer
    customer = CustomerFactory(first_name="Maria", churn_risk=0.9, churn_factors={})
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
    consent_record(customer=customer, purpose="behavioral_tracking", granted=True, source="customer")
    duplicate = CustomerFactory(first_name="Maria")
    order = OrderFactory(
        customer=customer, status=Order.Status.PAID, promised_delivery=timezone.localdate() - timedelta(days=2)
    )
    OrderLineFactory(order=order)
    ticket = TicketFactory(customer=customer)
    MessageFactory(ticket=ticket)
    survey = CSATSurveyFactory(ticket=ticket, agent=agent, rating=4, answered_at=timezone.now())
    job = Job.objects.create(kind=Job.Kind.CUSTOMER_EXPORT, customer=customer)
    return {
        "customer": str(customer.public_id),
        "duplicate": str(duplicate.public_id),
        "order": order.pk,
        "product": ProductFactory().pk,
        "ticket": ticket.pk,
        "survey": survey.pk,
        "job": job.pk,
    }


def _fill(value, world: dict):
    if value == "order":
        return _order(world)
    if value == "order-bad":
        return {**_order(world), "total": "a lot"}
    if isinstance(value, str):
        return value.format(**world)
    if isinstance(value, dict):
        return {key: _fill(item, world) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, world) for item in value]
    return value


def _call(client, row: Row, world: dict, payload):
    url = _fill(row.url, world)
    if row.method == "get":
        return client.get(url, _fill(payload, world) or {})
    return getattr(client, row.method)(url, _fill(payload, world), format="json")


@pytest.fixture
def with_suggestion(world, read_api) -> dict:
    """The world plus the id of one of the customer's current suggestions."""
    listed = read_api.get(f"/api/v1/customers/{world['customer']}/suggestions/").json()["results"]
    assert listed, "the world should hold a customer with a suggestion (a late order)"
    return {**world, "suggestion": listed[0]["id"]}


def test_the_table_covers_every_operation_in_the_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operations = {
        operation["operationId"]
        for path in schema["paths"].values()
        for method, operation in path.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }

    assert operations == set(BY_OPERATION)


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.operation)
def test_the_happy_path(api, with_suggestion, row):
    response = _call(api, row, with_suggestion, row.happy)

    assert response.status_code == row.status, response.content
    assert set(response.json()) != {"error"}


@pytest.mark.parametrize("row", [row for row in ROWS if row.bad is not None], ids=lambda row: row.operation)
def test_bad_input_is_a_400_naming_the_field(api, with_suggestion, row):
    response = _call(api, row, with_suggestion, row.bad)

    assert response.status_code == 400, response.content
    error = error_of(response)
    assert row.field in error["fields"], error
    assert row.field in error["message"] or error["message"]


@pytest.mark.parametrize("row", WRITES, ids=lambda row: row.operation)
def test_a_read_key_may_not_write(read_api, with_suggestion, row):
    response = _call(read_api, row, with_suggestion, row.happy)

    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"


@pytest.mark.parametrize("row", [row for row in ROWS if row.method == "get"], ids=lambda row: row.operation)
def test_a_read_key_may_read(read_api, with_suggestion, row):
    assert _call(read_api, row, with_suggestion, row.happy).status_code == 200


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.operation)
def test_without_credentials_the_answer_is_401(anon_api, with_suggestion, row):
    response = _call(anon_api, row, with_suggestion, row.happy)

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


@pytest.mark.parametrize("row", [row for row in ROWS if row.missing_url], ids=lambda row: row.operation)
def test_an_unknown_id_is_a_404_in_the_error_shape(api, world, row):
    response = api.get(row.missing_url)

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
