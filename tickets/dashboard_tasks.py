"""Celery tasks for the dashboards: a thin wrapper over ``tickets.dashboards.snapshots``.

Registered through the import at the bottom of ``tickets/tasks.py``.
"""

from celery import shared_task

from .dashboards import snapshots


@shared_task(acks_late=True)
def dashboard_snapshots_refresh() -> int:
    """Beat job: recompute the standard dashboard views so leads never wait for them."""
    return snapshots.snapshots_refresh()
