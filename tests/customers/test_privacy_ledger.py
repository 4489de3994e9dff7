"""The consent ledger is append-only: the application refuses to rewrite or delete a decision,
and on PostgreSQL so does the database, even to raw SQL. Only ``ledger_unlocked()`` (erasure,
merges) may, and only inside its own transaction."""

import pytest
from django.db import IntegrityError, connection, transaction

from customers.consent import ledger_unlocked
from customers.models import ConsentRecord
from customers.privacy.ledger import LedgerAppendOnly, ledger_is_unlocked
from customers.services import consent_record
from tests.conftest import service_unavailable
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def record():
    return consent_record(customer=CustomerFactory(), purpose="marketing", granted=True, source="customer")


class TestTheApplicationRefuses:
    def test_a_queryset_update(self, record):
        with pytest.raises(LedgerAppendOnly, match="append-only: UPDATE refused"):
            ConsentRecord.objects.filter(pk=record.pk).update(granted=False)
        record.refresh_from_db()
        assert record.granted

    def test_a_queryset_delete(self, record):
        with pytest.raises(LedgerAppendOnly, match="append-only: DELETE refused"):
            ConsentRecord.objects.filter(pk=record.pk).delete()
        assert ConsentRecord.objects.filter(pk=record.pk).exists()

    def test_saving_an_existing_record(self, record):
        record.granted = False
        with pytest.raises(LedgerAppendOnly):
            record.save()
        assert ConsentRecord.objects.get(pk=record.pk).granted

    def test_deleting_a_record(self, record):
        with pytest.raises(LedgerAppendOnly):
            record.delete()
        assert ConsentRecord.objects.filter(pk=record.pk).exists()

    def test_a_bulk_update(self, record):
        record.note = "changed"
        with pytest.raises(LedgerAppendOnly):
            ConsentRecord.objects.bulk_update([record], ["note"])

    def test_through_a_related_manager(self, record):
        with pytest.raises(LedgerAppendOnly):
            record.customer.consents.all().update(note="x")

    def test_with_the_same_error_class_as_the_database(self, record):
        # callers catch one error, whichever layer refused
        with pytest.raises(IntegrityError):
            ConsentRecord.objects.filter(pk=record.pk).delete()


def test_a_change_of_mind_is_a_new_record(record):
    again = consent_record(customer=record.customer, purpose="marketing", granted=False, source="customer")
    assert ConsentRecord.objects.filter(customer=record.customer).count() == 2
    assert again.pk != record.pk


def test_ledger_unlocked_lets_erasure_rewrite_then_locks_again(record):
    with ledger_unlocked():
        assert ledger_is_unlocked()
        ConsentRecord.objects.filter(pk=record.pk).update(note="")
        with ledger_unlocked():  # nested: still unlocked after the inner block
            pass
        ConsentRecord.objects.filter(pk=record.pk).update(evidence="")
    assert not ledger_is_unlocked()
    with pytest.raises(LedgerAppendOnly):
        ConsentRecord.objects.filter(pk=record.pk).update(note="again")


def test_a_failure_inside_ledger_unlocked_relocks(record):
    with pytest.raises(RuntimeError), ledger_unlocked():
        raise RuntimeError("boom")
    assert not ledger_is_unlocked()
    with pytest.raises(LedgerAppendOnly):
        ConsentRecord.objects.filter(pk=record.pk).delete()


class TestTheDatabaseRefuses:
    """On PostgreSQL the trigger refuses even SQL that bypasses the application."""

    @pytest.fixture(autouse=True)
    def _postgres_only(self):
        if connection.vendor != "postgresql":
            service_unavailable("the ledger trigger exists on PostgreSQL only")

    def test_a_raw_update(self, record):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE customers_consentrecord SET granted = false WHERE id = %s", [record.pk])
        record.refresh_from_db()
        assert record.granted

    def test_a_raw_delete(self, record):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM customers_consentrecord WHERE id = %s", [record.pk])
        assert ConsentRecord.objects.filter(pk=record.pk).exists()

    def test_the_unlock_is_confined_to_its_transaction(self, record):
        other = consent_record(customer=record.customer, purpose="surveys", granted=True, source="customer")
        with ledger_unlocked(), connection.cursor() as cursor:
            cursor.execute("UPDATE customers_consentrecord SET note = '' WHERE id = %s", [record.pk])
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM customers_consentrecord WHERE id = %s", [other.pk])


def test_deleting_a_customer_does_not_silently_drop_their_decisions(record):
    from customers.models import Customer

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Customer.objects.filter(pk=record.customer_id).delete()
    assert ConsentRecord.objects.filter(pk=record.pk).exists()
