"""Desk notifications: what the SLA sweep (a breach) and a CSAT answer (a low rating) ask a
person to look at. Written by ``tickets.sla`` and ``tickets.csat``; read and acknowledged here.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import Notification

KIND_LABELS = {"sla_breach": "SLA breached", "csat_low": "Low CSAT rating"}


def notifications_for(*, user) -> QuerySet:
    """The person's notifications, unread first, newest first, with their tickets."""
    return (
        Notification.objects.filter(recipient=user)
        .select_related("ticket")
        .order_by("read_at", "-created_at", "-id")  # NULL read_at (unread) sorts first
    )


def notifications_unread_count(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


@transaction.atomic
def notifications_mark_read(*, user, now: datetime | None = None) -> int:
    """Mark every unread notification of ``user`` read; returns how many were."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=now or timezone.now())
