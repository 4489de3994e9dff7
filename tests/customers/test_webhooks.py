"""/webhooks/orders/: Shopify-shaped order and refund payloads, signed, idempotent, atomic."""

import copy
import json
import time
from decimal import Decimal

import pytest

from customers.models import Customer, Order, Product, Refund
from supportdesk.models import WebhookDelivery
from supportdesk.webhook_signatures import signature_headers

pytestmark = pytest.mark.django_db

SECRET = "orders-test-secret"
URL = "/webhooks/orders/"

ORDER = {
    "id": 820982911946154508,
    "order_number": 1001,
    "name": "#1001",
    "email": "maria@example.com",
    "created_at": "2026-10-01T10:00:00+02:00",
    "currency": "EUR",
    "total_price": "89.90",
    "financial_status": "paid",
    "fulfillment_status": None,
    "estimated_delivery_at": "2026-10-05",
    "customer": {
        "id": 115310627314723954,
        "email": "Maria@Example.com",
        "first_name": "Maria",
        "last_name": "Lopez",
        "phone": "+34600111222",
    },
    "line_items": [
        {"id": 1, "product_id": 632910392, "sku": "WB-39", "title": "Walking boots", "quantity": 1, "price": "79.90"},
        {"id": 2, "product_id": 632910393, "sku": "SK-1", "title": "Socks", "quantity": 2, "price": "5.00"},
    ],
    "fulfillments": [],
    "refunds": [],
}


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.DESK_WEBHOOK_SECRETS = {"orders": SECRET, "email": "e", "chat": "c"}


def _post(client, payload, *, secret=SECRET, delivery="", timestamp=None, raw=None, **headers):
    body = raw if raw is not None else json.dumps(payload).encode()
    signed = signature_headers(secret=secret, body=body, delivery_id=delivery, timestamp=timestamp)
    return client.post(URL, data=body, content_type="application/json", headers={**signed, **headers})


class TestOrders:
    def test_an_order_creates_customer_products_and_order(self, client):
        response = _post(client, ORDER, delivery="d-1")

        assert response.status_code == 200, response.content
        assert response.json()["kind"] == "order"
        order = Order.objects.get(source="store", external_id="820982911946154508")
        assert (order.number, order.total, order.status) == ("1001", Decimal("89.90"), "paid")
        assert str(order.promised_delivery) == "2026-10-05"
        assert [line.product.name for line in order.lines.order_by("position")] == ["Walking boots", "Socks"]
        assert Product.objects.count() == 2
        customer = order.customer
        assert (customer.first_name, customer.last_name) == ("Maria", "Lopez")
        assert set(customer.contact_points.values_list("value", flat=True)) == {"maria@example.com", "+34600111222"}

    def test_a_replayed_delivery_answers_the_original_result_and_changes_nothing(self, client):
        first = _post(client, ORDER, delivery="d-1")
        updated = Order.objects.get().updated_at

        again = _post(client, ORDER, delivery="d-1")

        assert again.status_code == 200 and again.json() == first.json()
        assert again["X-Desk-Replay"] == "true"
        assert Order.objects.get().updated_at == updated
        assert WebhookDelivery.objects.count() == 1

    def test_without_a_delivery_id_the_body_hash_deduplicates(self, client):
        _post(client, ORDER)
        again = _post(client, ORDER)

        assert again["X-Desk-Replay"] == "true"
        assert WebhookDelivery.objects.get().delivery_id.startswith("sha256:")

    def test_the_same_order_in_a_new_delivery_is_idempotent(self, client):
        _post(client, ORDER, delivery="d-1")

        second = _post(client, ORDER, delivery="d-2")

        assert second.json()["changed"] is False
        assert Order.objects.count() == 1 and Customer.objects.count() == 1

    def test_an_update_ships_the_order_and_a_refund_completes(self, client):
        _post(client, ORDER, delivery="d-1")
        shipped = copy.deepcopy(ORDER)
        shipped["fulfillment_status"] = "fulfilled"
        shipped["fulfillments"] = [
            {
                "created_at": "2026-10-02T09:00:00Z",
                "tracking_company": "DHL",
                "tracking_number": "JD0001",
                "tracking_url": "https://track.example/JD0001",
                "shipment_status": "in_transit",
            }
        ]
        shipped["refunds"] = [
            {
                "id": 509562969,
                "created_at": "2026-10-03T10:00:00Z",
                "note": "Socks too small",
                "transactions": [{"amount": "10.00", "kind": "refund", "status": "success"}],
            }
        ]

        _post(client, shipped, delivery="d-2")

        order = Order.objects.get()
        assert (order.status, order.carrier, order.tracking_number) == ("shipped", "DHL", "JD0001")
        refund = Refund.objects.get()
        assert (refund.amount, refund.status, refund.reason) == (Decimal("10.00"), "completed", "Socks too small")
        assert order.customer.lifetime_value == Decimal("79.90")

    @pytest.mark.parametrize(
        ("changes", "state"),
        [
            ({"cancelled_at": "2026-10-02T00:00:00Z"}, "cancelled"),
            ({"financial_status": "refunded"}, "refunded"),
            ({"financial_status": "pending"}, "pending"),
            ({"fulfillments": [{"shipment_status": "delivered", "created_at": "2026-10-02T00:00:00Z"}]}, "delivered"),
        ],
    )
    def test_store_states_map_to_order_status(self, client, changes, state):
        _post(client, {**ORDER, **changes})

        assert Order.objects.get().status == state

    def test_a_separate_refund_payload_refunds_a_known_order(self, client):
        _post(client, ORDER, delivery="d-1")
        refund = {
            "id": 777,
            "order_id": 820982911946154508,
            "created_at": "2026-10-03T10:00:00Z",
            "note": "Damaged",
            "transactions": [{"amount": "89.90", "kind": "refund", "status": "success"}],
        }

        response = _post(client, refund, delivery="r-1")

        assert response.json()["kind"] == "refund"
        assert Refund.objects.get(external_id="777").order == Order.objects.get()

    def test_a_refund_for_an_unknown_order_is_a_400(self, client):
        response = _post(client, {"id": 1, "order_id": 42, "transactions": []})

        assert response.status_code == 400
        assert "order_id" in response.json()["error"]["fields"]

    def test_source_header_keeps_stores_apart(self, client):
        _post(client, ORDER, delivery="a", **{"X-Desk-Source": "shop-eu"})
        _post(client, ORDER, delivery="b", **{"X-Desk-Source": "shop-us"})

        assert set(Order.objects.values_list("source", flat=True)) == {"shop-eu", "shop-us"}
        assert Customer.objects.count() == 1


class TestRefusals:
    def test_a_bad_signature_is_401_and_stores_nothing(self, client):
        response = _post(client, ORDER, secret="wrong")

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "bad_signature"
        assert not Order.objects.exists() and not WebhookDelivery.objects.exists()

    def test_a_missing_signature_is_401(self, client):
        response = client.post(URL, data=json.dumps(ORDER), content_type="application/json")

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "signature_missing"

    def test_an_old_timestamp_is_refused(self, client):
        response = _post(client, ORDER, timestamp=int(time.time()) - 3600)

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "timestamp_out_of_range"

    def test_without_a_configured_secret_everything_is_refused(self, client, settings):
        settings.DESK_WEBHOOK_SECRETS = {}

        response = _post(client, ORDER)

        assert response.status_code == 401 and response.json()["error"]["code"] == "not_configured"

    @pytest.mark.parametrize(
        ("raw", "field"),
        [
            (b"{not json", None),
            (json.dumps([1, 2]).encode(), None),
            (json.dumps({**ORDER, "total_price": "lots"}).encode(), "total_price"),
            (json.dumps({**ORDER, "created_at": "yesterday"}).encode(), "created_at"),
            (json.dumps({**ORDER, "line_items": [{"title": "X", "quantity": 0}]}).encode(), "line_items[0].quantity"),
            (json.dumps({**ORDER, "customer": {}, "email": None}).encode(), "customer.email"),
            (json.dumps({"hello": "world"}).encode(), None),
        ],
    )
    def test_a_malformed_body_is_a_400_with_the_reason(self, client, raw, field):
        response = _post(client, None, raw=raw)

        assert response.status_code == 400
        error = response.json()["error"]
        assert error["message"]
        if field:
            assert field in error["fields"]
        assert not Order.objects.exists() and not WebhookDelivery.objects.exists()

    def test_a_failing_delivery_is_all_or_nothing(self, client):
        bad = copy.deepcopy(ORDER)
        bad["refunds"] = [{"id": 5, "transactions": [{"amount": "-3", "status": "success"}]}]

        response = _post(client, bad)

        assert response.status_code == 400
        assert not Customer.objects.exists() and not Order.objects.exists() and not Product.objects.exists()

    def test_get_is_not_allowed(self, client):
        assert client.get(URL).status_code == 405
