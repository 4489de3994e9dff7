"""The one choke point for consent: every use of personal data for a purpose asks here.

Reads only; decisions are written by ``customers.services.consent_record``. Tasks ask again
when they run, since consent may have changed since they were queued.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from .models import ConsentPurpose, ConsentRecord, Customer

PERSONALIZATION = "personalization"
MARKETING = "marketing"
BEHAVIORAL_TRACKING = "behavioral_tracking"
SURVEYS = "surveys"


@dataclass(frozen=True)
class ConsentState:
    purpose: ConsentPurpose
    granted: bool
    decided_at: datetime | None  # None: the purpose's default applies
    source: str

    @property
    def is_default(self) -> bool:
        return self.decided_at is None


def consent_states(customer: Customer) -> dict[str, ConsentState]:
    """Current state of every active purpose for ``customer``, in two queries.

    An erased customer has granted nothing, whatever the ledger says.
    """
    purposes = list(ConsentPurpose.objects.filter(active=True))
    latest: dict[int, tuple[bool, datetime, str]] = {}
    if customer.pk and not customer.erased:
        records = (
            ConsentRecord.objects.filter(customer=customer, purpose__in=purposes)
            .order_by("purpose_id", "-recorded_at", "-id")
            .values_list("purpose_id", "granted", "recorded_at", "source")
        )
        for purpose_id, granted, recorded_at, source in records:
            latest.setdefault(purpose_id, (granted, recorded_at, source))
    states = {}
    for purpose in purposes:
        if customer.erased:
            states[purpose.code] = ConsentState(purpose, False, None, "erased")
        elif purpose.pk in latest:
            granted, recorded_at, source = latest[purpose.pk]
            states[purpose.code] = ConsentState(purpose, granted, recorded_at, source)
        else:
            states[purpose.code] = ConsentState(purpose, purpose.default_granted, None, "default")
    return states


def allows(customer: Customer, purpose: str) -> bool:
    """May the desk use this customer's data for ``purpose`` (a purpose code) right now?

    An unknown or inactive purpose allows nothing.
    """
    state = consent_states(customer).get(purpose)
    return bool(state and state.granted)


def allowed_purposes(customer: Customer) -> frozenset[str]:
    return frozenset(code for code, state in consent_states(customer).items() if state.granted)


@contextmanager
def ledger_unlocked() -> Iterator[None]:
    """Let this transaction rewrite or delete consent records.

    Only erasure (and the demo reset) may use it: on PostgreSQL a trigger refuses any UPDATE
    or DELETE of the ledger otherwise. Opens a transaction if none is open.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL desk.ledger_unlocked = 'on'")
        try:
            yield
        finally:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL desk.ledger_unlocked = 'off'")
