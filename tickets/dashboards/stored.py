"""Reading and writing a dashboard view's stored figures (``DashboardSnapshot``), for every view."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from ..models import DashboardSnapshot


def snapshot_fresh(key: str, *, now: datetime) -> DashboardSnapshot | None:
    """The view's stored figures if younger than ``DESK_DASHBOARD_SNAPSHOT_SECONDS``, else None."""
    limit = settings.DESK_DASHBOARD_SNAPSHOT_SECONDS
    return (
        DashboardSnapshot.objects.filter(key=key, computed_at__gt=now - timedelta(seconds=limit))
        .only("computed_at", "figures")
        .first()
    )


def snapshot_store(key: str, *, computed_at: datetime, figures: Any) -> None:
    """Store (or replace) the view's figures; a concurrent store of the same view wins quietly."""
    values = {"computed_at": computed_at, "figures": figures}
    try:
        with transaction.atomic():
            DashboardSnapshot.objects.update_or_create(key=key, defaults=values)
    except IntegrityError:
        pass  # another request stored the same view at the same moment
