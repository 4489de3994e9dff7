"""/api/v1/products/, /api/v1/orders/, /api/v1/events/ and /api/v1/jobs/."""

from decimal import Decimal

import pytest

from customers.models import ConsentPurpose, Customer, Event, Job, Order, Product, Refund
from customers.services import consent_record
from tests.api.conftest import error_of
from tests.factories import ContactPointFactory, CustomerFactory, EventFactory

pytestmark = pytest.mark.django_db


def _order_body(buyer: Customer, **extra) -> dict:
    body = {
        "source": "shop",
        "external_id": "A-1001",
        "number": "#1001",
        "customer": str(buyer.public_id),
        "status": "paid",
        "currency": "eur",
        "total": "89.90",
        "placed_at": "2026-10-01T10:00:00Z",
        "promised_delivery": "2026-10-05",
        "lines": [
            {
                "name": "Walking boots",
                "sku": "WB-42",
                "quantity": 1,
                "unit_price": "79.90",
                "product_external_id": "P1",
            },
            {"name": "Socks", "quantity": 2, "unit_price": "5.00"},
        ],
        "refunds": [],
    }
    body.update(extra)
    return body


class TestProducts:
    def test_upsert_creates_then_updates(self, api):
        body = {"source": "shop", "external_id": "P1", "name": "Walking boots", "price": "79.90", "sku": "WB-42"}

        created = api.post("/api/v1/products/", body, format="json")
        updated = api.post("/api/v1/products/", {**body, "price": "69.90"}, format="json")

        assert (created.status_code, updated.status_code) == (201, 200)
        assert Product.objects.get().price == Decimal("69.90")
        assert api.get("/api/v1/products/", {"sku": "WB-42"}).json()["results"][0]["price"] == "69.90"

    @pytest.mark.parametrize(("patch", "field"), [({"price": "-1"}, "price"), ({"name": ""}, "name")])
    def test_bad_input_names_the_field(self, api, patch, field):
        body = {"source": "shop", "external_id": "P1", "name": "Boots", **patch}

        response = api.post("/api/v1/products/", body, format="json")

        assert response.status_code == 400
        assert field in error_of(response)["fields"]


class TestOrders:
    def test_upsert_stores_lines_and_links_known_products(self, api):
        customer = CustomerFactory()
        Product.objects.create(source="shop", external_id="P1", name="Walking boots")

        response = api.post("/api/v1/orders/", _order_body(customer), format="json")

        assert response.status_code == 201
        body = response.json()
        assert body["number"] == "1001" and body["currency"] == "EUR"
        assert [line["product_external_id"] for line in body["lines"]] == ["P1", ""]
        customer.refresh_from_db()
        assert customer.order_count == 1 and customer.lifetime_value == Decimal("89.90")

    def test_the_same_order_again_is_200_and_changes_nothing(self, api):
        customer = CustomerFactory()
        api.post("/api/v1/orders/", _order_body(customer), format="json")
        before = Order.objects.get().updated_at

        again = api.post("/api/v1/orders/", _order_body(customer), format="json")

        assert again.status_code == 200
        assert Order.objects.get().updated_at == before
        assert Order.objects.count() == 1

    def test_a_status_change_and_a_refund_update_the_order(self, api):
        customer = CustomerFactory()
        api.post("/api/v1/orders/", _order_body(customer), format="json")
        refund = {"external_id": "R1", "amount": "10.00", "status": "completed", "reason": "Socks too small"}

        response = api.post(
            "/api/v1/orders/",
            _order_body(customer, status="delivered", delivered_at="2026-10-04T12:00:00Z", refunds=[refund]),
            format="json",
        )

        assert response.status_code == 200
        assert response.json()["status"] == "delivered"
        assert response.json()["refunds"][0]["external_id"] == "R1"
        assert Refund.objects.get().status == "completed"
        customer.refresh_from_db()
        assert customer.lifetime_value == Decimal("79.90")

    def test_an_order_by_customer_email_creates_the_customer(self, api):
        body = _order_body(CustomerFactory(), customer=None, customer_email="New.Buyer@example.com")

        response = api.post("/api/v1/orders/", body, format="json")

        assert response.status_code == 201
        assert Customer.objects.filter(contact_points__value="new.buyer@example.com").exists()

    @pytest.mark.parametrize(
        ("patch", "field"),
        [
            ({"total": "-5"}, "total"),
            ({"status": "lost"}, "status"),
            ({"placed_at": "yesterday"}, "placed_at"),
            ({"customer": None}, "customer"),
            ({"lines": [{"quantity": 1}]}, "lines[0].name"),
            ({"refunds": [{"external_id": "R9"}]}, "refunds[0].amount"),
        ],
    )
    def test_bad_input_names_the_field(self, api, patch, field):
        response = api.post("/api/v1/orders/", _order_body(CustomerFactory(), **patch), format="json")

        assert response.status_code == 400
        assert field in error_of(response)["fields"]

    def test_list_filters_by_customer_and_status(self, api):
        customer = CustomerFactory()
        api.post("/api/v1/orders/", _order_body(customer), format="json")
        api.post("/api/v1/orders/", _order_body(CustomerFactory(), external_id="B-2", status="pending"), format="json")

        results = api.get("/api/v1/orders/", {"customer": str(customer.public_id), "status": "paid"}).json()["results"]
        detail = api.get(f"/api/v1/orders/{results[0]['id']}/")

        assert [r["external_id"] for r in results] == ["A-1001"]
        assert detail.status_code == 200 and len(detail.json()["lines"]) == 2

    def test_a_read_key_cannot_write_orders(self, read_api):
        response = read_api.post("/api/v1/orders/", _order_body(CustomerFactory()), format="json")

        assert response.status_code == 403
        assert not Order.objects.exists()


def _tracked(email: str, granted: bool) -> Customer:
    customer = CustomerFactory()
    ContactPointFactory(customer=customer, value=email)
    consent_record(customer=customer, purpose="behavioral_tracking", granted=granted, source="customer")
    return customer


class TestEvents:
    def test_a_batch_counts_accepted_and_dropped_by_consent(self, api):
        yes = _tracked("yes@example.com", True)
        _tracked("no@example.com", False)
        batch = [
            {"customer": str(yes.public_id), "kind": "page_view", "payload": {"url": "/boots"}, "external_id": "e1"},
            {"email": "YES@example.com", "kind": "cart_add", "occurred_at": "2026-10-01T10:00:00Z"},
            {"email": "no@example.com", "kind": "page_view"},
        ]

        response = api.post("/api/v1/events/", batch, format="json")

        assert response.status_code == 200
        assert response.json() == {"accepted": 2, "dropped": 1, "duplicates": 0}
        assert Event.objects.filter(customer=yes).count() == 2

    def test_events_of_a_merged_customer_go_to_the_survivor_and_an_erased_one_s_are_dropped(self, api):
        # given a survivor who granted tracking, a customer merged into them (by id and by
        # their old email), and an erased customer
        survivor = _tracked("survivor@example.com", True)
        merged = CustomerFactory(merged_into=survivor)
        ContactPointFactory(customer=merged, value="old@example.com")
        erased = _tracked("gone@example.com", True)
        Customer.objects.filter(pk=erased.pk).update(erased=True)
        batch = [
            {"customer": str(merged.public_id), "kind": "page_view"},
            {"email": "old@example.com", "kind": "search"},
            {"customer": str(erased.public_id), "kind": "page_view"},
        ]

        # when the batch is posted
        response = api.post("/api/v1/events/", batch, format="json")

        # then both of the merged customer's events are the survivor's; the erased one's dropped
        assert response.json() == {"accepted": 2, "dropped": 1, "duplicates": 0}
        assert sorted(Event.objects.filter(customer=survivor).values_list("kind", flat=True)) == ["page_view", "search"]
        assert not Event.objects.exclude(customer=survivor).exists()

    def test_a_replayed_event_is_a_duplicate_not_a_second_row(self, api):
        yes = _tracked("yes@example.com", True)
        batch = [{"customer": str(yes.public_id), "kind": "page_view", "external_id": "e1"}]
        api.post("/api/v1/events/", batch, format="json")

        response = api.post("/api/v1/events/", batch, format="json")

        assert response.json() == {"accepted": 0, "dropped": 0, "duplicates": 1}
        assert Event.objects.count() == 1

    def test_default_purpose_applies_when_no_decision(self, api):
        ConsentPurpose.objects.filter(code="behavioral_tracking").update(default_granted=False)
        customer = CustomerFactory()

        response = api.post("/api/v1/events/", [{"customer": str(customer.public_id), "kind": "search"}], format="json")

        assert response.json()["dropped"] == 1

    @pytest.mark.parametrize(
        ("batch", "field"),
        [
            ([{"email": "yes@example.com", "kind": "teleport"}], "[0].kind"),
            ([{"kind": "page_view"}], "[0].customer"),
            ([{"email": "ghost@example.com", "kind": "page_view"}], "[0].email"),
            ({"kind": "page_view"}, "non_field_errors"),
            ([], "non_field_errors"),
        ],
    )
    def test_bad_batches_name_the_event_and_field(self, api, batch, field):
        _tracked("yes@example.com", True)

        response = api.post("/api/v1/events/", batch, format="json")

        assert response.status_code == 400
        assert field in error_of(response)["fields"]
        assert not Event.objects.exists()

    def test_more_than_1000_events_are_refused(self, api):
        yes = _tracked("yes@example.com", True)
        batch = [{"customer": str(yes.public_id), "kind": "page_view"}] * 1001

        response = api.post("/api/v1/events/", batch, format="json")

        assert response.status_code == 400
        assert not Event.objects.exists()

    def test_a_full_batch_of_1000_is_accepted_in_few_queries(self, api, django_assert_max_num_queries):
        customers = [_tracked(f"c{i}@example.com", True) for i in range(20)]
        batch = [{"customer": str(customers[i % 20].public_id), "kind": "page_view"} for i in range(1000)]
        EventFactory.reset_sequence()

        # the key and its last use, the customers, consent (purpose and ledger), the COPY, and
        # two savepoints taken and released: flat, whatever the batch's size
        with django_assert_max_num_queries(10):
            response = api.post("/api/v1/events/", batch, format="json")

        assert response.json()["accepted"] == 1000

    def test_a_read_key_cannot_send_events(self, read_api):
        assert read_api.post("/api/v1/events/", [], format="json").status_code == 403


class TestJobs:
    def test_read_a_job(self, api):
        customer = CustomerFactory()
        job = Job.objects.create(kind="customer_export", customer=customer, status="succeeded", result={"items": 3})

        body = api.get(f"/api/v1/jobs/{job.pk}/").json()

        assert body["id"] == job.pk and body["status"] == "succeeded" and body["kind"] == "customer_export"
        assert body["customer"] == str(customer.public_id)

    def test_an_unknown_job_is_404(self, api):
        assert error_of(api.get("/api/v1/jobs/999999/"))["code"] == "not_found"

    def test_an_agent_session_may_not_read_jobs(self, agent_client):
        job = Job.objects.create(kind="customer_export")

        assert agent_client.get(f"/api/v1/jobs/{job.pk}/").status_code == 403


@pytest.mark.parametrize(
    "item",
    [
        {"kind": {"x": 1}, "email": "yes@example.com"},
        {"kind": "page_view", "email": ["yes@example.com"]},
        {"kind": "page_view", "customer": 42},
        {"kind": "page_view", "email": "yes@example.com", "source": "not a slug!"},
        {"kind": "page_view", "email": "yes@example.com", "occurred_at": "2026-13-45T10:00:00Z"},
        {"kind": "page_view", "email": "yes@example.com", "occurred_at": 1700000000},
        {"kind": "page_view", "email": "yes@example.com", "payload": []},
    ],
)
def test_odd_event_shapes_are_400_not_500(api, item):
    _tracked("yes@example.com", True)

    response = api.post("/api/v1/events/", [item], format="json")

    assert response.status_code == 400
    assert error_of(response)["fields"]
