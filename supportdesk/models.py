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
