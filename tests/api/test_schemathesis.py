"""Property-based API testing against the live OpenAPI schema (schemathesis 4).

Every operation is called in-process through the WSGI app with a write key, on a database
holding one of everything: no answer may be a server error, and every answer must match the
schema (status code, content type, body). Bounded to a few examples per operation.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from customers.models import Job
from customers.services import consent_record
from supportdesk.api.keys import api_key_create
from supportdesk.wsgi import application
from tests.factories import (
    ContactPointFactory,
    CSATSurveyFactory,
    CustomerFactory,
    MessageFactory,
    OrderLineFactory,
    RefundFactory,
    TicketFactory,
)

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def in_test_transaction():
    """Keep the test's database connection across WSGI requests, as Django's test client does:
    otherwise request_finished closes it mid-transaction (on PostgreSQL)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def write_key(db, agent, in_test_transaction) -> str:
    customer = CustomerFactory()
    ContactPointFactory(customer=customer, value="maria@example.com")
    consent_record(customer=customer, purpose="behavioral_tracking", granted=True, source="customer")
    line = OrderLineFactory(order__customer=customer)
    RefundFactory(order=line.order)
    ticket = TicketFactory(customer=customer, assignee=agent)
    MessageFactory(ticket=ticket)
    CSATSurveyFactory(ticket=ticket, agent=agent, rating=4, answered_at=timezone.now())
    Job.objects.create(kind=Job.Kind.CUSTOMER_EXPORT, customer=customer, result={"ok": True})
    return api_key_create(name="schemathesis", scope="write").raw


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,  # the same examples on every run, so CI is reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_honours_its_schema(case, write_key):
    case.call_and_validate(headers={"Authorization": f"Bearer {write_key}"}, checks=CHECKS)
