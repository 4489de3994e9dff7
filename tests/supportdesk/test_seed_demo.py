"""``manage.py seed_demo``: coherent demo data, the demo users, idempotent, resettable."""

import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db.models import Max
from django.test import RequestFactory

from customers import consent
from customers.identity import contact_normalise
from customers.models import (
    Channel,
    ConsentRecord,
    ContactPoint,
    Customer,
    Event,
    Order,
    ProductAffinity,
    Refund,
)
from customers.services import customer_figures_refresh
from customers.suggestions.registry import suggestion_registry
from customers.suggestions.selectors import suggestion_panel
from supportdesk import roles
from tests.factories import CustomerFactory
from tickets.models import CSATSurvey, Macro, Message, Team, Ticket

pytestmark = pytest.mark.django_db

PASSWORD = "demo-pass-123"


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", customers=20, stdout=out, **{"password": PASSWORD, **options})
    return out.getvalue()


def signs_in(username: str, password: str) -> bool:
    # django-axes guards authenticate() and wants the login request.
    request = RequestFactory().post("/accounts/login/")
    return authenticate(request, username=username, password=password) is not None


def table_counts() -> dict[str, int]:
    models = (Customer, ContactPoint, ConsentRecord, Order, Refund, Event, Ticket, Message, CSATSurvey, Macro, Team)
    return {model.__name__: model.objects.count() for model in models}


class TestSeedDemo:
    def test_seeds_a_desk_with_every_kind_of_conversation(self):
        # when
        output = seed()

        # then
        assert Customer.objects.count() == 20
        assert 90 <= Ticket.objects.count() <= 110
        assert set(Ticket.objects.values_list("status", flat=True)) == set(Ticket.Status.values)
        assert set(Ticket.objects.values_list("channel", flat=True)) == set(Channel.values)
        assert set(Customer.objects.values_list("locale", flat=True)) == {"en", "es", "fr", "de"}
        assert Ticket.objects.filter(assignee__username="agent").exists()
        assert Ticket.objects.filter(assignee__isnull=True).exists()
        assert Ticket.objects.filter(team__name="Billing").exists()
        assert Refund.objects.filter(status=Refund.Status.REQUESTED).exists()
        assert any(order.is_late for order in Order.objects.all())
        assert CSATSurvey.objects.filter(rating__in=[1, 2]).exists()
        assert CSATSurvey.objects.filter(rating__in=[4, 5]).exists()
        assert Customer.objects.filter(churn_risk__isnull=False).exclude(churn_factors={}).exists()
        assert Macro.objects.filter(body__contains="{{ order.number }}").exists()
        assert "http://127.0.0.1:8000/" in output

    def test_demo_users_sign_in_with_the_password_in_their_roles(self):
        # when
        seed()

        # then
        for username, role in (("agent", roles.AGENT), ("lead", roles.TEAM_LEAD), ("admin", roles.ADMIN)):
            assert signs_in(username, PASSWORD), username
            assert get_user_model().objects.get(username=username).groups.filter(name=role).exists()
        admin = get_user_model().objects.get(username="admin")
        assert admin.is_staff and admin.is_superuser
        assert Team.objects.get(name="Tier 1").members.filter(username="agent").exists()

    def test_a_generated_password_is_printed_and_works(self):
        # when
        output = seed(password="")

        # then
        password = re.search(r"agent\s+password: (\S+)", output)[1]
        assert signs_in("lead", password)

    def test_events_only_for_customers_who_allow_tracking(self):
        # when
        seed()

        # then
        tracked = [c for c in Customer.objects.all() if consent.allows(c, consent.BEHAVIORAL_TRACKING)]
        with_events = set(Event.objects.values_list("customer_id", flat=True))
        assert with_events
        assert with_events <= {c.pk for c in tracked}
        abandoned = Event.objects.filter(kind=Event.Kind.CART_ABANDONED).first()
        assert abandoned is not None
        assert set(abandoned.payload["items"][0]) == {"sku", "name", "price"}

    def test_consent_ledger_holds_every_kind_of_decision(self):
        # when
        seed()

        # then
        records = ConsentRecord.objects.values_list("purpose__code", "source", "granted")
        assert {code for code, _, _ in records} == {"personalization", "marketing", "behavioral_tracking", "surveys"}
        assert {source for _, source, _ in records} >= {"customer", "agent", "api", "import"}
        assert {granted for _, _, granted in records} == {True, False}

    def test_figures_agree_with_orders_and_messages(self):
        # when
        seed()

        # then
        for customer in Customer.objects.all():
            stored = (customer.lifetime_value, customer.order_count, customer.last_order_at)
            assert customer.order_count == customer.orders.exclude(status=Order.Status.CANCELLED).count()
            refreshed = customer_figures_refresh(customer=customer)
            assert stored == (refreshed.lifetime_value, refreshed.order_count, refreshed.last_order_at)
            inbound = Message.objects.filter(ticket__customer=customer, direction=Message.Direction.INBOUND)
            assert customer.last_contact_at == inbound.aggregate(last=Max("created_at"))["last"]

    def test_threads_read_in_order(self):
        # when
        seed()

        # then
        for ticket in Ticket.objects.prefetch_related("messages"):
            messages = list(ticket.messages.all())
            assert messages and all(m.created_at > ticket.created_at for m in messages)
            said = [m for m in messages if m.direction != Message.Direction.NOTE]
            assert ticket.last_message_at == max(m.created_at for m in said)
            replies = [m.created_at for m in messages if m.direction == Message.Direction.OUTBOUND]
            assert ticket.first_response_at == (min(replies) if replies else None)
            if ticket.status in (Ticket.Status.SOLVED, Ticket.Status.CLOSED):
                assert ticket.solved_at and ticket.solved_by_id
        pairs = set(Message.objects.values_list("direction", "delivery"))
        assert pairs == {("inbound", ""), ("note", ""), ("outbound", "sent")}

    def test_contact_points_are_stored_normalised(self):
        # when
        seed()

        # then
        for point in ContactPoint.objects.select_related("customer"):
            region = point.customer.country
            assert contact_normalise(channel=point.channel, value=point.value, region=region) == point.value

    def test_running_again_adds_nothing_but_updates_the_password(self):
        # given
        seed()
        before = table_counts()

        # when
        output = seed(password="another-one")

        # then
        assert table_counts() == before
        assert "nothing added" in output
        assert signs_in("agent", "another-one")

    def test_reset_starts_over_with_the_same_data(self):
        # given
        seed()
        names = list(Customer.objects.order_by("id").values_list("first_name", "last_name"))
        CustomerFactory(first_name="Stray")

        # when
        seed(reset=True)

        # then
        assert Customer.objects.count() == 20
        assert not Customer.objects.filter(first_name="Stray").exists()
        assert list(Customer.objects.order_by("id").values_list("first_name", "last_name")) == names
        assert signs_in("admin", PASSWORD)

    def test_every_suggestion_rule_fires_for_some_demo_customer(self):
        # given a small demo (the jobs run at its end: bought together, churn risk, VIP threshold)
        output = seed()

        # when every customer's suggestions are computed, on the profile and in their open conversation
        fired: dict[str, str] = {}
        for customer in Customer.objects.order_by("pk"):
            open_ticket = customer.tickets.filter(status__in=Ticket.UNSOLVED).order_by("-created_at").first()
            for ticket in (None, open_ticket):
                for suggestion in suggestion_panel(customer=customer, ticket=ticket, limit=50).suggestions:
                    fired.setdefault(suggestion.rule, suggestion.reason)

        # then each rule is shown somewhere, and the statistics rules read the jobs' figures
        assert "bought-together pairs" in output and ProductAffinity.objects.exists()
        assert set(fired) == {rule.id for rule in suggestion_registry.all()}
        assert re.match(r"\d+% of the orders with .+ also held ", fired["cross_sell"])
        assert re.match(
            r"Churn risk \d+% \(high\)\. Why: .*(Last order \d+ days ago|Rated the last help)", fired["churn_risk"]
        )
        assert fired["order_delayed"].startswith("Order #") and "has not been delivered" in fired["order_delayed"]
