"""On PostgreSQL the database itself keeps the consent ledger append-only."""

import pytest
from django.db import IntegrityError, connection, transaction

from customers.consent import ledger_unlocked
from customers.models import ConsentRecord
from customers.services import consent_record
from tests.conftest import service_unavailable
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        service_unavailable("the ledger trigger exists on PostgreSQL only")


def _record():
    return consent_record(customer=CustomerFactory(), purpose="marketing", granted=True, source="customer")


def test_the_database_refuses_to_update_a_decision():
    record = _record()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        ConsentRecord.objects.filter(pk=record.pk).update(granted=False)
    record.refresh_from_db()
    assert record.granted


def test_the_database_refuses_to_delete_a_decision():
    record = _record()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        ConsentRecord.objects.filter(pk=record.pk).delete()
    assert ConsentRecord.objects.filter(pk=record.pk).exists()


def test_erasure_may_unlock_the_ledger_for_its_own_transaction():
    record = _record()
    with ledger_unlocked():
        ConsentRecord.objects.filter(pk=record.pk).delete()
    assert not ConsentRecord.objects.filter(pk=record.pk).exists()
    # and the lock is back afterwards
    other = _record()
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentRecord.objects.filter(pk=other.pk).delete()
