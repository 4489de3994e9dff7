"""The suggestions engine: consent, feedback caps, ranking, variants, bounded queries, and the
property that no suggestion ever needs a purpose the customer has not granted."""

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers import consent
from customers.models import (
    Channel,
    ConsentPurpose,
    Customer,
    Event,
    Order,
    OrderLine,
    Product,
    ProductAffinity,
    Refund,
    SuggestionFeedback,
)
from customers.selectors import customer_profile
from customers.services import consent_record
from customers.suggestions.context import AffinityFact, EventFact, OrderFact, context_build
from customers.suggestions.engine import suggestions_rank
from customers.suggestions.jobs import vip_threshold_refresh
from customers.suggestions.registry import Rule, SuggestionRef, suggestion_registry
from customers.suggestions.selectors import suggestion_panel, suggestions_for_customer
from customers.suggestions.variants import variant_for
from tests.customers.test_suggestions_rules import NOW, make_context, make_customer
from tests.factories import (
    ContactPointFactory,
    CSATSurveyFactory,
    CustomerFactory,
    EventFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    RefundFactory,
    TicketFactory,
)
from tickets.models import CSATSurvey, Message, Ticket

PURPOSES = ["personalization", "marketing", "behavioral_tracking", "surveys"]


@pytest.fixture(autouse=True)
def _cold_cache():
    cache.clear()
    yield
    cache.clear()


def rich_context(**fields):
    """A context on which every customers rule fires."""
    values = {
        "customer": make_customer(
            churn_risk=0.8, churn_factors={"Recency": "No order for 90 days"}, lifetime_value=Decimal("5000")
        ),
        "orders": [
            OrderFact(
                1, "1042", Order.Status.SHIPPED, NOW - timedelta(days=9), promised_delivery=NOW.date(), late=True
            ),
            OrderFact(
                2,
                "1043",
                Order.Status.DELIVERED,
                NOW - timedelta(days=20),
                refund_id=3,
                refund_status=Refund.Status.REQUESTED,
                refund_amount=Decimal("5"),
                refund_requested_at=NOW - timedelta(days=2),
            ),
        ],
        "affinities": [AffinityFact(1, "Boots", 2, "Socks", 0.5, 10)],
        "cart_events": [EventFact(9, Event.Kind.CART_ABANDONED, NOW - timedelta(days=1), {"items": ["Hat"]})],
        "vip_threshold": Decimal("1000"),
    }
    values.update(fields)
    return make_context(**values)


class TestRanking:
    def test_consent_blocks_with_the_reason_and_ranks_the_rest(self):
        notes = {"marketing": "Offers and reminders not granted (withdrawn 3 May via preference centre)"}
        context = rich_context(granted=frozenset({"personalization"}), consent_notes=notes)

        panel = suggestions_rank(context, limit=3)

        assert [s.rule for s in panel.suggestions] == ["order_delayed", "refund_pending", "churn_risk"]
        assert panel.more == 2  # vip and cross_sell below the top three
        assert [(b.suggestion.rule, b.why) for b in panel.blocked] == [
            ("cart_abandoned", "Offers and reminders not granted (withdrawn 3 May via preference centre)")
        ]
        assert all(s.customer_id == 7 and s.id for s in panel.suggestions)

    def test_feedback_hides_within_its_cap_only(self):
        hidden = SuggestionFeedback.Verdict.DISMISSED
        feedback = [
            _fact("order_delayed", "order:1", hidden, NOW - timedelta(days=1), NOW + timedelta(days=6)),
            _fact("refund_pending", "refund:3", hidden, NOW - timedelta(days=8), NOW - timedelta(days=1)),
            _fact("vip", "", SuggestionFeedback.Verdict.SNOOZED, NOW, NOW + timedelta(hours=4)),
        ]

        panel = suggestions_rank(rich_context(feedback=feedback), limit=10)

        rules = [s.rule for s in panel.suggestions]
        assert "order_delayed" not in rules and "vip" not in rules and "refund_pending" in rules
        assert panel.hidden == 2

    def test_a_rule_that_breaks_is_skipped_and_logged(self, caplog):
        class Broken(Rule):
            id = "broken"

            def evaluate(self, context, variant):
                raise RuntimeError("boom")

        with caplog.at_level(logging.ERROR):
            panel = suggestions_rank(rich_context(), rules=[Broken(), *suggestion_registry.all()], limit=20)

        assert "broken" not in {s.rule for s in panel.suggestions} and len(panel.suggestions) >= 5
        assert "Suggestion rule broken failed" in caplog.text

    def test_variants_are_stable_and_spread(self):
        ids = [make_customer().public_id for _ in range(200)]
        first = [variant_for(rule_id="churn_risk", public_id=i, variants=("a", "b")) for i in ids]

        assert first == [variant_for(rule_id="churn_risk", public_id=i, variants=("a", "b")) for i in ids]
        assert 60 < first.count("a") < 140
        assert variant_for(rule_id="vip", public_id=ids[0], variants=()) == ""

    def test_the_engine_passes_the_customer_s_variant_to_the_rule(self):
        context = rich_context()
        expected = variant_for(
            rule_id="churn_risk", public_id=context.customer.public_id, variants=("gesture", "check_in")
        )

        panel = suggestions_rank(context, limit=10)

        assert next(s for s in panel.suggestions if s.rule == "churn_risk").variant == expected


def _fact(rule, subject, verdict, created_at, until):
    from customers.suggestions.context import FeedbackFact

    return FeedbackFact(rule, subject, verdict, created_at, until)


@given(granted=st.frozensets(st.sampled_from(PURPOSES)), limit=st.integers(min_value=0, max_value=15))
@settings(max_examples=200, deadline=None, database=None)
def test_pure_property_nothing_shown_needs_a_purpose_not_granted(granted, limit):
    panel = suggestions_rank(rich_context(granted=granted), limit=limit)

    for suggestion in panel.suggestions:
        assert set(suggestion.purposes) <= granted
    for blocked in panel.blocked:
        assert set(blocked.missing) and not set(blocked.missing) & granted


# With the database ---------------------------------------------------------------------------


def history_customer(size: int) -> Customer:
    """A customer on whom most rules fire, with ``size`` of each kind of history row."""
    now = timezone.now()
    customer = CustomerFactory(first_name="Maria", churn_risk=0.75, churn_factors={"Recency": "No order for 90 days"})
    ContactPointFactory(customer=customer, channel=Channel.EMAIL)
    for purpose in ("marketing", "behavioral_tracking"):
        consent_record(customer=customer, purpose=purpose, granted=True, source="customer")
    boots, socks = ProductFactory(name="Boots"), ProductFactory(name="Socks")
    ProductAffinity.objects.create(product=boots, other=socks, together=9, confidence=0.6)
    orders = Order.objects.bulk_create(
        Order(
            customer=customer,
            external_id=f"H{customer.pk}-{n}",
            number=f"H{n}",
            total=Decimal("20"),
            placed_at=now - timedelta(days=400 + n),
            status=Order.Status.DELIVERED,
        )
        for n in range(size)
    )
    OrderLine.objects.bulk_create(OrderLine(order=o, product=boots, name="Boots", unit_price=20) for o in orders)
    Refund.objects.bulk_create(
        Refund(order=o, external_id=f"HR{o.pk}", status=Refund.Status.COMPLETED, amount=1) for o in orders
    )
    Event.objects.bulk_create(
        Event(customer=customer, kind=Event.Kind.PAGE_VIEW, occurred_at=now - timedelta(hours=n), payload={})
        for n in range(size)
    )
    tickets = Ticket.objects.bulk_create(
        Ticket(
            customer=customer,
            subject=f"T{n}",
            channel=Channel.EMAIL,
            status=Ticket.Status.CLOSED,
            created_at=now - timedelta(days=60 + n),
        )
        for n in range(size)
    )
    Message.objects.bulk_create(
        Message(ticket=t, channel=Channel.EMAIL, direction=d, body="x", created_at=t.created_at)
        for t in tickets
        for d in (Message.Direction.INBOUND, Message.Direction.OUTBOUND)
    )
    CSATSurvey.objects.bulk_create(
        CSATSurvey(ticket=t, channel=Channel.EMAIL, rating=4, answered_at=t.created_at) for t in tickets
    )
    SuggestionFeedback.objects.bulk_create(
        SuggestionFeedback(customer=customer, rule="vip", verdict="accepted", created_at=now - timedelta(days=n % 40))
        for n in range(size)
    )
    late = OrderFactory(
        customer=customer, status=Order.Status.SHIPPED, promised_delivery=now.date() - timedelta(days=3)
    )
    RefundFactory(order=late, status=Refund.Status.REQUESTED)
    EventFactory(customer=customer, kind=Event.Kind.CART_ABANDONED, payload={"items": [{"name": "Hat"}]})
    current = TicketFactory(customer=customer, channel=Channel.EMAIL)
    return Customer.objects.get(pk=customer.pk), current


@pytest.mark.django_db
class TestBoundedQueries:
    @pytest.mark.parametrize("size", [1, 500])
    def test_at_most_ten_queries_whatever_the_history(self, size, django_assert_max_num_queries):
        customer, current = history_customer(size)
        cache.clear()  # the worst case: the VIP threshold is computed too

        with django_assert_max_num_queries(10):
            panel = suggestion_panel(customer=customer, ticket=current, limit=10)

        fired = {s.rule for s in panel.suggestions}
        assert {"order_delayed", "refund_pending", "cart_abandoned", "cross_sell", "churn_risk"} <= fired

    def test_a_warm_cache_saves_the_threshold_query(self, django_assert_num_queries):
        customer, current = history_customer(3)
        vip_threshold_refresh()

        with django_assert_num_queries(9):
            suggestion_panel(customer=customer, ticket=current)

    def test_a_page_holding_the_profile_saves_three_more(self, django_assert_num_queries):
        customer, current = history_customer(3)
        vip_threshold_refresh()
        profile = customer_profile(customer=customer, with_orders=False)

        with django_assert_num_queries(6):
            panel = suggestion_panel(
                customer=customer,
                ticket=current,
                consents=profile.consents,
                contact_channels=profile.reachable,
                limit=9,
            )

        assert "cart_abandoned" in {s.rule for s in panel.suggestions}  # it needs marketing and an email


@pytest.mark.django_db
class TestWithConsentAndFeedback:
    def test_withdrawing_a_consent_makes_its_suggestions_disappear_at_once(self):
        customer, current = history_customer(1)
        before = {s.rule for s in suggestions_for_customer(customer=customer, ticket=current, limit=20)}

        consent_record(customer=customer, purpose="personalization", granted=False, source="agent")
        consent_record(customer=customer, purpose="marketing", granted=False, source="customer")
        panel = suggestion_panel(customer=customer, ticket=current, limit=20)

        assert {"cross_sell", "churn_risk", "cart_abandoned"} <= before
        assert not {"cross_sell", "churn_risk", "cart_abandoned"} & {s.rule for s in panel.suggestions}
        why = {b.suggestion.rule: b.why for b in panel.blocked}
        assert why["cart_abandoned"].startswith("Offers and reminders not granted (withdrawn ")
        assert why["cross_sell"].startswith("Personalised service not granted (withdrawn ")

    def test_without_tracking_consent_no_cart_is_read(self):
        customer, current = history_customer(1)
        consent_record(customer=customer, purpose="behavioral_tracking", granted=False, source="customer")

        panel = suggestion_panel(customer=customer, ticket=current, limit=20)

        assert "cart_abandoned" not in {s.rule for s in panel.suggestions} | {b.suggestion.rule for b in panel.blocked}

    def test_a_dismissed_suggestion_stays_gone_for_its_cap_then_returns(self):
        customer, current = history_customer(1)
        suggestion = next(s for s in suggestions_for_customer(customer=customer, ticket=current, limit=20))
        SuggestionFeedback.objects.create(
            customer=customer,
            rule=suggestion.rule,
            subject=suggestion.subject,
            verdict="dismissed",
            until=timezone.now() + timedelta(days=7),
        )

        shown_now = suggestion_panel(customer=customer, ticket=current, limit=20)
        shown_later = suggestion_panel(
            customer=customer, ticket=current, limit=20, now=timezone.now() + timedelta(days=8)
        )

        assert suggestion.rule not in {s.rule for s in shown_now.suggestions}
        assert suggestion.rule in {s.rule for s in shown_later.suggestions}

    def test_an_erased_or_merged_customer_gets_nothing(self, django_assert_num_queries):
        erased = CustomerFactory(erased=True)
        merged = CustomerFactory(merged_into=CustomerFactory())

        with django_assert_num_queries(0):
            assert suggestions_for_customer(customer=erased) == []
            assert suggestions_for_customer(customer=merged) == []


@pytest.mark.django_db
def test_cross_sell_from_the_database_skips_owned_and_inactive_companions():
    # given a customer who bought boots and socks; boots go with socks (owned), a gaiter
    # (withdrawn from sale) and a hat; a product they never bought goes with a tent
    customer = CustomerFactory(first_name="Maria")
    boots, socks, gaiter, hat, scarf, tent = (
        ProductFactory(name=name) for name in ("Boots", "Socks", "Gaiter", "Hat", "Scarf", "Tent")
    )
    Product.objects.filter(pk=gaiter.pk).update(active=False)
    order = OrderFactory(customer=customer)
    for product in (boots, socks):
        OrderLineFactory(order=order, product=product)
    for other, confidence in ((socks, 0.9), (gaiter, 0.8), (hat, 0.3)):
        ProductAffinity.objects.create(product=boots, other=other, together=7, confidence=confidence)
    ProductAffinity.objects.create(product=scarf, other=tent, together=9, confidence=0.95)

    # when
    context = context_build(customer=customer)
    panel = suggestions_rank(context, limit=20)

    # then only the hat is a candidate, with the statistics in the reason
    assert [(a.product_name, a.other_name) for a in context.affinities] == [("Boots", "Hat")]
    cross_sell = next(s for s in panel.suggestions if s.rule == "cross_sell")
    assert cross_sell.reason == "30% of the orders with Boots also held Hat (7 orders); Maria bought Boots but not Hat."
    assert cross_sell.subject == f"product:{hat.pk}"


PROPERTY = settings(
    max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.django_db
@given(
    defaults=st.fixed_dictionaries({code: st.booleans() for code in PURPOSES}),
    decisions=st.lists(st.tuples(st.sampled_from(PURPOSES), st.booleans()), max_size=8),
    data=st.fixed_dictionaries(
        {
            "late": st.booleans(),
            "refund": st.booleans(),
            "cart": st.booleans(),
            "bought": st.booleans(),
            "risk": st.sampled_from([None, 0.2, 0.9]),
            "value": st.sampled_from([Decimal("0"), Decimal("50"), Decimal("9000")]),
            "low_csat": st.booleans(),
        }
    ),
)
@PROPERTY
def test_property_no_suggestion_needs_a_purpose_the_customer_has_not_granted(defaults, decisions, data):
    for code, granted in defaults.items():
        ConsentPurpose.objects.filter(code=code).update(default_granted=granted)
    customer = CustomerFactory(churn_risk=data["risk"], lifetime_value=data["value"], order_count=3)
    ContactPointFactory(customer=customer, channel=Channel.EMAIL)
    for code, granted in decisions:
        consent_record(customer=customer, purpose=code, granted=granted, source="customer")
    if data["late"]:
        OrderFactory(customer=customer, status=Order.Status.PAID, promised_delivery=timezone.localdate() - timedelta(1))
    if data["refund"]:
        RefundFactory(order=OrderFactory(customer=customer), status=Refund.Status.APPROVED)
    if data["cart"]:
        Event.objects.create(customer=customer, kind=Event.Kind.CART_ABANDONED, payload={"items": ["Hat"]})
    if data["bought"]:
        line = OrderLineFactory(order=OrderFactory(customer=customer), product=ProductFactory())
        ProductAffinity.objects.create(product=line.product, other=ProductFactory(), together=5, confidence=0.5)
    ticket = TicketFactory(customer=customer)
    if data["low_csat"]:
        CSATSurveyFactory(ticket=TicketFactory(customer=customer), rating=1, answered_at=timezone.now())
    cache.clear()

    panel = suggestion_panel(customer=customer, ticket=ticket, limit=20)

    granted = consent.allowed_purposes(customer)
    for suggestion in panel.suggestions:
        assert set(suggestion.purposes) <= granted, (suggestion.rule, suggestion.purposes, granted)
    for blocked in panel.blocked:
        assert not set(blocked.missing) & granted and blocked.why


@pytest.mark.django_db
def test_a_suggestion_id_round_trips_and_refuses_tampering():
    customer, current = history_customer(1)
    suggestion = suggestions_for_customer(customer=customer, ticket=current)[0]

    ref = SuggestionRef.from_token(suggestion.id)

    assert ref == SuggestionRef(customer.pk, suggestion.rule, suggestion.subject, suggestion.variant, 1)
    with pytest.raises(Exception, match="Not a suggestion id"):
        SuggestionRef.from_token(suggestion.id[:-2] + "xx")
