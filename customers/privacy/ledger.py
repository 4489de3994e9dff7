"""The application's half of the append-only consent ledger.

``ConsentRecord`` uses ``AppendOnlyQuerySet`` and refuses to save an existing row or delete one,
unless the code runs inside ``customers.consent.ledger_unlocked()`` (erasure only). On
PostgreSQL a trigger (migration 0003) refuses the same even to raw SQL; both raise an
``IntegrityError`` that says "append-only".

This module imports no models, so ``customers.models`` can import it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import IntegrityError, models

_unlocked: ContextVar[bool] = ContextVar("consent_ledger_unlocked", default=False)


class LedgerAppendOnly(IntegrityError):
    """A rewrite or deletion of a consent decision outside ``ledger_unlocked()``."""


def ledger_is_unlocked() -> bool:
    return _unlocked.get()


def ledger_refuse(operation: str) -> None:
    """Raise unless the current context unlocked the ledger."""
    if not _unlocked.get():
        raise LedgerAppendOnly(f"the consent ledger is append-only: {operation} refused")


@contextmanager
def ledger_flag() -> Iterator[bool]:
    """Mark the current context as unlocked; yields whether it already was (nesting)."""
    previously = _unlocked.get()
    token = _unlocked.set(True)
    try:
        yield previously
    finally:
        _unlocked.reset(token)


class AppendOnlyQuerySet(models.QuerySet):
    """A queryset that appends and reads, and refuses bulk rewrites and deletions."""

    def update(self, **kwargs):
        ledger_refuse("UPDATE")
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        ledger_refuse("UPDATE")
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def delete(self):
        ledger_refuse("DELETE")
        return super().delete()

    delete.alters_data = True
    delete.queryset_only = True
