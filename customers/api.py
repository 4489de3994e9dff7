"""REST API for customers, contact points, products, orders, events, consents and jobs.

Thin: serializers check the shape of input, one service does the work, the read serializers
say what integrations see. Customers are addressed by their ``public_id`` (a UUID that never
changes), never by the database id. Mounted under ``/api/v1/`` by ``supportdesk.api.urls``.
"""

import re
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from supportdesk.api.authentication import ApiKeyUser, request_actor
from supportdesk.api.base import DeskApiView, DeskViewSet
from supportdesk.api.filters import QueryFilter

from . import consent
from .identity import contact_normalise
from .ingest import OrderInput, RefundInput, customer_update, events_ingest, order_ingest
from .models import (
    AuditEvent,
    Channel,
    ConsentRecord,
    ContactPoint,
    Customer,
    Event,
    Job,
    Order,
    OrderLine,
    Product,
    Refund,
)
from .selectors import customer_search
from .services import (
    EventInput,
    LineInput,
    audit_record,
    consent_record,
    contact_point_add,
    customer_create,
    product_record,
)

EVENTS_PER_BATCH = 1000


def _contact_filter(channel: str):
    def apply(queryset: QuerySet, value: str) -> QuerySet:
        try:
            normalised = contact_normalise(channel=channel, value=value)
        except ValidationError as exc:
            raise serializers.ValidationError({channel: exc.messages}) from None
        return queryset.filter(contact_points__channel=channel, contact_points__value=normalised)

    return apply


# ---------------------------------------------------------------------------------------------
# Customers


class ContactPointSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactPoint
        fields = ["channel", "value", "is_primary", "verified"]


class CustomerSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    display_name = serializers.CharField(read_only=True)
    merged_into = serializers.UUIDField(source="merged_into.public_id", read_only=True, allow_null=True)
    contact_points = ContactPointSerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "display_name",
            "first_name",
            "last_name",
            "preferred_name",
            "locale",
            "timezone",
            "country",
            "contact_points",
            "lifetime_value",
            "order_count",
            "last_order_at",
            "last_contact_at",
            "churn_risk",
            "created_at",
            "updated_at",
            "erased",
            "merged_into",
        ]
        read_only_fields = fields


class ContactInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    value = serializers.CharField(max_length=254)


class CustomerCreateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    preferred_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    locale = serializers.ChoiceField(choices=Customer._meta.get_field("locale").choices, default="en")
    timezone = serializers.CharField(max_length=64, default="UTC")
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    contact_points = ContactInputSerializer(many=True, required=False, default=list)


class CustomerUpdateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    preferred_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    locale = serializers.ChoiceField(choices=Customer._meta.get_field("locale").choices, required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)


def _contacts_of(data: dict[str, Any]) -> list[tuple[str, str]]:
    contacts = [(Channel.EMAIL, data["email"])] if data.get("email") else []
    if data.get("phone"):
        contacts.append((Channel.PHONE, data["phone"]))
    contacts += [(item["channel"], item["value"]) for item in data.get("contact_points", [])]
    return contacts


@extend_schema_view(
    list=extend_schema(summary="List or look up customers", tags=["customers"]),
    retrieve=extend_schema(summary="Read a customer", tags=["customers"]),
    create=extend_schema(
        summary="Create a customer",
        tags=["customers"],
        request=CustomerCreateSerializer,
        responses={201: CustomerSerializer},
    ),
    partial_update=extend_schema(
        summary="Update a customer's profile",
        tags=["customers"],
        request=CustomerUpdateSerializer,
        responses={200: CustomerSerializer},
    ),
)
class CustomerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    DeskViewSet,
):
    """Customers, addressed by their public id (a UUID)."""

    serializer_class = CustomerSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "public_id"
    lookup_value_converter = "uuid"
    http_method_names = ["get", "post", "patch", "head", "options"]
    read_permissions = ("customers.view_customer",)
    write_permissions = ("customers.change_customer",)
    action_permissions = {"create": ("customers.add_customer",)}
    ordering_fields = ("created_at", "updated_at", "lifetime_value", "order_count")
    ordering = ("-created_at",)
    query_filters = {
        "q": QueryFilter(
            apply=lambda qs, value: qs.filter(pk__in=customer_search(query=value).values("pk")),
            description="Name, email, phone or order number contains this.",
        ),
        "email": QueryFilter(apply=_contact_filter(Channel.EMAIL), description="Exact email address (any case)."),
        "phone": QueryFilter(
            apply=_contact_filter(Channel.PHONE), description="Phone number, E.164 or national (US default)."
        ),
        "country": QueryFilter(apply=lambda qs, value: qs.filter(country=value.upper()), max_length=2),
        "updated_after": QueryFilter(apply=lambda qs, value: qs.filter(updated_at__gt=value), kind="datetime"),
    }

    def get_queryset(self) -> QuerySet[Customer]:
        queryset = Customer.objects.select_related("merged_into").prefetch_related(
            Prefetch("contact_points", queryset=ContactPoint.objects.order_by("channel", "-is_primary", "id"))
        )
        if self.action == "list":
            queryset = queryset.filter(merged_into__isnull=True)
        return queryset

    def get_queryset_for(self, pk: int) -> Customer:
        return Customer.objects.select_related("merged_into").prefetch_related("contact_points").get(pk=pk)

    def retrieve(self, request, *args, **kwargs):
        customer = self.get_object()
        actor, label = request_actor(request)
        audit_record(action=AuditEvent.Action.PROFILE_VIEWED, customer=customer, actor=actor, actor_label=label)
        return Response(CustomerSerializer(customer).data)

    def create(self, request, *args, **kwargs):
        data = _valid(CustomerCreateSerializer, request.data)
        actor, label = request_actor(request)
        contacts = _contacts_of(data)
        try:
            customer = customer_create(
                first_name=data["first_name"],
                last_name=data["last_name"],
                preferred_name=data["preferred_name"],
                locale=data["locale"],
                timezone_name=data["timezone"],
                country=data["country"],
                contacts=contacts,
                actor=actor,
                actor_label=label,
            )
        except ValidationError as exc:
            raise _named_contact_error(exc, data) from None
        customer = self.get_queryset().get(pk=customer.pk)
        return Response(CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        customer = self.get_object()
        data = _valid(CustomerUpdateSerializer, request.data)
        actor, label = request_actor(request)
        customer_update(customer=customer, values=data, actor=actor, actor_label=label)
        return Response(CustomerSerializer(self.get_queryset().get(pk=customer.pk)).data)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)


def _named_contact_error(exc: ValidationError, data: dict[str, Any]) -> ValidationError:
    """Point a contact point's error at the field it came from (email, phone or contact_points)."""
    if not hasattr(exc, "error_dict"):
        field = "email" if data.get("email") else "phone" if data.get("phone") else "contact_points"
        return ValidationError({field: exc.messages})
    if set(exc.error_dict) <= {"value"}:
        field = "email" if data.get("email") else "phone" if data.get("phone") else "contact_points"
        return ValidationError({field: exc.message_dict["value"]})
    return exc


def _valid(serializer_class, data, **kwargs) -> dict[str, Any]:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# Consents


class ConsentStateSerializer(serializers.Serializer):
    purpose = serializers.CharField()
    name = serializers.CharField()
    granted = serializers.BooleanField()
    source = serializers.CharField(help_text="Who decided, or 'default' when no decision was recorded.")
    decided_at = serializers.DateTimeField(allow_null=True)


class ConsentRecordSerializer(serializers.ModelSerializer):
    purpose = serializers.CharField(source="purpose.code")
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    wording_version = serializers.IntegerField(source="wording.version", allow_null=True, default=None)

    class Meta:
        model = ConsentRecord
        fields = ["id", "purpose", "granted", "source", "actor", "note", "evidence", "wording_version", "recorded_at"]
        read_only_fields = fields


class ConsentsSerializer(serializers.Serializer):
    states = ConsentStateSerializer(many=True)
    ledger = ConsentRecordSerializer(many=True)


class ConsentDecisionSerializer(serializers.Serializer):
    purpose = serializers.SlugField(max_length=50)
    granted = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


LEDGER_LIMIT = 500


def _consents_payload(customer: Customer) -> dict[str, Any]:
    states = [
        {
            "purpose": code,
            "name": state.purpose.name,
            "granted": state.granted,
            "source": state.source,
            "decided_at": state.decided_at,
        }
        for code, state in consent.consent_states(customer).items()
    ]
    ledger = ConsentRecord.objects.filter(customer=customer).select_related("purpose", "actor", "wording")
    return {"states": states, "ledger": list(ledger[:LEDGER_LIMIT])}


class CustomerConsentsView(DeskApiView):
    """A customer's current consent states and their ledger; POST records a decision (source "api")."""

    read_permissions = ("customers.view_consentrecord",)
    write_permissions = ("customers.add_consentrecord",)

    def _customer(self, public_id) -> Customer:
        customer = Customer.objects.filter(public_id=public_id).first()
        if customer is None:
            raise Http404
        return customer

    @extend_schema(summary="A customer's consents", tags=["consents"], responses={200: ConsentsSerializer})
    def get(self, request, public_id):
        customer = self._customer(public_id)
        return Response(ConsentsSerializer(_consents_payload(customer)).data)

    @extend_schema(
        summary="Record a consent decision",
        tags=["consents"],
        request=ConsentDecisionSerializer,
        responses={201: ConsentRecordSerializer},
    )
    def post(self, request, public_id):
        customer = self._customer(public_id)
        data = _valid(ConsentDecisionSerializer, request.data)
        actor, label = request_actor(request)
        record = consent_record(
            customer=customer,
            purpose=data["purpose"],
            granted=data["granted"],
            source=ConsentRecord.Source.API,
            actor=actor,
            actor_label=label,
            note=data["note"],
        )
        record = ConsentRecord.objects.select_related("purpose", "actor", "wording").get(pk=record.pk)
        return Response(ConsentRecordSerializer(record).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------
# Contact points


class ContactPointReadSerializer(serializers.ModelSerializer):
    customer = serializers.UUIDField(source="customer.public_id")

    class Meta:
        model = ContactPoint
        fields = ["id", "customer", "channel", "value", "is_primary", "verified", "created_at"]
        read_only_fields = fields


class ContactPointCreateSerializer(serializers.Serializer):
    customer = serializers.SlugRelatedField(slug_field="public_id", queryset=Customer.objects.all())
    channel = serializers.ChoiceField(choices=Channel.choices)
    value = serializers.CharField(max_length=254)
    verified = serializers.BooleanField(default=False)


@extend_schema_view(
    list=extend_schema(summary="List contact points", tags=["customers"]),
    create=extend_schema(
        summary="Add a contact point to a customer",
        tags=["customers"],
        request=ContactPointCreateSerializer,
        responses={201: ContactPointReadSerializer, 200: ContactPointReadSerializer},
    ),
)
class ContactPointViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, DeskViewSet):
    """Emails, phones, chat visitors and social handles; each belongs to exactly one customer."""

    serializer_class = ContactPointReadSerializer
    read_permissions = ("customers.view_contactpoint",)
    write_permissions = ("customers.add_contactpoint",)
    ordering_fields = ("created_at",)
    query_filters = {
        "customer": QueryFilter(apply=lambda qs, value: qs.filter(customer__public_id=value), kind="uuid"),
        "channel": QueryFilter(apply=lambda qs, value: qs.filter(channel=value), choices=tuple(Channel.values)),
        "value": QueryFilter(apply=lambda qs, value: qs.filter(value__iexact=value), max_length=254),
    }

    def get_queryset(self) -> QuerySet[ContactPoint]:
        return ContactPoint.objects.select_related("customer")

    def create(self, request, *args, **kwargs):
        data = _valid(ContactPointCreateSerializer, request.data)
        existed = ContactPoint.objects.filter(customer=data["customer"], channel=data["channel"]).values_list(
            "value", flat=True
        )
        before = set(existed)
        try:
            point = contact_point_add(
                customer=data["customer"], channel=data["channel"], value=data["value"], verified=data["verified"]
            )
        except ValidationError as exc:
            messages = exc.message_dict.get("value", exc.messages) if hasattr(exc, "error_dict") else exc.messages
            raise ValidationError({"value": messages}) from None
        created = point.value not in before
        point = ContactPoint.objects.select_related("customer").get(pk=point.pk)
        return Response(
            ContactPointReadSerializer(point).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


# ---------------------------------------------------------------------------------------------
# Products


class ProductSerializer(serializers.ModelSerializer):
    source = serializers.SlugField(max_length=50, default="store")
    external_id = serializers.CharField(max_length=100)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, default=0)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", default="EUR")
    # A CharField, not URLField: "" is a valid answer, which OpenAPI's uri format would refuse.
    url = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        validators=[URLValidator(schemes=["http", "https"])],
    )

    class Meta:
        model = Product
        fields = ["id", "source", "external_id", "sku", "name", "category", "price", "currency", "url", "active"]
        read_only_fields = ["id"]
        extra_kwargs = {"sku": {"default": ""}, "category": {"default": ""}, "active": {"default": True}}
        # Upsert by (source, external_id): the uniqueness check is the service's, not the serializer's.
        validators: list = []


@extend_schema_view(
    list=extend_schema(summary="List products", tags=["catalogue"]),
    retrieve=extend_schema(summary="Read a product", tags=["catalogue"]),
    create=extend_schema(
        summary="Create or update a product by (source, external_id)",
        tags=["catalogue"],
        responses={201: ProductSerializer, 200: ProductSerializer},
    ),
)
class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, DeskViewSet):
    serializer_class = ProductSerializer
    lookup_url_kwarg = "product_id"
    lookup_value_converter = "int"
    read_permissions = ("customers.view_product",)
    write_permissions = ("customers.add_product", "customers.change_product")
    ordering_fields = ("name", "price")
    query_filters = {
        "source": QueryFilter(apply=lambda qs, value: qs.filter(source=value), max_length=50),
        "external_id": QueryFilter(apply=lambda qs, value: qs.filter(external_id=value), max_length=100),
        "sku": QueryFilter(apply=lambda qs, value: qs.filter(sku=value), max_length=100),
        "active": QueryFilter(apply=lambda qs, value: qs.filter(active=value), kind="boolean"),
        "q": QueryFilter(apply=lambda qs, value: qs.filter(name__icontains=value), description="Name contains."),
    }

    def get_queryset(self) -> QuerySet[Product]:
        return Product.objects.all()

    def create(self, request, *args, **kwargs):
        data = _valid(ProductSerializer, request.data)
        product, created = product_record(
            source=data["source"],
            external_id=data["external_id"],
            name=data["name"],
            price=data["price"],
            currency=data["currency"],
            sku=data["sku"],
            category=data["category"],
            url=data["url"],
            active=data["active"],
        )
        return Response(
            ProductSerializer(product).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


# ---------------------------------------------------------------------------------------------
# Orders


class OrderLineSerializer(serializers.Serializer):
    position = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=255)
    sku = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=1, max_value=100_000, default=1)
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, default=0)
    product_external_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class OrderLineOutSerializer(serializers.ModelSerializer):
    product_external_id = serializers.SerializerMethodField()

    class Meta:
        model = OrderLine
        fields = ["position", "name", "sku", "quantity", "unit_price", "product_external_id"]

    def get_product_external_id(self, line: OrderLine) -> str:
        return line.product.external_id if line.product else ""


class RefundSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=Refund.Kind.choices, default=Refund.Kind.REFUND)
    status = serializers.ChoiceField(choices=Refund.Status.choices, default=Refund.Status.REQUESTED)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    requested_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    completed_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class OrderSerializer(serializers.ModelSerializer):
    customer = serializers.UUIDField(source="customer.public_id", read_only=True)
    # Declared nested serializers are bound once per page; a method field built a new
    # serializer (and deep-copied its fields) for every order.
    lines = OrderLineOutSerializer(many=True, read_only=True)
    refunds = RefundSerializer(many=True, read_only=True)
    is_late = serializers.BooleanField(read_only=True)
    tracking_url = serializers.CharField(read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "source",
            "external_id",
            "number",
            "customer",
            "status",
            "currency",
            "total",
            "placed_at",
            "promised_delivery",
            "shipped_at",
            "delivered_at",
            "carrier",
            "tracking_number",
            "tracking_url",
            "is_late",
            "lines",
            "refunds",
            "updated_at",
        ]
        read_only_fields = fields


class OrderWriteSerializer(serializers.Serializer):
    source = serializers.SlugField(max_length=50, default="store")
    external_id = serializers.CharField(max_length=100)
    number = serializers.CharField(max_length=50)
    customer = serializers.SlugRelatedField(
        slug_field="public_id", queryset=Customer.objects.all(), required=False, allow_null=True, default=None
    )
    customer_email = serializers.EmailField(required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(choices=Order.Status.choices, default=Order.Status.PAID)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", default="EUR")
    total = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    placed_at = serializers.DateTimeField()
    promised_delivery = serializers.DateField(required=False, allow_null=True, default=None)
    shipped_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    delivered_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    carrier = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    tracking_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    tracking_url = serializers.URLField(max_length=200, required=False, allow_blank=True, default="")
    lines = OrderLineSerializer(many=True, required=False, max_length=500)
    refunds = RefundSerializer(many=True, required=False, default=list, max_length=100)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["customer"] is None and not attrs["customer_email"]:
            raise serializers.ValidationError({"customer": "Give the customer's id or customer_email."})
        return attrs


def _order_customer(data: dict[str, Any], label: str) -> Customer:
    from .ingest import customer_upsert

    if data["customer"] is not None:
        customer = data["customer"]
        while customer.merged_into_id:
            customer = customer.merged_into
        return customer
    return customer_upsert(email=data["customer_email"], actor_label=label).customer


def _orders_queryset() -> QuerySet[Order]:
    return Order.objects.select_related("customer").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("position")),
        Prefetch("refunds", queryset=Refund.objects.order_by("-requested_at")),
    )


@extend_schema_view(
    list=extend_schema(summary="List orders", tags=["orders"]),
    retrieve=extend_schema(summary="Read an order", tags=["orders"]),
    create=extend_schema(
        summary="Create or update an order by (source, external_id)",
        description=(
            "Idempotent upsert: sending the same order again changes nothing (200). Lines, when sent, "
            "replace the order's lines (a product_external_id the catalogue lacks is added to it); "
            "refunds are upserted by their own external_id."
        ),
        tags=["orders"],
        request=OrderWriteSerializer,
        responses={201: OrderSerializer, 200: OrderSerializer},
    ),
)
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, DeskViewSet):
    serializer_class = OrderSerializer
    lookup_url_kwarg = "order_id"
    lookup_value_converter = "int"
    read_permissions = ("customers.view_order",)
    write_permissions = ("customers.add_order", "customers.change_order")
    ordering_fields = ("placed_at", "updated_at")
    ordering = ("-placed_at",)
    query_filters = {
        "customer": QueryFilter(apply=lambda qs, value: qs.filter(customer__public_id=value), kind="uuid"),
        "status": QueryFilter(apply=lambda qs, value: qs.filter(status=value), choices=tuple(Order.Status.values)),
        "number": QueryFilter(apply=lambda qs, value: qs.filter(number=value.lstrip("#")), max_length=50),
        "source": QueryFilter(apply=lambda qs, value: qs.filter(source=value), max_length=50),
        "external_id": QueryFilter(apply=lambda qs, value: qs.filter(external_id=value), max_length=100),
        "placed_after": QueryFilter(apply=lambda qs, value: qs.filter(placed_at__gte=value), kind="datetime"),
        "placed_before": QueryFilter(apply=lambda qs, value: qs.filter(placed_at__lt=value), kind="datetime"),
    }

    def get_queryset(self) -> QuerySet[Order]:
        return _orders_queryset()

    def create(self, request, *args, **kwargs):
        data = _valid(OrderWriteSerializer, request.data)
        _, label = request_actor(request)
        customer = _order_customer(data, label)
        existed = Order.objects.filter(source=data["source"], external_id=data["external_id"]).exists()
        lines = data.get("lines")
        result = order_ingest(
            customer=customer,
            order=OrderInput(
                source=data["source"],
                external_id=data["external_id"],
                number=data["number"].lstrip("#"),
                total=data["total"],
                placed_at=data["placed_at"],
                status=data["status"],
                currency=data["currency"].upper(),
                promised_delivery=data["promised_delivery"],
                shipped_at=data["shipped_at"],
                delivered_at=data["delivered_at"],
                carrier=data["carrier"],
                tracking_number=data["tracking_number"],
                tracking_url=data["tracking_url"],
                lines=None if lines is None else [LineInput(**line) for line in lines],
                refunds=[RefundInput(**refund) for refund in data["refunds"]],
            ),
            create_products=True,
        )
        order = _orders_queryset().get(pk=result.order.pk)
        return Response(OrderSerializer(order).data, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------
# Events


class EventSerializer(serializers.Serializer):
    customer = serializers.UUIDField(required=False, allow_null=True, default=None, help_text="Public id.")
    email = serializers.EmailField(required=False, allow_blank=True, default="", help_text="Or the email.")
    kind = serializers.ChoiceField(choices=Event.Kind.choices)
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    source = serializers.SlugField(max_length=50, default="store")
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    payload = serializers.DictField(required=False, default=dict)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["customer"] is None and not attrs["email"]:
            raise serializers.ValidationError({"customer": "Give the customer's id or email."})
        return attrs


class EventBatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Stored.")
    dropped = serializers.IntegerField(help_text="Not stored: the customer has not consented to behavioral_tracking.")
    duplicates = serializers.IntegerField(help_text="Already stored (same source and external_id).")


# What an event batch needs of a customer (its id, consent's erased flag, a merge to follow):
# a batch names up to 1,000 customers, and loading every column of each cost more than storing
# the events.
_EVENT_CUSTOMER_FIELDS = ("id", "public_id", "merged_into_id", "erased")


def _customers_for_events(items: list[dict[str, Any]]) -> tuple[list[Customer | None], dict[str, list[str]]]:
    """Resolve every event's customer in two queries; errors name the event's index."""
    ids = {item["customer"] for item in items if item["customer"] is not None}
    emails = {item["email"].lower() for item in items if item["customer"] is None}
    customers = Customer.objects.only(*_EVENT_CUSTOMER_FIELDS)
    by_id = {c.public_id: c for c in customers.filter(public_id__in=ids)} if ids else {}
    by_email = {}
    if emails:
        points = (
            ContactPoint.objects.select_related("customer")
            .only("value", *(f"customer__{name}" for name in _EVENT_CUSTOMER_FIELDS))
            .filter(channel=Channel.EMAIL, value__in=emails)
        )
        by_email = {point.value: point.customer for point in points}
    survivors = {c.merged_into_id for c in [*by_id.values(), *by_email.values()] if c.merged_into_id}
    final = {c.pk: c for c in customers.filter(pk__in=survivors)} if survivors else {}
    found: list[Customer | None] = []
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        customer = by_id.get(item["customer"]) if item["customer"] is not None else by_email.get(item["email"].lower())
        if customer is None:
            field = "customer" if item["customer"] is not None else "email"
            errors[f"[{index}].{field}"] = ["No such customer."]
        elif customer.merged_into_id:
            customer = final.get(customer.merged_into_id, customer)
        found.append(customer)
    return found, errors


_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
_EVENT_KINDS = frozenset(Event.Kind.values)


def _events_fast(data: list) -> list[dict[str, Any]] | None:
    """Validate a batch the way ``EventSerializer(many=True)`` does, ten times faster; ``None``
    when anything is off, so that the serializer runs and names every problem."""
    items = []
    for raw in data:
        if not isinstance(raw, dict):
            return None
        customer, email = raw.get("customer"), raw.get("email") or ""
        email = email.strip() if isinstance(email, str) else email
        kind, occurred_at = raw.get("kind"), raw.get("occurred_at")
        source, external_id = raw.get("source", "store"), raw.get("external_id") or ""
        payload = raw.get("payload", {})
        if not isinstance(kind, str) or kind not in _EVENT_KINDS:
            return None
        if not isinstance(payload, dict) or not isinstance(external_id, str):
            return None
        if not isinstance(source, str) or not 0 < len(source) <= 50 or not _SLUG.match(source):
            return None
        if len(external_id) > 100 or not isinstance(email, str):
            return None
        if customer is not None:
            try:
                customer = uuid.UUID(customer) if isinstance(customer, str) else None
            except ValueError:
                return None
            if customer is None:
                return None
        elif not email or "@" not in email or len(email) > 254:
            return None
        if occurred_at is not None:
            try:
                moment = parse_datetime(occurred_at) if isinstance(occurred_at, str) else None
            except ValueError:  # well formed but impossible, e.g. month 13
                return None
            if moment is None:
                return None
            occurred_at = timezone.make_aware(moment) if timezone.is_naive(moment) else moment
        items.append(
            {
                "customer": customer,
                "email": email,
                "kind": kind,
                "occurred_at": occurred_at,
                "source": source,
                "external_id": external_id,
                "payload": payload,
            }
        )
    return items


class EventBatchView(DeskApiView):
    """A batch of up to 1,000 behavioural events. Events of customers who have not granted
    ``behavioral_tracking`` are dropped, not stored; the answer counts them."""

    write_permissions = ("customers.add_event",)

    @extend_schema(
        summary="Record a batch of browsing events",
        tags=["events"],
        request=EventSerializer(many=True),
        responses={200: EventBatchResultSerializer},
    )
    def post(self, request):
        if not isinstance(request.data, list):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON array of events."]})
        if not 1 <= len(request.data) <= EVENTS_PER_BATCH:
            raise serializers.ValidationError({"non_field_errors": [f"Send 1 to {EVENTS_PER_BATCH} events."]})
        items = _events_fast(request.data)
        if items is None:
            serializer = EventSerializer(data=request.data, many=True)
            serializer.is_valid(raise_exception=True)
            items = serializer.validated_data
        customers, errors = _customers_for_events(items)
        if errors:
            raise serializers.ValidationError(errors)
        now = timezone.now()
        result = events_ingest(
            events=[
                EventInput(
                    customer=customer,
                    kind=item["kind"],
                    occurred_at=item["occurred_at"] or now,
                    payload=item["payload"],
                    source=item["source"],
                    external_id=item["external_id"],
                )
                for item, customer in zip(items, customers, strict=True)
            ]
        )
        return Response(
            {"accepted": result.accepted, "dropped": result.dropped, "duplicates": result.duplicates},
            status=status.HTTP_200_OK,
        )


# ---------------------------------------------------------------------------------------------
# Jobs


class JobSerializer(serializers.ModelSerializer):
    customer = serializers.UUIDField(source="customer.public_id", allow_null=True, default=None, read_only=True)

    class Meta:
        model = Job
        fields = ["id", "kind", "status", "customer", "created_at", "started_at", "finished_at", "result", "error"]
        read_only_fields = fields


@extend_schema_view(retrieve=extend_schema(summary="Poll a job (export, erasure, import)", tags=["jobs"]))
class JobViewSet(mixins.RetrieveModelMixin, DeskViewSet):
    serializer_class = JobSerializer
    lookup_url_kwarg = "job_id"
    lookup_value_converter = "int"
    read_permissions = ("customers.view_job",)

    def get_queryset(self) -> QuerySet[Job]:
        return Job.objects.select_related("customer")


# ---------------------------------------------------------------------------------------------
# Timeline, export, erasure and merge (services in customers.timeline, customers.privacy, customers.merge)


def _customer_or_404(public_id) -> Customer:
    customer = Customer.objects.filter(public_id=public_id).first()
    if customer is None:
        raise Http404
    return customer


class TimelineItemSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    channel = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField()
    badge = serializers.CharField()
    private = serializers.BooleanField(help_text="An internal note; only desk users see these.")


class TimelinePageSerializer(serializers.Serializer):
    results = TimelineItemSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The next page's URL, or null.")
    hidden_kinds = serializers.ListField(
        child=serializers.CharField(), help_text="Kinds left out because the customer has not consented."
    )


class TimelineQuerySerializer(serializers.Serializer):
    kind = serializers.CharField(required=False, max_length=50)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    cursor = serializers.CharField(required=False, max_length=200)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100, default=25)


class CustomerTimelineView(DeskApiView):
    """Everything dated about a customer, newest first: orders, events, tickets, messages, CSAT."""

    read_permissions = ("customers.view_customer",)

    @extend_schema(
        summary="A customer's unified timeline",
        tags=["customers"],
        parameters=[TimelineQuerySerializer],
        responses={200: TimelinePageSerializer},
    )
    def get(self, request, public_id):
        from .timeline import timeline_for_customer

        customer = _customer_or_404(public_id)
        unknown = set(request.query_params) - set(TimelineQuerySerializer().fields)
        if unknown:
            raise serializers.ValidationError({name: ["Unknown query parameter."] for name in sorted(unknown)})
        query = _valid(TimelineQuerySerializer, request.query_params)
        page = timeline_for_customer(
            customer=customer,
            kinds=[query["kind"]] if query.get("kind") else None,
            channel=query.get("channel"),
            cursor=query.get("cursor"),
            limit=query["page_size"],
        )
        desk_user = not isinstance(request.user, ApiKeyUser)
        items = [item for item in page.items if desk_user or not item.private]
        next_url = None
        if page.next_cursor:
            params = request.query_params.copy()
            params["cursor"] = page.next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        body = {"results": items, "next": next_url, "hidden_kinds": page.hidden_kinds}
        return Response(TimelinePageSerializer(body).data)


class JobRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class CustomerExportView(DeskApiView):
    """Start an export of everything the desk holds about the customer (JSON); poll the job."""

    write_permissions = ("customers.export_customer",)

    @extend_schema(
        summary="Start a data export",
        tags=["privacy"],
        request=JobRequestSerializer,
        responses={202: JobSerializer},
    )
    def post(self, request, public_id):
        from .privacy.export import customer_export_start

        customer = _customer_or_404(public_id)
        data = _valid(JobRequestSerializer, request.data)
        actor, label = request_actor(request)
        job = customer_export_start(customer=customer, actor=actor, reason=data["reason"], actor_label=label)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class EraseRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why (at least 10 characters); it is audited.")


class CustomerEraseView(DeskApiView):
    """Start the erasure of the customer's personal data (figures are kept); poll the job."""

    write_permissions = ("customers.erase_customer",)

    @extend_schema(
        summary="Start an erasure",
        tags=["privacy"],
        request=EraseRequestSerializer,
        responses={202: JobSerializer},
    )
    def post(self, request, public_id):
        from .privacy.erasure import customer_erase_start

        customer = _customer_or_404(public_id)
        data = _valid(EraseRequestSerializer, request.data)
        actor, label = request_actor(request)
        job = customer_erase_start(customer=customer, actor=actor, reason=data["reason"], actor_label=label)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class MergeRequestSerializer(serializers.Serializer):
    survivor = serializers.SlugRelatedField(slug_field="public_id", queryset=Customer.objects.all())
    merged = serializers.SlugRelatedField(slug_field="public_id", queryset=Customer.objects.all())
    field_choices = serializers.DictField(
        child=serializers.ChoiceField(choices=["survivor", "merged"]),
        required=False,
        default=dict,
        help_text="For each profile field, whose value the survivor keeps.",
    )
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class MergeResultSerializer(serializers.Serializer):
    merge = serializers.IntegerField()
    survivor = CustomerSerializer()


class CustomerMergeView(DeskApiView):
    """Fold one customer into another; everything moves and a merge record is kept (undoable in the desk)."""

    write_permissions = ("customers.merge_customer",)

    @extend_schema(
        summary="Merge two customers",
        tags=["customers"],
        request=MergeRequestSerializer,
        responses={200: MergeResultSerializer},
    )
    def post(self, request):
        from django.contrib.auth.models import AnonymousUser

        from .merge import customer_merge

        data = _valid(MergeRequestSerializer, request.data)
        if data["survivor"].pk == data["merged"].pk:
            raise serializers.ValidationError({"merged": ["Choose two different customers."]})
        actor, label = request_actor(request)
        reason = data["reason"] or f"via the API ({label})"
        merge = customer_merge(
            survivor=data["survivor"],
            merged=data["merged"],
            actor=actor or AnonymousUser(),
            field_choices=data["field_choices"],
            reason=reason,
        )
        survivor = CustomerViewSet().get_queryset_for(merge.survivor_id)
        return Response({"merge": merge.pk, "survivor": CustomerSerializer(survivor).data})
