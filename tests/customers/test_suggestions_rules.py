"""The customers app's suggestion rules, as pure functions of a hand-built context (no database).

Each rule: when it fires (and the reason a person reads), and when it must not.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings

from customers.models import Channel, Customer, Event, Order, Refund, SuggestionFeedback
from customers.suggestions.context import AffinityFact, CustomerContext, EventFact, FeedbackFact, OrderFact
from customers.suggestions.rules import (
    CartAbandoned,
    ChurnRisk,
    CrossSell,
    OrderDelayed,
    RefundPending,
    Vip,
    churn_factors_text,
    listing,
)

NOW = datetime(2026, 5, 14, 12, 0, tzinfo=UTC)
ALL = frozenset({"personalization", "marketing", "behavioral_tracking", "surveys"})


def make_customer(**fields) -> Customer:
    values = {"pk": 7, "first_name": "Maria", "last_name": "García", "created_at": NOW - timedelta(days=300)}
    values.update(fields)
    return Customer(**values)


def make_context(**fields) -> CustomerContext:
    """A context as ``context_build`` would make it, with everything granted unless told."""
    values = {
        "customer": make_customer(),
        "now": NOW,
        "granted": ALL,
        "reachable": frozenset({Channel.EMAIL, Channel.CHAT}),
    }
    values.update(fields)
    return CustomerContext(**values)


def late_order(**fields) -> OrderFact:
    values = {
        "id": 11,
        "number": "1042",
        "status": Order.Status.SHIPPED,
        "placed_at": NOW - timedelta(days=11),
        "promised_delivery": date(2026, 5, 10),
        "carrier": "DHL",
        "tracking_number": "JD0142",
        "tracking_url": "https://track.example/JD0142",
        "late": True,
    }
    values.update(fields)
    return OrderFact(**values)


class TestOrderDelayed:
    def test_fires_for_an_order_past_its_promise_with_the_date_and_tracking(self):
        context = make_context(orders=[late_order()], reply_channel=Channel.CHAT)

        suggestion = OrderDelayed().evaluate(context, "")

        assert suggestion.rule == "order_delayed"
        assert suggestion.reason == (
            "Order #1042 was promised for 10 May and has not been delivered (4 days late, status Shipped). "
            "Tracking: DHL JD0142."
        )
        assert suggestion.channel == Channel.CHAT
        assert suggestion.subject == "order:11"
        assert "{{ customer.name }}" in suggestion.action and "JD0142" in suggestion.action
        assert suggestion.purposes == ()

    def test_the_most_overdue_order_is_named_and_the_others_counted(self):
        older = late_order(id=12, number="0999", promised_delivery=date(2026, 5, 1), tracking_number="")
        context = make_context(orders=[late_order(), older])

        suggestion = OrderDelayed().evaluate(context, "")

        assert suggestion.reason.startswith("Order #0999 was promised for 1 May")
        assert "No tracking number on file yet." in suggestion.reason
        assert suggestion.reason.endswith("1 more late order.")
        assert suggestion.score > OrderDelayed().evaluate(make_context(orders=[late_order()]), "").score

    def test_does_not_fire_for_orders_on_time_or_only_refunding(self):
        on_time = late_order(late=False, promised_delivery=date(2026, 5, 20))
        refunding = late_order(late=False, status=Order.Status.DELIVERED, refund_id=3)

        assert OrderDelayed().evaluate(make_context(orders=[on_time, refunding]), "") is None
        assert OrderDelayed().evaluate(make_context(), "") is None


class TestRefundPending:
    def refunding(self, **fields) -> OrderFact:
        values = {
            "id": 21,
            "number": "1050",
            "status": Order.Status.DELIVERED,
            "placed_at": NOW - timedelta(days=20),
            "refund_id": 5,
            "refund_kind": Refund.Kind.REFUND,
            "refund_status": Refund.Status.REQUESTED,
            "refund_amount": Decimal("25.00"),
            "refund_requested_at": NOW - timedelta(days=9),
        }
        values.update(fields)
        return OrderFact(**values)

    def test_fires_with_amount_date_and_state(self):
        suggestion = RefundPending().evaluate(make_context(orders=[self.refunding()]), "")

        assert suggestion.reason == (
            "A refund of 25.00 EUR for order #1050 was requested on 5 May (9 days ago) and is still waiting for "
            "approval."
        )
        assert suggestion.title == "Give the status of the refund for order #1050"
        assert suggestion.subject == "refund:5"

    def test_an_approved_return_says_so(self):
        order = self.refunding(refund_kind=Refund.Kind.RETURN, refund_status=Refund.Status.APPROVED)

        suggestion = RefundPending().evaluate(make_context(orders=[order]), "")

        assert "A return of 25.00 EUR" in suggestion.reason and "approved but not completed" in suggestion.reason
        assert "being paid out" in suggestion.action

    def test_does_not_fire_without_an_open_refund(self):
        assert RefundPending().evaluate(make_context(orders=[late_order()]), "") is None


def cart(at: datetime, items=None, pk: int = 90) -> EventFact:
    payload = {"items": items if items is not None else [{"name": "Trail shoes"}, {"name": "Rain jacket"}]}
    return EventFact(id=pk, kind=Event.Kind.CART_ABANDONED, occurred_at=at, payload=payload)


class TestCartAbandoned:
    def test_names_the_items_and_goes_by_email_needing_marketing(self):
        context = make_context(cart_events=[cart(NOW - timedelta(days=2))], reply_channel=Channel.CHAT)

        suggestion = CartAbandoned().evaluate(context, "help")

        assert suggestion.reason == (
            "Left Trail shoes and Rain jacket in the cart on 12 May (2 days ago) and has not ordered since."
        )
        assert suggestion.channel == Channel.EMAIL
        assert suggestion.purposes == ("marketing",)
        assert suggestion.subject == "cart:90"
        assert "Trail shoes and Rain jacket" in suggestion.action

    def test_the_two_variants_word_the_reply_differently(self):
        context = make_context(cart_events=[cart(NOW - timedelta(days=1))])

        help_, reminder = CartAbandoned().evaluate(context, "help"), CartAbandoned().evaluate(context, "reminder")

        assert help_.action != reminder.action and help_.variant == "help" and reminder.variant == "reminder"
        assert help_.reason == reminder.reason

    def test_many_items_are_summarised_and_names_are_cleaned(self):
        items = [{"name": "A"}, {"product_name": "B"}, "C", {"sku": "SKU-4"}, {"name": "  "}, {"name": "A"}]
        suggestion = CartAbandoned().evaluate(make_context(cart_events=[cart(NOW, items)]), "help")

        assert suggestion.reason.startswith("Left A, B, C and 1 more in the cart")

    @pytest.mark.parametrize(
        "change",
        [
            {"cart_events": [cart(NOW - timedelta(days=2)), EventFact(91, Event.Kind.CHECKOUT, NOW, {})]},
            {"customer": make_customer(last_order_at=NOW - timedelta(hours=1))},
            {"reachable": frozenset({Channel.PHONE})},
            {"cart_events": []},
        ],
        ids=["checked-out-since", "ordered-since", "no-email-address", "no-cart"],
    )
    def test_does_not_fire_when_bought_since_unreachable_or_no_cart(self, change):
        context = make_context(**{"cart_events": [cart(NOW - timedelta(days=2))], **change})

        assert CartAbandoned().evaluate(context, "help") is None


def affinity(other_id: int, confidence: float, name: str = "Wool socks", together: int = 12) -> AffinityFact:
    return AffinityFact(
        product_id=1,
        product_name="Walking boots",
        other_id=other_id,
        other_name=name,
        confidence=confidence,
        together=together,
        other_url=f"https://shop.example/p/{other_id}",
    )


class TestCrossSell:
    def test_suggests_the_best_companion_with_the_statistics(self):
        context = make_context(affinities=[affinity(2, 0.4), affinity(3, 0.25, "Insoles")])

        suggestion = CrossSell().evaluate(context, "")

        assert suggestion.title == "Suggest Wool socks"
        assert suggestion.reason == (
            "40% of the orders with Walking boots also held Wool socks (12 orders); Maria bought Walking boots "
            "but not Wool socks."
        )
        assert suggestion.purposes == ("personalization",)
        assert suggestion.subject == "product:2"

    def test_never_a_product_dismissed_in_the_last_30_days(self):
        dismissed = FeedbackFact(
            "cross_sell", "product:2", SuggestionFeedback.Verdict.DISMISSED, NOW - timedelta(days=29)
        )
        context = make_context(affinities=[affinity(2, 0.4), affinity(3, 0.25, "Insoles")], feedback=[dismissed])

        assert CrossSell().evaluate(context, "").subject == "product:3"

    def test_a_dismissal_older_than_30_days_no_longer_counts(self):
        old = FeedbackFact("cross_sell", "product:2", SuggestionFeedback.Verdict.DISMISSED, NOW - timedelta(days=31))

        assert CrossSell().evaluate(make_context(affinities=[affinity(2, 0.4)], feedback=[old]), "").subject == (
            "product:2"
        )

    def test_nothing_without_candidates_or_with_weak_ones(self):
        assert CrossSell().evaluate(make_context(), "") is None
        assert CrossSell().evaluate(make_context(affinities=[affinity(2, 0.05)]), "") is None


class TestChurnRisk:
    FACTORS = {"Recency": "Last order 120 days ago; they used to order about every 35 days", "Last CSAT": "Rated 2/5"}

    def test_fires_above_the_threshold_with_the_factors(self):
        context = make_context(customer=make_customer(churn_risk=0.72, churn_factors=self.FACTORS))

        suggestion = ChurnRisk().evaluate(context, "gesture")

        assert suggestion.reason == (
            "Churn risk 72% (high). Why: Last order 120 days ago; they used to order about every 35 days; Rated 2/5."
        )
        assert suggestion.purposes == ("personalization",)

    def test_the_variants_differ_in_wording_and_weight(self):
        context = make_context(customer=make_customer(churn_risk=0.8, churn_factors={}))

        gesture, check_in = ChurnRisk().evaluate(context, "gesture"), ChurnRisk().evaluate(context, "check_in")

        assert gesture.title != check_in.title and gesture.score > check_in.score
        assert "no factors recorded" in gesture.reason

    @override_settings(DESK_SUGGESTIONS_CHURN_THRESHOLD=0.6)
    def test_does_not_fire_below_the_threshold_or_without_a_score(self):
        assert ChurnRisk().evaluate(make_context(customer=make_customer(churn_risk=0.59)), "gesture") is None
        assert ChurnRisk().evaluate(make_context(customer=make_customer(churn_risk=None)), "gesture") is None

    def test_older_factor_codes_are_worded(self):
        text = churn_factors_text({"days_since_last_order": 90, "last_csat": 2, "refunds": 1, "odd_one": 3})

        assert text == ["No order for 90 days", "Rated the last help 2/5", "1 refund or return", "odd one: 3"]


class TestVip:
    def test_fires_at_or_above_the_cached_threshold(self):
        customer = make_customer(lifetime_value=Decimal("4210.50"), order_count=14)
        context = make_context(customer=customer, vip_threshold=Decimal("1850"))

        suggestion = Vip().evaluate(context, "")

        assert suggestion.reason == (
            "Lifetime value 4,210.50 over 14 orders puts Maria in the top 5% of customers (from 1,850.00)."
        )
        assert suggestion.purposes == ("personalization",)

    @pytest.mark.parametrize(
        ("value", "threshold"),
        [(Decimal("1849.99"), Decimal("1850")), (Decimal("0"), Decimal("0")), (Decimal("500"), None)],
        ids=["below", "nothing-spent", "no-threshold-yet"],
    )
    def test_does_not_fire_below_it_without_spend_or_without_a_threshold(self, value, threshold):
        context = make_context(customer=make_customer(lifetime_value=value, order_count=1), vip_threshold=threshold)

        assert Vip().evaluate(context, "") is None


def test_listing_reads_like_a_sentence():
    assert listing([]) == "" and listing(["A"]) == "A" and listing(["A", "B"]) == "A and B"
    assert listing(["A", "B", "C"]) == "A, B and C" and listing(list("ABCDE")) == "A, B, C and 2 more"
