"""factory_boy factories for the whole data model."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from customers.models import (
    Channel,
    ConsentPurpose,
    ConsentRecord,
    ContactPoint,
    Customer,
    Event,
    Order,
    OrderLine,
    Product,
    Refund,
)
from tickets.models import CSATSurvey, Macro, Message, Team, Ticket


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    password = factory.PostGenerationMethodCall("set_password", "pw")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    locale = "en"
    timezone = "Europe/Madrid"
    country = "ES"


class ContactPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPoint

    customer = factory.SubFactory(CustomerFactory)
    channel = Channel.EMAIL
    value = factory.Sequence(lambda n: f"person{n}@example.com")
    is_primary = True


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    external_id = factory.Sequence(lambda n: f"P{n}")
    name = factory.Faker("catch_phrase")
    price = Decimal("19.90")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    external_id = factory.Sequence(lambda n: f"O{n}")
    number = factory.Sequence(lambda n: f"{1000 + n}")
    total = Decimal("49.90")
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=5))
    promised_delivery = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=2))


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    position = factory.Sequence(lambda n: n + 1)
    name = "Walking boots"
    unit_price = Decimal("49.90")


class RefundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Refund

    order = factory.SubFactory(OrderFactory)
    external_id = factory.Sequence(lambda n: f"R{n}")
    amount = Decimal("10.00")


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    customer = factory.SubFactory(CustomerFactory)
    kind = Event.Kind.PAGE_VIEW
    payload = factory.LazyFunction(lambda: {"url": "/products/boots"})


class ConsentRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentRecord

    customer = factory.SubFactory(CustomerFactory)
    purpose = factory.LazyFunction(lambda: ConsentPurpose.objects.get(code="marketing"))
    granted = True
    source = ConsentRecord.Source.CUSTOMER


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Team {n}")


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    customer = factory.SubFactory(CustomerFactory)
    subject = factory.Faker("sentence", nb_words=5)
    channel = Channel.EMAIL


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    channel = Channel.EMAIL
    direction = Message.Direction.INBOUND
    body = factory.Faker("paragraph")


class MacroFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Macro

    name = factory.Sequence(lambda n: f"Macro {n}")
    body = "Hello {{ customer.first_name }}, thanks for writing."


class CSATSurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CSATSurvey

    ticket = factory.SubFactory(TicketFactory)
    channel = Channel.EMAIL
