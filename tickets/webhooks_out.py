"""Outbound webhooks: the desk tells subscribed systems when a ticket is created or solved and
when a customer answers a CSAT survey.

``webhook_event_publish`` runs inside the service's transaction: it stores one ``WebhookOutbox``
row per matching ``WebhookSubscription`` and queues its Celery task after commit (nothing is sent
for a change that rolled back; a delivery queued while the broker was down is swept up later).
The task POSTs JSON signed exactly like inbound webhooks (``X-Desk-Timestamp``,
``X-Desk-Signature: sha256=HMAC(secret, "timestamp.body")``, ``X-Desk-Delivery``,
``X-Desk-Event``) and retries with backoff. A subscription may not point at loopback, private,
link-local or otherwise internal addresses (SSRF) unless ``DESK_WEBHOOKS_OUT_ALLOW_PRIVATE`` is on;
the address is checked when the request is made and the connection goes to the checked address.
"""

import http.client
import ipaddress
import json
import socket
import ssl
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from supportdesk.models import WebhookOutbox, WebhookSubscription
from supportdesk.webhook_signatures import EVENT_HEADER, signature_headers

from .models import CSATSurvey, Ticket

EVENTS = ("ticket.created", "ticket.solved", "csat.answered")
TIMEOUT_SECONDS = 10
USER_AGENT = "SupportDesk-Webhooks/1"


class WebhookSendError(Exception):
    """A delivery failed; ``permanent`` failures (a refused address) are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def ticket_payload(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "customer": str(ticket.customer.public_id),
        "assignee": ticket.assignee.get_username() if ticket.assignee_id else None,
        "created_at": ticket.created_at,
        "solved_at": ticket.solved_at,
    }


def csat_payload(survey: CSATSurvey) -> dict[str, Any]:
    return {
        "id": survey.pk,
        "ticket": survey.ticket_id,
        "customer": str(survey.ticket.customer.public_id),
        "agent": survey.agent.get_username() if survey.agent_id else None,
        "channel": survey.channel,
        "rating": survey.rating,
        "comment": survey.comment,
        "answered_at": survey.answered_at,
    }


def webhook_event_publish(*, event: str, ticket: Ticket | None = None, survey: CSATSurvey | None = None) -> int:
    """Queue ``event`` for every active subscription to it, after the transaction commits.

    Returns how many deliveries were queued. Cheap when nobody subscribes (one query).
    """
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}.")
    subscriptions = [s for s in WebhookSubscription.objects.filter(active=True) if event in (s.events or [])]
    if not subscriptions:
        return 0
    data = csat_payload(survey) if survey is not None else ticket_payload(ticket)
    payload = json.loads(
        json.dumps({"event": event, "occurred_at": timezone.now(), "data": data}, cls=DjangoJSONEncoder)
    )
    rows = WebhookOutbox.objects.bulk_create(
        [
            WebhookOutbox(subscription=subscription, event=event, payload=payload, delivery_id=str(uuid.uuid4()))
            for subscription in subscriptions
        ]
    )
    for row in rows:
        webhook_outbox_enqueue(row=row)
    return len(rows)


def webhook_outbox_enqueue(*, row: WebhookOutbox) -> None:
    """Queue the task for a stored delivery after commit. robust: a broker that is down must not
    fail the change that raised the event; the row stays queued for ``outbox_sweep``."""
    from .tasks import webhook_deliver

    transaction.on_commit(
        lambda: webhook_deliver.delay(row.subscription_id, row.event, row.payload, row.delivery_id), robust=True
    )


def webhook_outbox_sent_already(*, delivery_id: str) -> bool:
    """True if this delivery went out before (a repeat from the sweep or a redelivered task)."""
    return WebhookOutbox.objects.filter(delivery_id=delivery_id, status=WebhookOutbox.Status.SENT).exists()


def webhook_outbox_record(*, delivery_id: str, error: str = "", final: bool = False) -> None:
    """Record one attempt: sent (no ``error``), failed for now, or failed for good (``final``)."""
    now = timezone.now()
    updates: dict[str, Any] = {"attempts": F("attempts") + 1, "last_attempt_at": now, "last_error": error[:500]}
    if not error:
        updates.update(status=WebhookOutbox.Status.SENT, sent_at=now)
    elif final:
        updates["status"] = WebhookOutbox.Status.FAILED
    WebhookOutbox.objects.filter(delivery_id=delivery_id).exclude(status=WebhookOutbox.Status.SENT).update(**updates)


def _address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def webhook_target_resolve(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, address to connect to) for ``url``, or ``ValidationError`` if refused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": "Use an http or https URL."})
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ValidationError({"url": f"Cannot resolve {parts.hostname}: {exc}."}) from None
    addresses = [info[4][0] for info in infos]
    if not settings.DESK_WEBHOOKS_OUT_ALLOW_PRIVATE:
        refused = [address for address in addresses if not _address_allowed(address)]
        if refused:
            raise ValidationError(
                {"url": f"{parts.hostname} resolves to an internal address ({refused[0]}); webhooks may not go there."}
            )
    return parts.scheme, parts.hostname, port, addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, **kwargs) -> None:
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, **kwargs) -> None:
        super().__init__(host, port, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def webhook_send(*, subscription_id: int, event: str, payload: dict, delivery_id: str) -> int:
    """POST one signed delivery; returns the HTTP status. Raises ``WebhookSendError``."""
    subscription = WebhookSubscription.objects.filter(pk=subscription_id, active=True).first()
    if subscription is None:
        raise WebhookSendError("The subscription is gone or inactive.", permanent=True)
    try:
        scheme, host, port, address = webhook_target_resolve(subscription.url)
    except ValidationError as exc:
        raise WebhookSendError(" ".join(exc.messages), permanent=True) from None
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: event,
        **signature_headers(secret=subscription.secret, body=body, delivery_id=delivery_id),
    }
    parts = urlsplit(subscription.url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address, timeout=TIMEOUT_SECONDS)
    try:
        connection.request("POST", path, body=body, headers=headers)
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        raise WebhookSendError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        connection.close()
    if not 200 <= status < 300:
        raise WebhookSendError(f"The endpoint answered {status}.", permanent=status in (400, 401, 403, 404, 410))
    return status
