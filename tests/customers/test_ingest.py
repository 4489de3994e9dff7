"""customers.ingest: the batch consent read agrees with customers.consent, and event batches
behave like events_record."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers import consent
from customers.ingest import events_ingest, purpose_allowed_for
from customers.models import ConsentPurpose, Event
from customers.services import EventInput, consent_record
from tests.factories import ConsentRecordFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("default", [True, False])
def test_the_batch_consent_read_agrees_with_the_choke_point(default):
    ConsentPurpose.objects.filter(code="behavioral_tracking").update(default_granted=default)
    undecided = CustomerFactory()
    granted = CustomerFactory()
    consent_record(customer=granted, purpose="behavioral_tracking", granted=True, source="customer")
    changed_mind = CustomerFactory()
    consent_record(customer=changed_mind, purpose="behavioral_tracking", granted=True, source="customer")
    ConsentRecordFactory(
        customer=changed_mind,
        purpose=ConsentPurpose.objects.get(code="behavioral_tracking"),
        granted=False,
        recorded_at=timezone.now() + timedelta(seconds=1),
    )
    erased = CustomerFactory(erased=True)
    people = [undecided, granted, changed_mind, erased]

    batch = purpose_allowed_for(customers=people, purpose="behavioral_tracking")

    assert batch == {c.pk: consent.allows(c, "behavioral_tracking") for c in people}
    assert purpose_allowed_for(customers=people, purpose="no-such-purpose") == dict.fromkeys(batch, False)


def test_a_batch_counts_accepted_dropped_and_duplicates(django_assert_max_num_queries):
    yes, no = CustomerFactory(), CustomerFactory()
    consent_record(customer=yes, purpose="behavioral_tracking", granted=True, source="customer")
    consent_record(customer=no, purpose="behavioral_tracking", granted=False, source="customer")
    now = timezone.now()
    events = [
        EventInput(customer=yes, kind="page_view", occurred_at=now, payload={}, external_id=f"e{i % 5}")
        for i in range(10)
    ]
    events += [EventInput(customer=no, kind="page_view", occurred_at=now, payload={}) for _ in range(3)]

    with django_assert_max_num_queries(8):
        result = events_ingest(events=events)

    assert (result.accepted, result.dropped, result.duplicates) == (5, 3, 5)
    assert events_ingest(events=events[:5]).duplicates == 5
    assert Event.objects.count() == 5


def _tracked_customers(count: int) -> list:
    people = [CustomerFactory() for _ in range(count)]
    for person in people:
        consent_record(customer=person, purpose="behavioral_tracking", granted=True, source="customer")
    return people


def test_a_batch_of_1000_is_stored_whole_in_a_fixed_few_queries(django_assert_max_num_queries):
    # given 1,000 events of 20 customers, each event with its own id and payload
    people = _tracked_customers(20)
    now = timezone.now()
    events = [
        EventInput(
            customer=people[i % 20],
            kind="product_view",
            occurred_at=now - timedelta(seconds=i),
            payload={"url": f"/p/{i}", "tags": ["a", i], "price": 9.5},
            source="shop",
            external_id=f"ev-{i}",
        )
        for i in range(1000)
    ]

    # when the batch is stored: consent (purpose and ledger), replays, the COPY in its own
    # savepoint, all in the batch's savepoint (each savepoint is taken and released)
    with django_assert_max_num_queries(8):
        result = events_ingest(events=events)

    # then every event is there as sent
    assert (result.accepted, result.dropped, result.duplicates) == (1000, 0, 0)
    stored = Event.objects.get(source="shop", external_id="ev-7")
    assert (stored.customer_id, stored.kind) == (people[7].pk, "product_view")
    assert stored.occurred_at == now - timedelta(seconds=7)
    assert stored.payload == {"url": "/p/7", "tags": ["a", 7], "price": 9.5}
    assert Event.objects.count() == 1000


def test_an_event_a_concurrent_batch_stored_meanwhile_is_skipped_not_an_error():
    # given an event another batch stored after this batch looked for replays (the COPY of
    # the new rows then fails on the unique constraint)
    from customers.ingest import _events_insert

    (person,) = _tracked_customers(1)
    now = timezone.now()
    events = [
        EventInput(customer=person, kind="page_view", occurred_at=now, payload={"n": n}, external_id=f"e{n}")
        for n in range(3)
    ]
    Event.objects.create(
        customer=person, kind="page_view", occurred_at=now, payload={"n": "first"}, source="store", external_id="e1"
    )

    # when the batch is inserted as new
    _events_insert(events)

    # then the other two are stored and the one already there is left as it was
    assert sorted(Event.objects.values_list("external_id", flat=True)) == ["e0", "e1", "e2"]
    assert Event.objects.get(external_id="e1").payload == {"n": "first"}


def test_without_postgresql_the_batch_is_inserted_without_copy(monkeypatch):
    # given a database that is not PostgreSQL (the demo's SQLite)
    from django.db import connection

    (person,) = _tracked_customers(1)
    monkeypatch.setattr(connection, "vendor", "sqlite")
    copied = []
    monkeypatch.setattr("customers.ingest._events_copy", copied.append)
    now = timezone.now()
    events = [EventInput(customer=person, kind="search", occurred_at=now, payload={"q": "boots"}, external_id="s1")]

    # when a batch is stored
    result = events_ingest(events=events)

    # then it went in by the plain insert
    assert copied == [] and result.accepted == 1
    assert Event.objects.get(external_id="s1").payload == {"q": "boots"}
