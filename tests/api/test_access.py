"""Every endpoint: no credentials get 401, a read key gets 403 on every write."""

import pytest
from django.utils import timezone

from customers.models import Job
from tests.factories import CustomerFactory, TicketFactory
from tickets.models import CSATSurvey


@pytest.fixture
def urls(db):
    customer = CustomerFactory()
    ticket = TicketFactory(customer=customer)
    job = Job.objects.create(kind="customer_export", customer=customer)
    survey = CSATSurvey.objects.create(ticket=ticket, channel="email", rating=4, answered_at=timezone.now())
    return {
        "customers": "/api/v1/customers/",
        "customer": f"/api/v1/customers/{customer.public_id}/",
        "consents": f"/api/v1/customers/{customer.public_id}/consents/",
        "timeline": f"/api/v1/customers/{customer.public_id}/timeline/",
        "export": f"/api/v1/customers/{customer.public_id}/export/",
        "erase": f"/api/v1/customers/{customer.public_id}/erase/",
        "merge": "/api/v1/customers/merge/",
        "contact_points": "/api/v1/contact-points/",
        "products": "/api/v1/products/",
        "orders": "/api/v1/orders/",
        "events": "/api/v1/events/",
        "job": f"/api/v1/jobs/{job.pk}/",
        "tickets": "/api/v1/tickets/",
        "ticket": f"/api/v1/tickets/{ticket.pk}/",
        "messages": f"/api/v1/tickets/{ticket.pk}/messages/",
        "csat": "/api/v1/csat/",
        "csat_answer": f"/api/v1/csat/{survey.pk}/",
    }


READS = [
    "customers",
    "customer",
    "consents",
    "timeline",
    "contact_points",
    "products",
    "orders",
    "job",
    "tickets",
    "ticket",
]
READS += ["messages", "csat", "csat_answer"]
WRITES = [
    ("post", "customers"),
    ("patch", "customer"),
    ("post", "consents"),
    ("post", "export"),
    ("post", "erase"),
    ("post", "merge"),
    ("post", "contact_points"),
    ("post", "products"),
    ("post", "orders"),
    ("post", "events"),
    ("post", "tickets"),
    ("post", "messages"),
]


@pytest.mark.parametrize("name", READS)
def test_reads_need_credentials_and_a_read_key_suffices(anon_api, read_api, urls, name):
    assert anon_api.get(urls[name]).status_code == 401
    assert read_api.get(urls[name]).status_code == 200


@pytest.mark.parametrize(("method", "name"), WRITES)
def test_writes_need_a_write_key(anon_api, read_api, urls, method, name):
    assert getattr(anon_api, method)(urls[name], {}, format="json").status_code == 401
    response = getattr(read_api, method)(urls[name], {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
