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
