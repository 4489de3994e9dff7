"""The one choke point for consent: every use of personal data for a purpose asks here.

Reads only; decisions are written by ``customers.services.consent_record``. Tasks ask again
when they run, since consent may have changed since they were queued.

- ``allows(customer, purpose)``: may the desk use the data for this purpose now?
- ``purposes_missing(customer, required)``: which of several needed purposes are not granted
  (a suggestion needing ``personalization`` and ``marketing``, a survey needing ``surveys``).
- ``allows_each(customers=..., purpose=...)``: ``allows`` for a whole batch, in two queries.
- ``blocked_reason(customer, purpose)``: the sentence an agent sees when something is blocked,
  e.g. "Offers and reminders not granted (withdrawn 3 May via preference centre)".
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import formats, timezone

from .models import ConsentPurpose, ConsentRecord, Customer
from .privacy.ledger import ledger_flag

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

    @property
    def explanation(self) -> str:
        """Why the purpose stands as it does, in plain words: "withdrawn 3 May via preference centre"."""
        if self.source == "erased":
            return "the customer was erased"
        if self.decided_at is None:
            return "granted by default" if self.granted else "not granted by default"
        verdict = "granted" if self.granted else "withdrawn"
        return f"{verdict} {_short_date(self.decided_at)} {SOURCE_PHRASES.get(self.source, 'by ' + self.source)}"


SOURCE_PHRASES = {
    ConsentRecord.Source.CUSTOMER: "via preference centre",
    ConsentRecord.Source.AGENT: "as stated to an agent",
    ConsentRecord.Source.ADMIN: "by an admin",
    ConsentRecord.Source.API: "via an integration",
    ConsentRecord.Source.IMPORT: "by import",
}


def _short_date(moment: datetime) -> str:
    local = timezone.localtime(moment)
    pattern = "j M" if local.year == timezone.localdate().year else "j M Y"
    return formats.date_format(local, pattern)


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


def allows_each(*, customers: list[Customer], purpose: str) -> dict[int, bool]:
    """``allows(customer, purpose)`` for many customers at once, in two queries (batches such as
    event ingest would otherwise ask once per customer). Same rule as ``consent_states``."""
    purpose_obj = ConsentPurpose.objects.filter(code=purpose, active=True).first()
    if purpose_obj is None:
        return {customer.pk: False for customer in customers}
    live = [customer.pk for customer in customers if not customer.erased]
    records = ConsentRecord.objects.filter(purpose=purpose_obj, customer_id__in=live).order_by(
        "customer_id", "-recorded_at", "-id"
    )
    if connection.vendor == "postgresql":
        records = records.distinct("customer_id")
    latest: dict[int, bool] = {}
    for customer_id, granted in records.values_list("customer_id", "granted"):
        latest.setdefault(customer_id, granted)
    return {
        customer.pk: False if customer.erased else latest.get(customer.pk, purpose_obj.default_granted)
        for customer in customers
    }


def allowed_purposes(customer: Customer) -> frozenset[str]:
    return frozenset(code for code, state in consent_states(customer).items() if state.granted)


def purposes_missing(customer: Customer, required: Iterable[str]) -> list[str]:
    """The purposes among ``required`` that the customer has not granted (in the order given).

    Empty means the use may go ahead. One read of the ledger, however many purposes.
    """
    wanted = list(dict.fromkeys(code for code in required if code))
    if not wanted:
        return []
    states = consent_states(customer)
    return [code for code in wanted if not (code in states and states[code].granted)]


def blocked_reason(customer: Customer, purpose: str) -> str:
    """Why a use for ``purpose`` is blocked, for the agent to read; empty when it is allowed.

    e.g. "Offers and reminders not granted (withdrawn 3 May via preference centre)".
    """
    state = consent_states(customer).get(purpose)
    if state is None:
        known = ConsentPurpose.objects.filter(code=purpose).first()
        if known is None:
            return f"Unknown consent purpose {purpose!r}"
        return f"{known.name} is switched off for the whole desk (inactive purpose)"
    if state.granted:
        return ""
    return f"{state.purpose.name} not granted ({state.explanation})"


@contextmanager
def ledger_unlocked() -> Iterator[None]:
    """Let this transaction rewrite or delete consent records.

    Only erasure (and the demo reset) may use it: the application refuses any update or
    delete of the ledger otherwise (``customers.privacy.ledger``), and on PostgreSQL so does a
    trigger. Opens a transaction (or a savepoint) if none is open; if the block fails, rolling
    that back also undoes the unlock.
    """
    with transaction.atomic(), ledger_flag() as already_unlocked:
        _database_unlock("on")
        yield
        if not already_unlocked:
            _database_unlock("off")


def _database_unlock(value: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('desk.ledger_unlocked', %s, true)", [value])
