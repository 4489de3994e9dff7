"""``/webhooks/orders/``: the order and refund payloads a typical online store sends.

Shaped like Shopify's ``orders/create``, ``orders/updated`` and ``refunds/create`` (see
docs/integrations.md for the accepted fields). An order payload has ``line_items``; a refund
payload has ``order_id`` and ``transactions``. The source system is ``X-Desk-Source`` (default
``store``); orders and refunds are upserted by (source, the store's id), so a replay changes
nothing. Signature, idempotency and atomicity come from ``supportdesk.webhook_receiver``.
"""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.dateparse import parse_date, parse_datetime

from supportdesk.webhook_receiver import WebhookBodyError, json_body, webhook_endpoint

from .ingest import OrderInput, RefundInput, customer_upsert, order_ingest
from .models import Order, Refund
from .services import LineInput

SOURCE_HEADER = "X-Desk-Source"
_SOURCE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")


class _Payload:
    """Typed reads from the JSON payload; every problem is collected with the field's path."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, list[str]] = {}

    def _fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def text(self, obj: dict, key: str, path: str, *, required: bool = False, max_length: int = 255) -> str:
        value = obj.get(key)
        if value is None or value == "":
            if required:
                self._fail(path, "This field is required.")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int):
            self._fail(path, "Expected a string or a number.")
            return ""
        value = str(value).strip()
        if len(value) > max_length:
            self._fail(path, f"At most {max_length} characters.")
        return value[:max_length]

    def money(self, obj: dict, key: str, path: str, *, required: bool = False) -> Decimal:
        value = obj.get(key)
        if value in (None, ""):
            if required:
                self._fail(path, "This field is required.")
            return Decimal("0")
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            self._fail(path, "Expected a decimal amount.")
            return Decimal("0")
        if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
            self._fail(path, "Expected an amount from 0 to 9,999,999,999.99.")
            return Decimal("0")
        return amount.quantize(Decimal("0.01"))

    def moment(self, obj: dict, key: str, path: str, *, required: bool = False) -> datetime | None:
        value = obj.get(key)
        if value in (None, ""):
            if required:
                self._fail(path, "This field is required.")
            return None
        moment = parse_datetime(value) if isinstance(value, str) else None
        if moment is None or moment.tzinfo is None:
            self._fail(path, "Expected an ISO 8601 date-time with a UTC offset.")
            return None
        return moment

    def day(self, obj: dict, key: str, path: str) -> date | None:
        value = obj.get(key)
        if value in (None, ""):
            return None
        parsed = None
        if isinstance(value, str):
            parsed = parse_date(value[:10])
        if parsed is None:
            self._fail(path, "Expected an ISO 8601 date.")
        return parsed

    def items(self, obj: dict, key: str, path: str, *, limit: int = 500) -> list[dict]:
        value = obj.get(key) or []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self._fail(path, "Expected a list of objects.")
            return []
        if len(value) > limit:
            self._fail(path, f"At most {limit} items.")
            return []
        return value

    def check(self) -> None:
        if self.errors:
            first = next(iter(self.errors))
            raise WebhookBodyError(f"{first}: {self.errors[first][0]}", self.errors)


def _status(data: dict[str, Any]) -> str:
    """Shopify's financial and fulfillment states, mapped onto the desk's order status."""
    if data.get("cancelled_at"):
        return Order.Status.CANCELLED
    financial = str(data.get("financial_status") or "").lower()
    fulfillment = str(data.get("fulfillment_status") or "").lower()
    shipments = {
        str(f.get("shipment_status") or "").lower() for f in data.get("fulfillments") or [] if isinstance(f, dict)
    }
    if financial == "refunded":
        return Order.Status.REFUNDED
    if "delivered" in shipments:
        return Order.Status.DELIVERED
    if fulfillment in ("fulfilled", "partial", "shipped"):
        return Order.Status.SHIPPED
    if financial in ("pending", "authorized", "partially_paid", "unpaid"):
        return Order.Status.PENDING
    return Order.Status.PAID


def _refund(payload: _Payload, item: dict, path: str) -> RefundInput:
    external_id = payload.text(item, "id", f"{path}.id", required=True, max_length=100)
    transactions = payload.items(item, "transactions", f"{path}.transactions")
    if transactions:
        amount = sum(
            (payload.money(t, "amount", f"{path}.transactions[{i}].amount") for i, t in enumerate(transactions)),
            Decimal("0"),
        )
        states = {str(t.get("status") or "").lower() for t in transactions}
    else:
        amount = payload.money(item, "amount", f"{path}.amount")
        states = {str(item.get("status") or "success").lower()}
    if states <= {"success"}:
        status = Refund.Status.COMPLETED
    elif "failure" in states or "error" in states:
        status = Refund.Status.REJECTED
    else:
        status = Refund.Status.REQUESTED
    created = payload.moment(item, "created_at", f"{path}.created_at")
    return RefundInput(
        external_id=external_id,
        amount=amount,
        status=status,
        kind=Refund.Kind.RETURN if item.get("restock") or item.get("return_id") else Refund.Kind.REFUND,
        reason=payload.text(item, "note", f"{path}.note"),
        requested_at=created,
        completed_at=created if status == Refund.Status.COMPLETED else None,
    )


def _order_from_payload(data: dict[str, Any], source: str, label: str) -> dict[str, Any]:
    payload = _Payload(data)
    external_id = payload.text(data, "id", "id", required=True, max_length=100)
    number = payload.text(data, "order_number", "order_number", max_length=50) or payload.text(
        data, "name", "name", max_length=50
    ).lstrip("#")
    customer = data.get("customer") if isinstance(data.get("customer"), dict) else {}
    email = payload.text(customer, "email", "customer.email", max_length=254) or payload.text(
        data, "email", "email", max_length=254
    )
    phone = payload.text(customer, "phone", "customer.phone", max_length=40) or payload.text(
        data, "phone", "phone", max_length=40
    )
    if not email and not phone:
        payload._fail("customer.email", "The order needs the customer's email or phone.")
    lines = []
    for index, item in enumerate(payload.items(data, "line_items", "line_items")):
        path = f"line_items[{index}]"
        quantity = item.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 100_000:
            payload._fail(f"{path}.quantity", "Expected a whole number from 1.")
            quantity = 1
        lines.append(
            LineInput(
                name=payload.text(item, "title", f"{path}.title", required=True),
                quantity=quantity,
                unit_price=payload.money(item, "price", f"{path}.price"),
                sku=payload.text(item, "sku", f"{path}.sku", max_length=100),
                product_external_id=payload.text(item, "product_id", f"{path}.product_id", max_length=100),
            )
        )
    fulfillments = [f for f in payload.items(data, "fulfillments", "fulfillments") if isinstance(f, dict)]
    latest = fulfillments[-1] if fulfillments else {}
    refunds = [
        _refund(payload, item, f"refunds[{i}]") for i, item in enumerate(payload.items(data, "refunds", "refunds"))
    ]
    order = OrderInput(
        source=source,
        external_id=external_id,
        number=number or external_id[:50],
        total=payload.money(data, "total_price", "total_price", required=True),
        placed_at=payload.moment(data, "created_at", "created_at", required=True),
        status=_status(data),
        currency=(payload.text(data, "currency", "currency", max_length=3) or "EUR").upper(),
        promised_delivery=payload.day(data, "estimated_delivery_at", "estimated_delivery_at"),
        shipped_at=payload.moment(latest, "created_at", "fulfillments[-1].created_at"),
        delivered_at=payload.moment(latest, "delivered_at", "fulfillments[-1].delivered_at"),
        carrier=payload.text(latest, "tracking_company", "fulfillments[-1].tracking_company", max_length=50),
        tracking_number=payload.text(latest, "tracking_number", "fulfillments[-1].tracking_number", max_length=100),
        tracking_url=payload.text(latest, "tracking_url", "fulfillments[-1].tracking_url", max_length=200),
        lines=lines,
        refunds=refunds,
    )
    payload.check()
    upsert = customer_upsert(
        email=email,
        phone=phone,
        first_name=payload.text(customer, "first_name", "customer.first_name", max_length=150),
        last_name=payload.text(customer, "last_name", "customer.last_name", max_length=150),
        actor_label=label,
    )
    result = order_ingest(customer=upsert.customer, order=order, create_products=True)
    return {
        "kind": "order",
        "order": result.order.pk,
        "external_id": external_id,
        "customer": str(upsert.customer.public_id),
        "changed": result.changed,
    }


def _refund_from_payload(data: dict[str, Any], source: str) -> dict[str, Any]:
    payload = _Payload(data)
    order_external_id = payload.text(data, "order_id", "order_id", required=True, max_length=100)
    refund = _refund(payload, data, "refund")
    payload.check()
    order = Order.objects.filter(source=source, external_id=order_external_id).select_related("customer").first()
    if order is None:
        raise WebhookBodyError(
            f"No order {order_external_id} from {source}; send the order first.", {"order_id": ["Unknown order."]}
        )
    from .services import refund_record

    recorded, changed = refund_record(
        order=order,
        source=source,
        external_id=refund.external_id,
        amount=refund.amount,
        status=refund.status,
        kind=refund.kind,
        reason=refund.reason,
        requested_at=refund.requested_at,
        completed_at=refund.completed_at,
    )
    return {"kind": "refund", "refund": recorded.pk, "order": order.pk, "changed": changed}


def orders_webhook_handle(request: HttpRequest, body: bytes) -> dict[str, Any]:
    data = json_body(body)
    if not isinstance(data, dict):
        raise WebhookBodyError("Send one order or refund as a JSON object.")
    source = (request.headers.get(SOURCE_HEADER) or "store").strip().lower()
    if not _SOURCE.match(source):
        raise WebhookBodyError(f"{SOURCE_HEADER} must be a short slug.", {SOURCE_HEADER: ["Invalid source."]})
    label = f"webhook {source}"
    try:
        if "line_items" in data or "total_price" in data:
            return _order_from_payload(data, source, label)
        if "order_id" in data:
            return _refund_from_payload(data, source)
    except ValidationError as exc:
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"customer": exc.messages}
        raise WebhookBodyError("; ".join(exc.messages), fields) from None
    raise WebhookBodyError("Not an order (no line_items) or a refund (no order_id).")


orders_webhook = webhook_endpoint("orders", orders_webhook_handle)
