from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers import consent
from customers.models import AuditEvent, Channel, ConsentRecord, ContactPoint, Customer, Event, Order, Refund
from customers.services import (
    EventInput,
    LineInput,
    consent_record,
    contact_point_add,
    customer_resolve,
    events_record,
    order_record,
    product_record,
    refund_record,
)
from tests.factories import ContactPointFactory, CustomerFactory

pytestmark = pytest.mark.django_db


class TestCustomerResolve:
    def test_creates_a_customer_for_an_unknown_contact(self):
        resolution = customer_resolve(channel=Channel.EMAIL, value="New.Person@Example.com", first_name="New")

        assert resolution.created
        assert resolution.customer.first_name == "New"
        assert list(resolution.customer.contact_points.values_list("channel", "value")) == [
            ("email", "new.person@example.com")
        ]
        assert AuditEvent.objects.filter(
            customer=resolution.customer, action=AuditEvent.Action.CUSTOMER_CREATED
        ).exists()

    def test_finds_the_same_customer_whatever_the_spelling(self):
        # given a customer known by email and phone
        customer = CustomerFactory(country="US")
        ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
        ContactPointFactory(customer=customer, channel=Channel.PHONE, value="+14155550132")

        # when the same person arrives with other spellings, then they resolve to that customer
        assert customer_resolve(channel=Channel.EMAIL, value="MARIA@example.com ").customer == customer
        assert customer_resolve(channel=Channel.PHONE, value="+1 415-555-0132").customer == customer
        assert customer_resolve(channel=Channel.PHONE, value="(415) 555 0132", country="US").customer == customer
        assert Customer.objects.count() == 1

    def test_a_merged_customer_resolves_to_its_survivor(self):
        survivor = CustomerFactory()
        merged = CustomerFactory(merged_into=survivor)
        ContactPointFactory(customer=merged, channel=Channel.EMAIL, value="old@example.com")

        assert customer_resolve(channel=Channel.EMAIL, value="old@example.com").customer == survivor

    def test_bad_contact_is_refused_and_nothing_is_created(self):
        with pytest.raises(ValidationError):
            customer_resolve(channel=Channel.EMAIL, value="nobody")
        assert Customer.objects.count() == 0

    def test_a_contact_point_belongs_to_one_customer(self):
        ContactPointFactory(channel=Channel.EMAIL, value="taken@example.com")
        other = CustomerFactory()

        with pytest.raises(ValidationError, match="another customer"):
            contact_point_add(customer=other, channel=Channel.EMAIL, value="Taken@Example.com")
        assert not ContactPoint.objects.filter(customer=other).exists()


def _record(customer, **overrides):
    values = {
        "customer": customer,
        "source": "shop",
        "external_id": "9001",
        "number": "1042",
        "total": Decimal("120.00"),
        "placed_at": timezone.now() - timedelta(days=3),
        "lines": [LineInput(name="Boots", quantity=2, unit_price=Decimal("60.00"), sku="B-1")],
    }
    values.update(overrides)
    return order_record(**values)


class TestOrderRecord:
    def test_records_an_order_with_lines_and_updates_the_figures(self):
        customer = CustomerFactory()

        order, changed = _record(customer)

        assert changed
        assert [(line.name, line.quantity) for line in order.lines.all()] == [("Boots", 2)]
        customer.refresh_from_db()
        assert customer.order_count == 1
        assert customer.lifetime_value == Decimal("120.00")
        assert customer.last_order_at == order.placed_at

    def test_replaying_the_same_order_changes_nothing(self):
        customer = CustomerFactory()
        placed = timezone.now() - timedelta(days=3)
        first, _ = _record(customer, placed_at=placed)
        line_ids = list(first.lines.values_list("id", flat=True))

        again, changed = _record(customer, placed_at=placed)

        assert not changed
        assert again.pk == first.pk
        assert list(again.lines.values_list("id", flat=True)) == line_ids
        assert Order.objects.count() == 1

    def test_an_update_changes_status_and_tracking(self):
        customer = CustomerFactory()
        placed = timezone.now() - timedelta(days=3)
        _record(customer, placed_at=placed)

        order, changed = _record(
            customer, placed_at=placed, status=Order.Status.SHIPPED, carrier="DHL", tracking_number="JD0001"
        )

        assert changed
        assert (order.status, order.tracking_number) == ("shipped", "JD0001")

    def test_lines_point_at_known_products(self):
        product, _ = product_record(source="shop", external_id="P-1", name="Boots", price=Decimal("60"))
        order, _ = _record(
            CustomerFactory(), lines=[LineInput(name="Boots", unit_price=Decimal("60"), product_external_id="P-1")]
        )
        assert order.lines.get().product == product

    def test_an_order_cannot_move_to_another_customer(self):
        _record(CustomerFactory())
        with pytest.raises(ValidationError):
            _record(CustomerFactory())

    @pytest.mark.parametrize(("field", "value"), [("total", Decimal("-1")), ("status", "lost"), ("external_id", "")])
    def test_bad_input_names_the_field(self, field, value):
        with pytest.raises(ValidationError) as error:
            _record(CustomerFactory(), **{field: value})
        assert field in error.value.message_dict

    def test_completed_refunds_reduce_lifetime_value_and_replays_are_harmless(self):
        customer = CustomerFactory()
        order, _ = _record(customer)

        refund, changed = refund_record(
            order=order, source="shop", external_id="R1", amount=Decimal("20"), status=Refund.Status.COMPLETED
        )
        _, changed_again = refund_record(
            order=order,
            source="shop",
            external_id="R1",
            amount=Decimal("20"),
            status=Refund.Status.COMPLETED,
            completed_at=refund.completed_at,
        )

        assert changed and not changed_again
        customer.refresh_from_db()
        assert customer.lifetime_value == Decimal("100.00")


class TestConsent:
    def test_defaults_apply_until_a_decision_is_recorded(self):
        customer = CustomerFactory()

        assert consent.allows(customer, consent.PERSONALIZATION)  # shipped default: granted
        assert not consent.allows(customer, consent.MARKETING)  # shipped default: not granted

    def test_the_latest_decision_wins_and_the_ledger_keeps_both(self):
        customer = CustomerFactory()
        consent_record(customer=customer, purpose="marketing", granted=True, source="customer")
        consent_record(customer=customer, purpose="marketing", granted=False, source="agent", note="said on phone")

        assert not consent.allows(customer, "marketing")
        assert ConsentRecord.objects.filter(customer=customer, purpose__code="marketing").count() == 2
        assert AuditEvent.objects.filter(customer=customer, action="consent_recorded").count() == 2

    def test_a_record_points_at_the_wording_the_customer_saw(self):
        customer = CustomerFactory()
        first = consent_record(customer=customer, purpose="marketing", granted=True, source="customer")
        first.purpose.description = "New wording for offers."
        first.purpose.save()

        second = consent_record(customer=customer, purpose="marketing", granted=False, source="customer")

        assert first.wording.version == 1
        assert second.wording.version == 2
        assert second.wording.text == "New wording for offers."

    def test_unknown_purpose_is_refused_and_allows_nothing(self):
        customer = CustomerFactory()
        with pytest.raises(ValidationError) as error:
            consent_record(customer=customer, purpose="telepathy", granted=True, source="customer")
        assert "purpose" in error.value.message_dict
        assert not consent.allows(customer, "telepathy")

    def test_an_erased_customer_has_granted_nothing(self):
        customer = CustomerFactory(erased=True)
        assert consent.allowed_purposes(customer) == frozenset()


class TestEventsRecord:
    def test_events_without_tracking_consent_are_dropped_and_counted(self):
        tracked, untracked = CustomerFactory(), CustomerFactory()
        consent_record(customer=tracked, purpose="behavioral_tracking", granted=True, source="customer")
        now = timezone.now()

        result = events_record(
            events=[
                EventInput(customer=tracked, kind="page_view", occurred_at=now, payload={"url": "/a"}),
                EventInput(customer=untracked, kind="page_view", occurred_at=now, payload={"url": "/b"}),
                EventInput(customer=untracked, kind="cart_add", occurred_at=now, payload={}),
            ]
        )

        assert (result.accepted, result.dropped) == (1, 2)
        assert list(Event.objects.values_list("customer", flat=True)) == [tracked.pk]

    def test_replayed_events_with_ids_are_stored_once(self):
        customer = CustomerFactory()
        consent_record(customer=customer, purpose="behavioral_tracking", granted=True, source="customer")
        batch = [
            EventInput(customer=customer, kind="page_view", occurred_at=timezone.now(), payload={}, external_id="e1")
        ]

        events_record(events=batch)
        again = events_record(events=batch + batch)

        assert (again.accepted, again.duplicates) == (0, 2)
        assert Event.objects.count() == 1
