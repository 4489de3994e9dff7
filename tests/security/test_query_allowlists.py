"""Ordering and filters only from allowlists, on the API and on the pages: a peer product leaked
password hashes through ``?ordering=assignee__password`` (sorting by a secret reveals it bit by
bit). Unknown keys and orderings answer 400 naming the parameter; nothing is silently ignored."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from supportdesk.api.keys import api_key_create
from tests.factories import CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db

PROBES = [
    {"ordering": "assignee__password"},
    {"ordering": "-customer__contact_points__value"},
    {"assignee__password__startswith": "argon2"},
    {"not_a_filter": "1"},
]


@pytest.fixture
def api():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(name='probe', scope='read').raw}")
    return client


@pytest.fixture
def lists():
    ticket = TicketFactory()
    customer = CustomerFactory()
    return [
        "/api/v1/customers/",
        "/api/v1/contact-points/",
        "/api/v1/products/",
        "/api/v1/orders/",
        "/api/v1/tickets/",
        "/api/v1/csat/",
        f"/api/v1/tickets/{ticket.pk}/messages/",
        f"/api/v1/customers/{customer.public_id}/timeline/",
    ]


def test_every_api_list_refuses_orderings_and_filters_outside_its_allowlist(api, lists):
    for url in lists:
        # given a list that answers without parameters
        assert api.get(url).status_code == 200, url
        for probe in PROBES:
            # when it is probed
            response = api.get(url, probe)

            # then it answers 400 in the API's error shape, naming the parameter
            assert response.status_code == 400, (url, probe, response.status_code)
            error = response.json()["error"]
            assert set(error) == {"code", "message", "fields"}
            assert set(probe) & set(error["fields"]), (url, probe, error)


@pytest.mark.parametrize("page", ["tickets:inbox", "tickets:search"])
def test_the_inbox_and_search_pages_refuse_unknown_parameters(agent_client, page):
    url = reverse(page)
    assert agent_client.get(url, {"q": "boots"} if page == "tickets:search" else {}).status_code == 200
    for probe in PROBES:
        response = agent_client.get(url, probe)

        assert response.status_code == 400, (page, probe)
        [name] = probe
        assert name in response.content.decode()


def test_the_inbox_keeps_its_own_filters_and_paging(agent_client):
    response = agent_client.get(
        reverse("tickets:inbox"), {"view": "all", "status": "open", "sort": "priority", "page": "1", "tag": "vip"}
    )

    assert response.status_code == 200
