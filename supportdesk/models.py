"""Integration plumbing shared by the apps: API keys and webhook bookkeeping."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    """A key an integration sends as ``Authorization: Bearer <key>``.

    Only a SHA-256 of the key is stored; the key itself is shown once, at creation.
    ``prefix`` (the first characters) identifies a key in lists and logs.
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Read and write")

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    hashed = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def generate() -> str:
        return "sd_" + secrets.token_urlsafe(32)

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class WebhookDelivery(models.Model):
    """One accepted inbound webhook delivery; (source, delivery_id) makes replays no-ops."""

    source = models.CharField(max_length=50)
    delivery_id = models.CharField(max_length=255)
    received_at = models.DateTimeField(default=timezone.now)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "delivery_id"], name="webhook_delivery_once"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.delivery_id}"


class WebhookSubscription(models.Model):
    """An outbound webhook: the desk POSTs signed events (ticket created, solved, CSAT) here."""

    url = models.URLField()
    events = models.JSONField(default=list, help_text=_("Event names, e.g. ticket.created"))
    secret = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.url


class WebhookOutbox(models.Model):
    """One outbound webhook delivery, stored in the transaction of the change that raised it.

    The task that sends it is queued after commit; if the broker was down then, the row stays
    ``queued`` and ``tickets.tasks.outbox_sweep`` enqueues it again. ``delivery_id`` is sent as
    ``X-Desk-Delivery`` on every attempt, so a receiver can ignore a repeat."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="outbox")
    event = models.CharField(max_length=50)
    payload = models.JSONField(default=dict)
    delivery_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook outbox entry")
        verbose_name_plural = _("webhook outbox")
        indexes = [
            models.Index(fields=["created_at"], name="webhook_outbox_sweep", condition=models.Q(status="queued")),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.delivery_id} ({self.status})"
