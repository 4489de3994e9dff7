"""The audit log as admins read it: filtered by actor, customer, action and dates, paged on the
page and streamed as CSV. Profile views, consent changes, exports, erasures, merges and every
other audited action land in the same table (``AuditEvent``)."""

import csv
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from ..models import AuditEvent, Channel, ContactPoint
from ..services import audit_record

CSV_COLUMNS = ["occurred_at", "action", "actor", "customer_id", "customer_public_id", "details"]
# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditQuery:
    actor: str = ""
    customer: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_details(self) -> dict[str, str]:
        return {key: str(value) for key, value in self.__dict__.items() if value}


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _customer_filter(text: str) -> Q:
    text = text.strip()
    if text.isdigit():
        return Q(customer_id=int(text))
    try:
        return Q(customer__public_id=uuid.UUID(text))
    except ValueError:
        pass
    owners = ContactPoint.objects.filter(value=text.lower(), channel=Channel.EMAIL).values("customer_id")
    return Q(customer_id__in=owners)


def audit_events(*, query: AuditQuery) -> QuerySet[AuditEvent]:
    """Audit rows matching ``query``, newest first, with actor and customer joined (one query a page)."""
    events = AuditEvent.objects.select_related("actor", "customer").order_by("-occurred_at", "-id")
    if query.action:
        events = events.filter(action=query.action)
    if query.actor:
        events = events.filter(Q(actor__username__iexact=query.actor) | Q(actor_label__iexact=query.actor))
    if query.customer:
        events = events.filter(_customer_filter(query.customer))
    if query.date_from:
        events = events.filter(occurred_at__gte=_day_start(query.date_from))
    if query.date_to:
        events = events.filter(occurred_at__lt=_day_start(query.date_to + timedelta(days=1)))
    return events


def audit_details_lines(details: dict) -> list[str]:
    """An entry's details as the log page shows them: "key: value" each, empty values left out,
    nested figures (an erasure's counts) as "name n" without the zeros."""
    lines = []
    for key, value in (details or {}).items():
        if value in ("", None, [], {}):
            continue
        if isinstance(value, dict):
            parts = [f"{name.replace('_', ' ')} {item}" for name, item in value.items() if item not in (0, "", None)]
            if not parts:
                continue
            value = ", ".join(parts)
        elif isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        lines.append(f"{key.replace('_', ' ')}: {value}")
    return lines


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def audit_csv_lines(*, query: AuditQuery) -> Iterator[str]:
    """The filtered log as CSV lines, streamed in chunks (the log may be long)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    rows = (
        audit_events(query=query)
        .values_list(
            "occurred_at", "action", "actor__username", "actor_label", "customer_id", "customer__public_id", "details"
        )
        .iterator(chunk_size=2000)
    )
    for occurred_at, action, username, label, customer_id, public_id, details in rows:
        yield writer.writerow(
            [
                _cell(occurred_at.isoformat()),
                _cell(action),
                _cell(username or label),
                _cell(customer_id),
                _cell(public_id),
                _cell(json.dumps(details, ensure_ascii=False, default=str)),
            ]
        )


def audit_export_record(*, actor: AbstractBaseUser, query: AuditQuery) -> AuditEvent:
    """Exporting the audit log is itself audited, with the filters used."""
    return audit_record(action=AuditEvent.Action.AUDIT_EXPORTED, actor=actor, details={"filters": query.as_details()})
