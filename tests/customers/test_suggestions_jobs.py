"""The scheduled jobs behind the suggestions: churn risk, "bought together", VIP threshold."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Channel, Customer, Order, ProductAffinity
from customers.services import order_record, refund_record
from customers.suggestions import tasks
from customers.suggestions.jobs import (
    ChurnFeatures,
    churn_refresh,
    churn_refresh_all,
    churn_score,
    product_affinity_refresh,
    vip_threshold,
    vip_threshold_compute,
)
from tests.customers.test_suggestions_rules import NOW
from tests.factories import (
    ContactPointFactory,
    CSATSurveyFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    RefundFactory,
    TicketFactory,
)
from tickets.csat import csat_survey_answer
from tickets.models import Ticket
from tickets.services import message_receive, ticket_open


class TestChurnScore:
    def test_a_regular_customer_with_nothing_wrong_is_low_risk(self):
        features = ChurnFeatures(
            orders=6,
            first_order_at=NOW - timedelta(days=300),
            last_order_at=NOW - timedelta(days=20),
            orders_recent=3,
            orders_before=3,
            spend_recent=Decimal("150"),
            spend_before=Decimal("140"),
            last_csat=5,
        )

        assert churn_score(features, now=NOW) == (0.05, {})

    def test_every_factor_is_explained_in_plain_words(self):
        features = ChurnFeatures(
            orders=8,
            first_order_at=NOW - timedelta(days=400),
            last_order_at=NOW - timedelta(days=120),
            orders_recent=1,
            orders_before=5,
            spend_recent=Decimal("40"),
            spend_before=Decimal("310"),
            refunds_recent=2,
            contacts_30d=4,
            last_csat=2,
            last_csat_at=NOW - timedelta(days=11),
        )

        risk, factors = churn_score(features, now=NOW)

        assert factors == {
            "Recency": "Last order 120 days ago; they used to order about every 40 days",
            "Frequency": "1 order in the last 6 months, down from 5 in the 6 months before",
            "Spend": "Spent 40.00 in the last 6 months, down from 310.00 in the 6 months before",
            "Contact rate": "4 conversations in the last 30 days",
            "Last CSAT": "Rated the last help 2/5 on 3 May",
            "Refunds": "2 refunds or returns in the last 6 months",
        }
        assert 0.9 <= risk <= 0.99

    def test_without_orders_there_is_no_risk(self):
        assert churn_score(ChurnFeatures(contacts_30d=9, last_csat=1), now=NOW) == (None, {})

    def test_a_single_old_order_reads_as_such(self):
        risk, factors = churn_score(ChurnFeatures(orders=1, last_order_at=NOW - timedelta(days=200)), now=NOW)

        assert factors == {"Recency": "Last order 200 days ago; it was their only order"} and risk > 0.2


@pytest.mark.django_db
class TestChurnJobs:
    def test_refresh_saves_score_and_factors_from_orders_refunds_contacts_and_csat(self):
        now = timezone.now()
        customer = CustomerFactory()
        for days in (400, 330, 300, 250, 200):
            OrderFactory(customer=customer, placed_at=now - timedelta(days=days))
        RefundFactory(order=OrderFactory(customer=customer, placed_at=now - timedelta(days=150)))
        for days in (1, 5, 9):
            TicketFactory(customer=customer, created_at=now - timedelta(days=days))
        CSATSurveyFactory(ticket=TicketFactory(customer=customer), rating=1, answered_at=now - timedelta(days=2))

        changed = churn_refresh(customer_ids=[customer.pk], now=now)

        customer.refresh_from_db()
        assert changed == 1 and customer.churn_risk >= 0.6
        assert set(customer.churn_factors) >= {"Recency", "Contact rate", "Last CSAT", "Refunds"}
        assert churn_refresh(customer_ids=[customer.pk], now=now) == 0  # idempotent

    def test_refresh_all_covers_buyers_and_clears_those_with_no_orders_left(self):
        buyer = CustomerFactory()
        OrderFactory(customer=buyer, placed_at=timezone.now() - timedelta(days=300))
        Customer.objects.filter(pk=buyer.pk).update(last_order_at=timezone.now() - timedelta(days=300))
        stale = CustomerFactory(churn_risk=0.9, churn_factors={"x": "y"})
        never = CustomerFactory()

        assert churn_refresh_all(batch_size=1) == 2

        buyer.refresh_from_db(), stale.refresh_from_db(), never.refresh_from_db()
        assert buyer.churn_risk is not None and stale.churn_risk is None and stale.churn_factors == {}
        assert never.churn_risk is None

    def test_the_per_customer_task_runs_the_job(self):
        customer = CustomerFactory()
        OrderFactory(customer=customer, placed_at=timezone.now() - timedelta(days=365))

        assert tasks.churn_refresh_for_customer.delay(customer.pk).get() == 1


@pytest.mark.django_db
class TestBoughtTogether:
    def test_pairs_from_order_lines_with_confidence(self):
        boots, socks, laces, hat = (ProductFactory(name=n) for n in ("Boots", "Socks", "Laces", "Hat"))
        for n in range(4):
            order = OrderFactory()
            OrderLineFactory(order=order, product=boots, position=1)
            if n < 3:
                OrderLineFactory(order=order, product=socks, position=2)
            if n < 1:
                OrderLineFactory(order=order, product=laces, position=3)
        cancelled = OrderFactory(status=Order.Status.CANCELLED)
        OrderLineFactory(order=cancelled, product=boots, position=1)
        OrderLineFactory(order=cancelled, product=hat, position=2)
        old = OrderFactory(placed_at=timezone.now() - timedelta(days=800))
        OrderLineFactory(order=old, product=boots, position=1)
        OrderLineFactory(order=old, product=hat, position=2)

        assert product_affinity_refresh() == 2  # boots->socks and socks->boots; laces and hat too rare

        pair = ProductAffinity.objects.get(product=boots, other=socks)
        assert (pair.together, pair.confidence) == (3, 0.75)
        assert ProductAffinity.objects.get(product=socks, other=boots).confidence == 1.0
        assert product_affinity_refresh() == 2 and ProductAffinity.objects.count() == 2  # idempotent

    def test_the_task_wraps_the_job(self):
        assert tasks.product_affinity_refresh.delay().get() == 0


@pytest.mark.django_db
class TestVipThreshold:
    def test_the_top_five_percent_of_paying_customers(self):
        for value in range(1, 41):
            CustomerFactory(lifetime_value=Decimal(value * 10))
        CustomerFactory(lifetime_value=0)
        CustomerFactory(lifetime_value=Decimal("9999"), erased=True)

        assert vip_threshold_compute() == Decimal("390")  # the top 2 of 40

    def test_with_few_customers_the_best_one_is_the_top(self):
        CustomerFactory(lifetime_value=Decimal("10")), CustomerFactory(lifetime_value=Decimal("20"))

        assert vip_threshold_compute() == Decimal("20")

    def test_nobody_has_spent_anything(self):
        CustomerFactory(lifetime_value=0)

        assert vip_threshold_compute() is None

    def test_the_cache_holds_it_between_refreshes(self, django_assert_num_queries):
        cache.clear()
        CustomerFactory(lifetime_value=Decimal("10"))

        assert tasks.vip_threshold_refresh.delay().get() == "10.00"
        CustomerFactory(lifetime_value=Decimal("5000"))
        with django_assert_num_queries(0):
            assert vip_threshold() == Decimal("10")
        cache.clear()
        assert vip_threshold() == Decimal("5000")


def test_the_beat_schedule_runs_the_jobs():
    from django.conf import settings

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "customers.suggestions.tasks.churn_refresh_all",
        "customers.suggestions.tasks.product_affinity_refresh",
        "customers.suggestions.tasks.vip_threshold_refresh",
    } <= scheduled
    assert tasks.churn_refresh_all.name == "customers.suggestions.tasks.churn_refresh_all"


@pytest.mark.django_db
class TestRefreshedWhenTheDataChanges:
    """The services that record orders, refunds and CSAT answers queue the customer's churn
    refresh once their transaction commits, so the risk follows the data between nightly runs."""

    @staticmethod
    def lapsed_customer() -> Customer:
        customer = CustomerFactory(churn_risk=None, churn_factors={})
        for days in (400, 330, 300, 250):
            OrderFactory(customer=customer, placed_at=timezone.now() - timedelta(days=days))
        return customer

    def test_recording_an_order_refreshes_the_risk_after_commit(self, django_capture_on_commit_callbacks):
        # given a customer whose risk was never computed
        customer = self.lapsed_customer()

        # when the store reports a new (old) order
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            order_record(
                customer=customer,
                source="shop",
                external_id="late-1",
                number="9001",
                total=Decimal("20.00"),
                placed_at=timezone.now() - timedelta(days=200),
            )
        customer.refresh_from_db()
        assert customer.churn_risk is None  # nothing before the commit
        for callback in callbacks:
            callback()

        # then the risk is there, with its factors
        customer.refresh_from_db()
        assert customer.churn_risk is not None and "Recency" in customer.churn_factors

    def test_recording_the_same_order_again_queues_nothing(self, django_capture_on_commit_callbacks):
        customer = self.lapsed_customer()
        fields = {
            "customer": customer,
            "source": "shop",
            "external_id": "same-1",
            "number": "9002",
            "total": Decimal("20.00"),
            "placed_at": timezone.now() - timedelta(days=200),
        }
        order_record(**fields)

        with django_capture_on_commit_callbacks() as callbacks:
            _, changed = order_record(**fields)

        assert not changed and callbacks == []

    def test_a_refund_refreshes_the_risk_with_the_refund_factor(self, django_capture_on_commit_callbacks):
        customer = self.lapsed_customer()
        order = OrderFactory(customer=customer, placed_at=timezone.now() - timedelta(days=100))
        churn_refresh(customer_ids=[customer.pk])

        with django_capture_on_commit_callbacks(execute=True):
            refund_record(order=order, source="shop", external_id="r-1", amount=Decimal("5.00"))

        customer.refresh_from_db()
        assert customer.churn_factors["Refunds"] == "1 refund or return in the last 6 months"

    def test_a_csat_answer_refreshes_the_risk_with_the_rating(self, django_capture_on_commit_callbacks):
        customer = self.lapsed_customer()
        churn_refresh(customer_ids=[customer.pk])
        survey = CSATSurveyFactory(ticket=TicketFactory(customer=customer), sent_at=timezone.now())

        with django_capture_on_commit_callbacks(execute=True):
            csat_survey_answer(survey=survey, rating=1, comment="Nobody answered")

        customer.refresh_from_db()
        assert customer.churn_factors["Last CSAT"].startswith("Rated the last help 1/5")

    def test_a_broker_outage_does_not_fail_the_write(self, django_capture_on_commit_callbacks, monkeypatch, caplog):
        def down(*args, **kwargs):
            raise ConnectionError("broker down")

        monkeypatch.setattr(tasks.churn_refresh_for_customer, "apply_async", down)
        customer = self.lapsed_customer()

        with django_capture_on_commit_callbacks(execute=True):
            order, changed = order_record(
                customer=customer,
                source="shop",
                external_id="down-1",
                number="9003",
                total=Decimal("20.00"),
                placed_at=timezone.now() - timedelta(days=200),
            )

        assert changed and Order.objects.filter(pk=order.pk).exists()
        assert "Could not queue the churn refresh" in caplog.text
        assert cache.get(tasks._debounce_key(customer.pk)) is None  # the next change tries again

    def test_new_conversations_refresh_the_contact_rate_without_the_nightly_job(
        self, django_capture_on_commit_callbacks
    ):
        # given a lapsed buyer whose risk is on file, without a contact factor yet
        customer = self.lapsed_customer()
        churn_refresh(customer_ids=[customer.pk])
        customer.refresh_from_db()
        before = customer.churn_risk
        assert "Contact rate" not in customer.churn_factors
        email = ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="lapsed@example.com")

        # when they write in three times, on email and the web form, and an agent logs a call
        for channel in (Channel.EMAIL, Channel.WEB):
            with django_capture_on_commit_callbacks(execute=True):
                message_receive(channel=channel, sender=email.value, body="Where is my order?")
        with django_capture_on_commit_callbacks(execute=True):
            ticket_open(customer=customer, subject="Phoned about the order", channel=Channel.PHONE)

        # then the risk has the contact factor (tasks run in-process in the tests)
        customer.refresh_from_db()
        assert Ticket.objects.filter(customer=customer).count() == 3
        assert customer.churn_factors["Contact rate"] == "3 conversations in the last 30 days"
        assert customer.churn_risk > before


@pytest.mark.django_db
class TestChurnRefreshDebounce:
    """A burst of changes for one customer queues one refresh, which runs after the burst."""

    @pytest.fixture(autouse=True)
    def queued(self, monkeypatch, settings):
        settings.DESK_SUGGESTIONS_CHURN_DEBOUNCE_SECONDS = 60
        cache.clear()
        calls: list[tuple[tuple, dict]] = []
        monkeypatch.setattr(
            tasks.churn_refresh_for_customer, "apply_async", lambda args, **options: calls.append((args, options))
        )
        yield calls
        cache.clear()

    @staticmethod
    def scored_customer() -> Customer:
        customer = CustomerFactory(churn_risk=0.3, churn_factors={"Recency": "x"})
        ContactPointFactory(customer=customer, channel=Channel.EMAIL, value=f"c{customer.pk}@example.com")
        return customer

    def test_a_burst_of_new_conversations_queues_one_refresh_after_the_burst(
        self, queued, django_capture_on_commit_callbacks
    ):
        # given two customers the risk applies to
        first, second = self.scored_customer(), self.scored_customer()

        # when the first opens twenty conversations in a row and the second one
        for n in range(20):
            with django_capture_on_commit_callbacks(execute=True):
                ticket_open(customer=first, subject=f"Burst {n}", channel=Channel.CHAT)
        with django_capture_on_commit_callbacks(execute=True):
            ticket_open(customer=second, subject="Hello", channel=Channel.CHAT)

        # then each customer's refresh is queued once, to run a minute later
        assert queued == [((first.pk,), {"countdown": 60}), ((second.pk,), {"countdown": 60})]

    def test_a_change_after_the_refresh_started_queues_another(self, queued, django_capture_on_commit_callbacks):
        customer = self.scored_customer()
        with django_capture_on_commit_callbacks(execute=True):
            ticket_open(customer=customer, subject="One", channel=Channel.CHAT)

        tasks.churn_refresh_for_customer(customer.pk)  # the queued run, as a worker would
        with django_capture_on_commit_callbacks(execute=True):
            ticket_open(customer=customer, subject="Two", channel=Channel.CHAT)

        assert [args for args, _ in queued] == [(customer.pk,), (customer.pk,)]

    def test_a_rolled_back_write_holds_nothing_back(self, queued, django_capture_on_commit_callbacks):
        customer = self.scored_customer()
        with django_capture_on_commit_callbacks(execute=False):  # never committed
            ticket_open(customer=customer, subject="Rolled back", channel=Channel.CHAT)

        with django_capture_on_commit_callbacks(execute=True):
            ticket_open(customer=customer, subject="Kept", channel=Channel.CHAT)

        assert [args for args, _ in queued] == [(customer.pk,)]

    def test_a_message_that_continues_a_conversation_queues_nothing(self, queued, django_capture_on_commit_callbacks):
        customer = self.scored_customer()
        sender = f"c{customer.pk}@example.com"
        with django_capture_on_commit_callbacks(execute=True):
            first = message_receive(channel=Channel.EMAIL, sender=sender, body="Hello")
        tasks.churn_refresh_for_customer(customer.pk)

        with django_capture_on_commit_callbacks(execute=True):
            again = message_receive(channel=Channel.EMAIL, sender=sender, body="Hello again")

        assert again.ticket_id == first.ticket_id and len(queued) == 1

    def test_a_customer_without_orders_or_risk_queues_nothing(self, queued, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            message = message_receive(channel=Channel.EMAIL, sender="new.person@example.com", body="Hi")

        assert message.ticket.customer.churn_risk is None and queued == []

    def test_the_ingest_path_pays_no_query_for_it(self, django_capture_on_commit_callbacks):
        # given a customer the risk applies to and one it does not
        scored = self.scored_customer()
        plain = CustomerFactory()
        ContactPointFactory(customer=plain, channel=Channel.EMAIL, value="plain@example.com")

        def opening(sender: str) -> int:
            with django_capture_on_commit_callbacks(execute=False), CaptureQueriesContext(connection) as queries:
                message_receive(channel=Channel.EMAIL, sender=sender, body="A new conversation")
            return len(queries)

        # then opening a conversation costs the same queries for both
        assert opening(f"c{scored.pk}@example.com") == opening("plain@example.com")
