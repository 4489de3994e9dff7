"""The API's shared behaviour: keys, scopes, the error shape, pagination, allowlisted filters."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from supportdesk.api.keys import api_key_create, api_key_revoke
from supportdesk.models import ApiKey
from tests.api.conftest import _client, error_of
from tests.factories import ContactPointFactory, CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db


class TestKeys:
    def test_a_key_is_stored_only_as_its_hash_with_a_visible_prefix(self):
        issued = api_key_create(name="shop", scope="write")

        stored = ApiKey.objects.get()
        assert issued.raw.startswith("sd_") and issued.raw not in (stored.hashed, stored.prefix)
        assert stored.hashed == ApiKey.hash(issued.raw)
        assert issued.raw.startswith(stored.prefix)

    def test_a_valid_key_reads_and_notes_when_it_was_used(self, api):
        response = api.get("/api/v1/customers/")

        assert response.status_code == 200
        assert ApiKey.objects.get(name="store").last_used_at is not None

    @pytest.mark.parametrize("header", ["Bearer nope", "Bearer", "Bearer a b", "Token abc"])
    def test_a_wrong_or_malformed_key_answers_401(self, anon_api, header):
        anon_api.credentials(HTTP_AUTHORIZATION=header)

        response = anon_api.get("/api/v1/customers/")

        assert response.status_code == 401
        assert error_of(response)["code"] in {"authentication_failed", "not_authenticated"}

    def test_a_revoked_key_answers_401(self, db):
        issued = api_key_create(name="old", scope="write")
        api_key_revoke(api_key=issued.api_key)

        response = _client(issued.raw).get("/api/v1/customers/")

        assert response.status_code == 401
        assert "revoked" in error_of(response)["message"]

    def test_an_admin_revokes_a_key_and_it_stops_working_at_once(self, admin_user, client):
        from django.urls import reverse

        issued = api_key_create(name="leaked", scope="write")
        kept = api_key_create(name="shop", scope="write")
        admin_user.is_superuser = True
        admin_user.save()
        client.force_login(admin_user)

        client.post(
            reverse("admin:supportdesk_apikey_changelist"),
            {"action": "revoke", "_selected_action": [issued.api_key.pk]},
        )

        assert _client(issued.raw).get("/api/v1/customers/").status_code == 401
        assert _client(kept.raw).get("/api/v1/customers/").status_code == 200
        assert ApiKey.objects.get(pk=issued.api_key.pk).revoked_at is not None

    def test_no_credentials_answer_401_with_a_bearer_challenge(self, anon_api):
        response = anon_api.get("/api/v1/tickets/")

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"
        assert error_of(response)["code"] == "not_authenticated"

    def test_a_read_key_gets_403_on_a_write(self, read_api):
        response = read_api.post("/api/v1/customers/", {"email": "a@example.com"}, format="json")

        assert response.status_code == 403
        assert "read-only" in error_of(response)["message"]

    def test_create_api_key_prints_the_key_once(self, capsys):
        call_command("create_api_key", "--name", "Shop", "--scope", "write")

        out = capsys.readouterr().out
        raw = next(word for word in out.split() if word.startswith("sd_"))
        assert ApiKey.objects.get(hashed=ApiKey.hash(raw)).scope == "write"


class TestSessions:
    def test_an_agent_session_reads_customers(self, agent_client):
        CustomerFactory()

        response = agent_client.get("/api/v1/customers/")

        assert response.status_code == 200 and len(response.json()["results"]) == 1

    def test_a_signed_in_user_without_a_role_gets_403(self, client, nobody):
        client.force_login(nobody)

        response = client.get("/api/v1/customers/")

        assert response.status_code == 403
        assert error_of(response)["code"] == "permission_denied"

    def test_an_agent_may_not_start_a_csat_listing(self, agent_client):
        assert agent_client.get("/api/v1/csat/").status_code == 403

    def test_a_lead_reads_csat_answers(self, client, lead):
        client.force_login(lead)

        assert client.get("/api/v1/csat/").status_code == 200


class TestErrorShape:
    def test_an_unknown_api_path_is_a_json_404(self, api):
        response = api.get("/api/v1/nothing-here/")

        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"

    def test_an_unknown_object_is_a_json_404(self, api):
        response = api.get("/api/v1/customers/00000000-0000-0000-0000-000000000000/")

        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"

    def test_a_wrong_method_is_a_json_405(self, api):
        response = api.delete("/api/v1/customers/")

        assert response.status_code == 405
        assert error_of(response)["code"] == "method_not_allowed"

    def test_malformed_json_is_a_400(self, api):
        response = api.post("/api/v1/customers/", "{not json", content_type="application/json")

        assert response.status_code == 400
        assert error_of(response)["code"] == "parse_error"

    def test_nested_errors_name_the_field_with_its_path(self, api):
        customer = CustomerFactory()
        body = {
            "external_id": "o1",
            "number": "1",
            "customer": str(customer.public_id),
            "total": "10",
            "placed_at": timezone.now().isoformat(),
            "lines": [{"name": "Boots", "quantity": 0}],
        }

        response = api.post("/api/v1/orders/", body, format="json")

        assert response.status_code == 400
        assert "lines[0].quantity" in error_of(response)["fields"]


class TestListing:
    def test_pages_are_cursor_paginated_and_capped_at_100(self, api):
        CustomerFactory.create_batch(105)

        first = api.get("/api/v1/customers/", {"page_size": 100}).json()
        second = api.get(first["next"]).json()

        assert len(first["results"]) == 100 and len(second["results"]) == 5
        assert second["next"] is None
        ids = {c["id"] for c in first["results"]} | {c["id"] for c in second["results"]}
        assert len(ids) == 105

    @pytest.mark.parametrize("size", ["101", "0", "ten"])
    def test_a_page_size_out_of_range_is_a_400_naming_it(self, api, size):
        response = api.get("/api/v1/customers/", {"page_size": size})

        assert response.status_code == 400
        assert "page_size" in error_of(response)["fields"]

    def test_a_forged_cursor_is_a_400(self, api):
        response = api.get("/api/v1/customers/", {"cursor": "%%%"})

        assert response.status_code == 400
        assert "cursor" in error_of(response)["fields"]

    def test_an_unknown_filter_is_a_400_naming_it(self, api):
        response = api.get("/api/v1/tickets/", {"assignee__password": "x"})

        assert response.status_code == 400
        assert "assignee__password" in error_of(response)["fields"]

    @pytest.mark.parametrize("ordering", ["assignee__password", "-customer__first_name", "subject"])
    def test_ordering_outside_the_allowlist_is_a_400(self, api, ordering):
        response = api.get("/api/v1/tickets/", {"ordering": ordering})

        assert response.status_code == 400
        assert "ordering" in error_of(response)["fields"]

    def test_allowlisted_ordering_sorts(self, api):
        old, new = TicketFactory(), TicketFactory()
        old.created_at = timezone.now() - timezone.timedelta(days=3)
        old.save()

        ids = [t["id"] for t in api.get("/api/v1/tickets/", {"ordering": "created_at"}).json()["results"]]

        assert ids == [old.pk, new.pk]

    def test_a_filter_value_of_the_wrong_type_is_a_400(self, api):
        response = api.get("/api/v1/tickets/", {"customer": "not-a-uuid", "status": "lost"})

        assert response.status_code == 400
        assert set(error_of(response)["fields"]) == {"customer", "status"}

    def test_filters_combine(self, api):
        customer = CustomerFactory()
        ContactPointFactory(customer=customer, value="maria@example.com")
        mine = TicketFactory(customer=customer, status="open")
        TicketFactory(customer=customer, status="solved")
        TicketFactory(status="open")

        response = api.get("/api/v1/tickets/", {"customer": str(customer.public_id), "status": "open"})

        assert [t["id"] for t in response.json()["results"]] == [mine.pk]


class TestSchemaAndDocs:
    def test_the_schema_is_openapi_3(self, client):
        response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

        assert response.status_code == 200
        schema = response.json()
        assert schema["openapi"].startswith("3.")
        assert "/api/v1/customers/" in schema["paths"]

    def test_the_schema_validates_without_a_single_warning(self, tmp_path):
        # What `manage.py spectacular --validate --fail-on-warn` checks: the OpenAPI 3 validator
        # and drf-spectacular's own warnings (an unresolvable field type, a duplicate name...).
        target = tmp_path / "schema.yaml"

        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

        assert target.read_text().startswith("openapi: 3.")

    def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(self, client):
        response = client.get("/api/docs/")

        html = response.content.decode()
        assert response.status_code == 200
        assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
        assert "<script>" not in html and "<style>" not in html
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-eval" not in csp

    def test_the_docs_init_script_is_a_same_origin_file(self, client):
        response = client.get("/api/docs/?script=")

        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/javascript")
        assert "SwaggerUIBundle" in response.content.decode()
