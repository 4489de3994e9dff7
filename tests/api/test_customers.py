"""/api/v1/customers/, contact points and consents."""

import pytest

from customers.models import AuditEvent, ConsentRecord, ContactPoint, Customer
from tests.api.conftest import error_of
from tests.factories import ContactPointFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def _maria(**extra) -> Customer:
    customer = CustomerFactory(first_name="Maria", last_name="Lopez", **extra)
    ContactPointFactory(customer=customer, value="maria@example.com")
    ContactPointFactory(customer=customer, channel="phone", value="+34600111222", is_primary=True)
    return customer


class TestCustomers:
    def test_create_with_contacts_answers_201_with_the_public_id(self, api):
        response = api.post(
            "/api/v1/customers/",
            {"first_name": "Ana", "email": "Ana@Example.com", "phone": "+34 600 123 456", "country": "es"},
            format="json",
        )

        assert response.status_code == 201
        body = response.json()
        customer = Customer.objects.get(public_id=body["id"])
        assert customer.country == "ES"
        assert {(c["channel"], c["value"]) for c in body["contact_points"]} == {
            ("email", "ana@example.com"),
            ("phone", "+34600123456"),
        }
        assert AuditEvent.objects.filter(customer=customer, action="customer_created").exists()

    def test_an_email_that_belongs_to_someone_else_is_a_400_on_email(self, api):
        _maria()

        response = api.post("/api/v1/customers/", {"email": "MARIA@example.com"}, format="json")

        assert response.status_code == 400
        assert "email" in error_of(response)["fields"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"locale": "xx"}, "locale"),
            ({"email": "not-an-email"}, "email"),
            ({"phone": "12"}, "phone"),
            ({"contact_points": [{"channel": "pigeon", "value": "x"}]}, "contact_points[0].channel"),
        ],
    )
    def test_bad_input_names_the_field(self, api, body, field):
        response = api.post("/api/v1/customers/", body, format="json")

        assert response.status_code == 400
        assert field in error_of(response)["fields"]

    def test_look_up_by_email_phone_and_q(self, api):
        maria = _maria()
        CustomerFactory(first_name="Other")

        by_email = api.get("/api/v1/customers/", {"email": "MARIA@example.com"}).json()["results"]
        by_phone = api.get("/api/v1/customers/", {"phone": "+34 600 111 222"}).json()["results"]
        by_q = api.get("/api/v1/customers/", {"q": "lope"}).json()["results"]

        assert [c["id"] for c in by_email] == [c["id"] for c in by_phone] == [c["id"] for c in by_q]
        assert by_email[0]["id"] == str(maria.public_id)

    def test_an_unparseable_phone_filter_is_a_400(self, api):
        response = api.get("/api/v1/customers/", {"phone": "abc"})

        assert response.status_code == 400
        assert "phone" in error_of(response)["fields"]

    def test_read_by_public_id_is_audited_as_the_key(self, api):
        maria = _maria()

        response = api.get(f"/api/v1/customers/{maria.public_id}/")

        assert response.status_code == 200
        assert response.json()["display_name"] == "Maria Lopez"
        audit = AuditEvent.objects.get(action="profile_viewed")
        assert audit.customer == maria and audit.actor_label.startswith("api key store")

    def test_patch_updates_and_audits_the_changed_fields(self, api):
        maria = _maria()

        response = api.patch(
            f"/api/v1/customers/{maria.public_id}/",
            {"preferred_name": "Mari", "timezone": "Europe/Paris"},
            format="json",
        )

        assert response.status_code == 200
        maria.refresh_from_db()
        assert (maria.preferred_name, maria.timezone) == ("Mari", "Europe/Paris")
        audit = AuditEvent.objects.get(action="customer_updated")
        assert sorted(audit.details["fields"]) == ["preferred_name", "timezone"]

    def test_patch_with_a_bad_timezone_names_it(self, api):
        maria = _maria()

        response = api.patch(f"/api/v1/customers/{maria.public_id}/", {"timezone": "Mars/Base"}, format="json")

        assert response.status_code == 400
        assert "timezone" in error_of(response)["fields"]

    def test_an_erased_customer_cannot_be_edited(self, api):
        customer = CustomerFactory(erased=True, first_name="")

        response = api.patch(f"/api/v1/customers/{customer.public_id}/", {"first_name": "Back"}, format="json")

        assert response.status_code == 400
        assert "customer" in error_of(response)["fields"]

    def test_a_read_key_reads_but_cannot_patch(self, read_api):
        maria = _maria()

        assert read_api.get(f"/api/v1/customers/{maria.public_id}/").status_code == 200
        assert read_api.patch(f"/api/v1/customers/{maria.public_id}/", {}, format="json").status_code == 403


class TestContactPoints:
    def test_add_a_contact_point(self, api):
        maria = _maria()

        response = api.post(
            "/api/v1/contact-points/",
            {"customer": str(maria.public_id), "channel": "social", "value": "twitter:@MariaL"},
            format="json",
        )

        assert response.status_code == 201
        assert response.json()["value"] == "twitter:marial"

    def test_adding_it_again_is_200_and_changes_nothing(self, api):
        maria = _maria()
        body = {"customer": str(maria.public_id), "channel": "email", "value": "maria@example.com"}

        response = api.post("/api/v1/contact-points/", body, format="json")

        assert response.status_code == 200
        assert ContactPoint.objects.filter(customer=maria).count() == 2

    def test_a_contact_point_of_someone_else_is_a_400_on_value(self, api):
        _maria()
        other = CustomerFactory()

        response = api.post(
            "/api/v1/contact-points/",
            {"customer": str(other.public_id), "channel": "email", "value": "maria@example.com"},
            format="json",
        )

        assert response.status_code == 400
        assert "value" in error_of(response)["fields"]

    def test_list_filtered_by_customer_and_channel(self, api):
        maria = _maria()
        _ = CustomerFactory()

        results = api.get("/api/v1/contact-points/", {"customer": str(maria.public_id), "channel": "phone"}).json()[
            "results"
        ]

        assert [r["value"] for r in results] == ["+34600111222"]


class TestConsents:
    def test_read_states_and_ledger(self, api):
        maria = _maria()

        body = api.get(f"/api/v1/customers/{maria.public_id}/consents/").json()

        codes = {state["purpose"]: state for state in body["states"]}
        assert {"marketing", "behavioral_tracking", "personalization", "surveys"} <= set(codes)
        assert codes["marketing"]["source"] == "default"
        assert body["ledger"] == []

    def test_post_records_a_decision_from_the_api(self, api):
        maria = _maria()

        response = api.post(
            f"/api/v1/customers/{maria.public_id}/consents/",
            {"purpose": "marketing", "granted": True, "note": "Ticked the box at checkout"},
            format="json",
        )

        assert response.status_code == 201
        record = ConsentRecord.objects.get(customer=maria)
        assert (record.source, record.granted, record.note) == ("api", True, "Ticked the box at checkout")
        states = api.get(f"/api/v1/customers/{maria.public_id}/consents/").json()["states"]
        assert next(s for s in states if s["purpose"] == "marketing")["granted"] is True

    @pytest.mark.parametrize(
        ("body", "field"),
        [({"purpose": "telepathy", "granted": True}, "purpose"), ({"purpose": "marketing"}, "granted")],
    )
    def test_bad_decisions_name_the_field(self, api, body, field):
        maria = _maria()

        response = api.post(f"/api/v1/customers/{maria.public_id}/consents/", body, format="json")

        assert response.status_code == 400
        assert field in error_of(response)["fields"]

    def test_read_key_cannot_record(self, read_api):
        maria = _maria()

        response = read_api.post(
            f"/api/v1/customers/{maria.public_id}/consents/", {"purpose": "marketing", "granted": True}, format="json"
        )

        assert response.status_code == 403
        assert not ConsentRecord.objects.exists()

    def test_unknown_customer_is_404(self, api):
        response = api.get("/api/v1/customers/00000000-0000-0000-0000-000000000001/consents/")

        assert response.status_code == 404


class TestTimelineExportEraseMerge:
    def test_the_timeline_lists_orders_and_tickets_newest_first(self, api):
        from tests.factories import OrderFactory, TicketFactory

        maria = _maria()
        OrderFactory(customer=maria, number="1001")
        TicketFactory(customer=maria, subject="Where is 1001?")

        body = api.get(f"/api/v1/customers/{maria.public_id}/timeline/").json()

        assert body["results"], body
        times = [item["at"] for item in body["results"]]
        assert times == sorted(times, reverse=True)
        assert {"results", "next", "hidden_kinds"} <= set(body)

    def test_the_timeline_pages_with_next(self, api):
        from tests.factories import OrderFactory

        maria = _maria()
        OrderFactory.create_batch(3, customer=maria)

        first = api.get(f"/api/v1/customers/{maria.public_id}/timeline/", {"page_size": 2}).json()
        second = api.get(first["next"]).json()

        assert len(first["results"]) == 2 and len(second["results"]) >= 1

    @pytest.mark.parametrize(("params", "field"), [({"page_size": 0}, "page_size"), ({"sort": "x"}, "sort")])
    def test_bad_timeline_queries_name_the_parameter(self, api, params, field):
        maria = _maria()

        response = api.get(f"/api/v1/customers/{maria.public_id}/timeline/", params)

        assert response.status_code == 400 and field in error_of(response)["fields"]

    def test_export_starts_a_job_to_poll(self, api):
        maria = _maria()

        response = api.post(f"/api/v1/customers/{maria.public_id}/export/", {"reason": "Customer asked"}, format="json")

        assert response.status_code == 202
        job = api.get(f"/api/v1/jobs/{response.json()['id']}/").json()
        assert job["kind"] == "customer_export" and job["customer"] == str(maria.public_id)

    def test_erase_needs_a_reason(self, api):
        maria = _maria()

        missing = api.post(f"/api/v1/customers/{maria.public_id}/erase/", {}, format="json")
        short = api.post(f"/api/v1/customers/{maria.public_id}/erase/", {"reason": "because"}, format="json")
        started = api.post(
            f"/api/v1/customers/{maria.public_id}/erase/", {"reason": "Customer asked by email"}, format="json"
        )

        assert "reason" in error_of(missing)["fields"] and "reason" in error_of(short)["fields"]
        assert started.status_code == 202 and started.json()["kind"] == "customer_erase"

    def test_a_read_key_cannot_export_or_erase(self, read_api):
        maria = _maria()

        assert read_api.post(f"/api/v1/customers/{maria.public_id}/export/", {}, format="json").status_code == 403
        assert read_api.post(f"/api/v1/customers/{maria.public_id}/erase/", {}, format="json").status_code == 403

    def test_merge_folds_one_customer_into_another(self, api):
        maria = _maria()
        duplicate = CustomerFactory(first_name="María")
        ContactPointFactory(customer=duplicate, value="maria.lopez@work.example")

        response = api.post(
            "/api/v1/customers/merge/",
            {"survivor": str(maria.public_id), "merged": str(duplicate.public_id), "reason": "Same person"},
            format="json",
        )

        assert response.status_code == 200
        assert "maria.lopez@work.example" in {c["value"] for c in response.json()["survivor"]["contact_points"]}
        duplicate.refresh_from_db()
        assert duplicate.merged_into == maria

    @pytest.mark.parametrize("field", ["survivor", "merged"])
    def test_merge_with_an_unknown_customer_names_it(self, api, field):
        maria = _maria()
        body = {"survivor": str(maria.public_id), "merged": str(maria.public_id)}
        body[field] = "00000000-0000-0000-0000-000000000009"

        response = api.post("/api/v1/customers/merge/", body, format="json")

        assert response.status_code == 400 and field in error_of(response)["fields"]
