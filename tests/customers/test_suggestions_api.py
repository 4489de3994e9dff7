"""The suggestions API, mounted here as ``supportdesk/api/urls.py`` will mount it
(``*suggestions_api.api_urls`` in its ``v1`` list). This module is its own URLconf."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.urls import include, path
from django.utils import timezone

from customers.models import Channel, Order, SuggestionFeedback
from customers.suggestions import api as suggestions_api
from supportdesk.api.keys import api_key_create
from supportdesk.urls import urlpatterns as project_urlpatterns
from tests.api.conftest import _client, error_of
from tests.factories import ContactPointFactory, CustomerFactory, OrderFactory, TicketFactory, UserFactory

urlpatterns = [
    path("api/v1/", include((suggestions_api.api_urls, "api"), namespace="suggestions-api")),
    *project_urlpatterns,
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

FIELDS = {"id", "rule", "rule_version", "variant", "title", "reason", "channel", "action", "url", "score", "purposes"}


@pytest.fixture
def api():
    return _client(api_key_create(name="store", scope="write").raw)


@pytest.fixture
def read_api():
    return _client(api_key_create(name="reports", scope="read").raw)


@pytest.fixture
def anon_api():
    return _client()


@pytest.fixture(autouse=True)
def _cold_cache():
    cache.clear()


@pytest.fixture
def customer():
    customer = CustomerFactory(first_name="Maria", preferred_name="", churn_risk=0.9, churn_factors={})
    ContactPointFactory(customer=customer, channel=Channel.EMAIL)
    OrderFactory(
        customer=customer,
        number="1042",
        status=Order.Status.PAID,
        promised_delivery=timezone.localdate() - timedelta(days=2),
    )
    TicketFactory(customer=customer)
    return customer


def listed(client, customer, **params):
    return client.get(f"/api/v1/customers/{customer.public_id}/suggestions/", params)


def test_a_key_reads_a_customer_s_suggestions_best_first(read_api, customer):
    response = listed(read_api, customer)

    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None and body["blocked"] == []
    assert set(body["results"][0]) == FIELDS
    assert [item["rule"] for item in body["results"]] == ["order_delayed", "churn_risk", "first_contact"]
    assert body["results"][0]["reason"].startswith("Order #1042 was promised for")
    assert body["results"][1]["purposes"] == ["personalization"]


def test_limit_and_what_consent_holds_back(read_api, customer):
    from customers.services import consent_record

    consent_record(customer=customer, purpose="personalization", granted=False, source="api")

    body = listed(read_api, customer, limit=1).json()

    assert [item["rule"] for item in body["results"]] == ["order_delayed"]
    assert body["blocked"][0]["rule"] == "churn_risk" and body["blocked"][0]["missing"] == ["personalization"]
    assert body["blocked"][0]["why"].startswith("Personalised service not granted (withdrawn")


def test_unknown_customer_and_bad_parameters_use_the_error_shape(read_api, customer):
    missing = read_api.get("/api/v1/customers/00000000-0000-4000-8000-000000000000/suggestions/")
    bad = listed(read_api, customer, limit=50, colour="red")
    huge = listed(read_api, customer, ticket=2**70)

    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    assert bad.status_code == 400 and set(error_of(bad)["fields"]) == {"colour"}
    assert huge.status_code == 400 and set(error_of(huge)["fields"]) == {"ticket"}


def test_accepting_answers_the_reply_text_filled_for_the_customer(api, read_api, customer):
    suggestion = listed(read_api, customer).json()["results"][0]

    response = api.post(f"/api/v1/suggestions/{suggestion['id']}/feedback/", {"verdict": "accepted"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["verdict"] == "accepted" and body["rule"] == "order_delayed"
    assert body["action"].startswith("Hi Maria,")
    # An integration is not an agent: the sign-off placeholder stays, flagged.
    assert body["problems"] == ["{{ agent.first_name }} has no value for this customer."]
    assert SuggestionFeedback.objects.get().agent is None


def test_dismiss_needs_a_reason_and_snooze_an_end(api, read_api, customer):
    suggestion = listed(read_api, customer).json()["results"][0]
    url = f"/api/v1/suggestions/{suggestion['id']}/feedback/"

    no_reason = api.post(url, {"verdict": "dismissed"}, format="json")
    no_end = api.post(url, {"verdict": "snoozed"}, format="json")
    dismissed = api.post(url, {"verdict": "dismissed", "reason": "Already done"}, format="json")

    assert no_reason.status_code == 400 and set(error_of(no_reason)["fields"]) == {"reason"}
    assert no_end.status_code == 400 and set(error_of(no_end)["fields"]) == {"until"}
    assert dismissed.status_code == 201 and dismissed.json()["until"]
    assert "order_delayed" not in {item["rule"] for item in listed(read_api, customer).json()["results"]}


def test_a_forged_id_is_refused_and_a_read_key_cannot_write(api, read_api, customer):
    suggestion = listed(read_api, customer).json()["results"][0]

    forged = api.post("/api/v1/suggestions/not-an-id/feedback/", {"verdict": "accepted"}, format="json")
    read_only = read_api.post(f"/api/v1/suggestions/{suggestion['id']}/feedback/", {"verdict": "accepted"})

    assert forged.status_code == 400 and error_of(forged)["fields"] == {"id": ["Not a suggestion id."]}
    assert read_only.status_code == 403


def test_an_agent_s_session_reads_and_gives_feedback_as_themselves(agent_client, customer, agent):
    suggestion = agent_client.get(f"/api/v1/customers/{customer.public_id}/suggestions/").json()["results"][0]

    response = agent_client.post(
        f"/api/v1/suggestions/{suggestion['id']}/feedback/",
        {"verdict": "accepted"},
        content_type="application/json",
    )

    assert response.status_code == 201 and response.json()["problems"] == []
    assert response.json()["action"].endswith("Best regards,\nAgent")
    assert SuggestionFeedback.objects.get().agent == agent


def test_without_credentials_nothing_is_answered(anon_api, customer):
    assert listed(anon_api, customer).status_code == 401


def test_a_session_without_the_feedback_permission_reads_but_cannot_judge(client, customer):
    # given a user who may view customers only
    viewer = UserFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_customer", content_type__app_label="customers"))
    client.force_login(viewer)

    # when they list and then accept
    listed_ = client.get(f"/api/v1/customers/{customer.public_id}/suggestions/")
    suggestion = listed_.json()["results"][0]
    response = client.post(
        f"/api/v1/suggestions/{suggestion['id']}/feedback/", {"verdict": "accepted"}, content_type="application/json"
    )

    # then reading works, the verdict is refused in the API's error shape
    assert listed_.status_code == 200 and response.status_code == 403
    assert error_of(response)["code"] and not SuggestionFeedback.objects.exists()
