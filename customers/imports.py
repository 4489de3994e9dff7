"""Bulk imports from CSV: customers, and orders with their lines.

Every row is checked on its own; a bad row is reported with its line, field and reason and the
good rows still land (each row, or each order with its lines, commits on its own). Re-running
the same file changes nothing: customers are matched by email (else phone), orders by
(source, order_id), consent columns record a decision only when it differs from the ledger.

Customers: ``email, phone, first_name, last_name, preferred_name, locale, timezone, country``
and optional ``consent_<purpose>`` columns (yes/no). Orders, one row per line:
``order_id, email, placed_at, total`` (required) and ``source, number, status, currency,
promised_delivery, first_name, last_name, item, sku, product_id, quantity, unit_price``.
"""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from . import consent
from .ingest import OrderInput, customer_upsert, order_ingest
from .models import ConsentPurpose, ConsentRecord, Order
from .services import LineInput, consent_record

IMPORT_LABEL = "csv import"
_YES = {"yes", "y", "true", "1", "granted", "opt-in", "si", "sí", "oui", "ja"}
_NO = {"no", "n", "false", "0", "withdrawn", "opt-out", "non", "nein"}


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class CsvFileError(ValueError):
    """The file itself cannot be read as CSV (not a bad row)."""


def csv_rows(data: bytes, *, required: tuple[str, ...]) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(columns, [(line number, row)]) from CSV bytes: UTF-8 (with or without BOM), else
    Windows-1252; comma or semicolon separated. Raises ``CsvFileError`` for missing columns."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = [(name or "").strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in required if name not in columns]
    if missing:
        raise CsvFileError(f"Missing column(s): {', '.join(missing)}. Found: {', '.join(columns) or 'none'}.")
    reader.fieldnames = columns
    rows = []
    line = reader.line_num
    for row in reader:
        values = {key: (value or "").strip() for key, value in row.items() if key}
        if any(values.values()):
            rows.append((line + 1, values))
        line = reader.line_num
    return columns, rows


def _errors_of(exc: ValidationError, line: int, default_field: str) -> list[RowError]:
    if hasattr(exc, "error_dict"):
        return [
            RowError(line, default_field if name in ("__all__", "value") else name, message)
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    return [RowError(line, default_field, message) for message in exc.messages]


def _consent_columns(columns: list[str]) -> dict[str, str]:
    codes = set(ConsentPurpose.objects.filter(active=True).values_list("code", flat=True))
    return {column: column.removeprefix("consent_") for column in columns if column.removeprefix("consent_") in codes
            and column.startswith("consent_")}  # fmt: skip


def _consent_value(raw: str) -> bool | None:
    lowered = raw.strip().lower()
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    raise ValueError("Write yes or no (or leave it empty).")


def customers_import(*, data: bytes, on_row: Callable[[], None] | None = None) -> ImportReport:
    """Import customers from CSV bytes. See the module docstring for the columns."""
    columns, rows = csv_rows(data, required=())
    if "email" not in columns and "phone" not in columns:
        raise CsvFileError("The file needs an email or a phone column.")
    consents = _consent_columns(columns)
    report = ImportReport()
    for line, row in rows:
        _customer_row(line, row, consents, report)
        if on_row:
            on_row()
    return report


class _RowRejected(Exception):
    """Rolls back a row that was read only to name all of its bad fields."""


def _customer_row(line: int, row: dict[str, str], consents: dict[str, str], report: ImportReport) -> None:
    # Every bad field of the row is reported, not only the first: a bad consent column does
    # not hide a bad email or timezone in the same row.
    row_errors: list[RowError] = []
    decisions: dict[str, bool] = {}
    for column, purpose in consents.items():
        if row.get(column):
            try:
                value = _consent_value(row[column])
            except ValueError as exc:
                row_errors.append(RowError(line, column, str(exc)))
                continue
            if value is not None:
                decisions[purpose] = value
    if not row.get("email") and not row.get("phone"):
        report.errors.extend([*row_errors, RowError(line, "email", "Give an email address or a phone number.")])
        return
    try:
        with transaction.atomic():
            upsert = customer_upsert(
                email=row.get("email", ""),
                phone=row.get("phone", ""),
                first_name=row.get("first_name", ""),
                last_name=row.get("last_name", ""),
                preferred_name=row.get("preferred_name", ""),
                locale=row.get("locale", ""),
                timezone_name=row.get("timezone", ""),
                country=row.get("country", ""),
                actor_label=IMPORT_LABEL,
            )
            if row_errors:
                raise _RowRejected
            changed = upsert.changed
            if decisions and not upsert.customer.erased:
                states = consent.consent_states(upsert.customer)
                for purpose, granted in decisions.items():
                    state = states.get(purpose)
                    if state is None or state.is_default or state.granted != granted:
                        consent_record(
                            customer=upsert.customer,
                            purpose=purpose,
                            granted=granted,
                            source=ConsentRecord.Source.IMPORT,
                            actor_label=IMPORT_LABEL,
                            note=f"CSV import, line {line}",
                        )
                        changed = True
    except ValidationError as exc:
        row_errors.extend(_errors_of(exc, line, "email" if row.get("email") else "phone"))
    except _RowRejected:
        pass
    if row_errors:
        report.errors.extend(row_errors)
        return
    if upsert.created:
        report.created += 1
    elif changed:
        report.updated += 1
    else:
        report.unchanged += 1


# ---------------------------------------------------------------------------------------------
# Orders


def _decimal(raw: str, name: str, *, required: bool = False) -> Decimal | None:
    if not raw:
        if required:
            raise ValidationError({name: "This field is required."})
        return None
    try:
        value = Decimal(raw.replace(",", ".") if raw.count(",") == 1 and "." not in raw else raw.replace(",", ""))
    except InvalidOperation:
        raise ValidationError({name: f"Not an amount: {raw!r}."}) from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e10"):
        raise ValidationError({name: "Give an amount from 0 to 9,999,999,999.99."})
    return value.quantize(Decimal("0.01"))


def _moment(raw: str, name: str) -> datetime:
    if not raw:
        raise ValidationError({name: "This field is required."})
    moment = parse_datetime(raw)
    if moment is None:
        day = parse_date(raw)
        if day is None:
            raise ValidationError({name: f"Not an ISO 8601 date or date-time: {raw!r}."})
        moment = datetime.combine(day, time(12, 0))
    return timezone.make_aware(moment, timezone.get_fixed_timezone(0)) if timezone.is_naive(moment) else moment


@dataclass
class _OrderRows:
    first_line: int
    header: dict[str, Any]
    lines: list[LineInput] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


_ORDER_FIELDS = ("email", "placed_at", "total", "number", "status", "currency", "promised_delivery")


def _order_header(line: int, row: dict[str, str]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}

    def check(name: str, parse: Callable[[], Any]) -> Any:
        try:
            return parse()
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)
            return None

    status = row.get("status") or Order.Status.PAID
    if status not in Order.Status.values:
        errors["status"] = [f"Choose one of: {', '.join(Order.Status.values)}."]
    promised = None
    if row.get("promised_delivery"):
        promised = parse_date(row["promised_delivery"])
        if promised is None:
            errors["promised_delivery"] = ["Not an ISO 8601 date."]
    currency = (row.get("currency") or "EUR").upper()
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = ["Give a three-letter currency code."]
    if not row.get("email"):
        errors["email"] = ["This field is required."]
    header = {
        "email": row.get("email", ""),
        "first_name": row.get("first_name", ""),
        "last_name": row.get("last_name", ""),
        "number": (row.get("number") or row.get("order_id", "")).lstrip("#")[:50],
        "placed_at": check("placed_at", lambda: _moment(row.get("placed_at", ""), "placed_at")),
        "total": check("total", lambda: _decimal(row.get("total", ""), "total", required=True)),
        "status": status,
        "currency": currency,
        "promised_delivery": promised,
    }
    if errors:
        raise ValidationError(errors)
    return header


def _order_line(row: dict[str, str]) -> LineInput | None:
    if not row.get("item") and not row.get("sku"):
        return None
    errors: dict[str, str] = {}
    quantity = 1
    if row.get("quantity"):
        try:
            quantity = int(row["quantity"])
            if not 1 <= quantity <= 100_000:
                raise ValueError
        except ValueError:
            errors["quantity"] = "Give a whole number from 1."
    try:
        unit_price = _decimal(row.get("unit_price", ""), "unit_price") or Decimal("0")
    except ValidationError as exc:
        errors["unit_price"] = exc.messages[0]
        unit_price = Decimal("0")
    if errors:
        raise ValidationError(errors)
    return LineInput(
        name=(row.get("item") or row.get("sku", ""))[:255],
        quantity=quantity,
        unit_price=unit_price,
        sku=row.get("sku", "")[:100],
        product_external_id=row.get("product_id", "")[:100],
    )


def _group_orders(rows: list[tuple[int, dict[str, str]]]) -> tuple[dict[tuple[str, str], _OrderRows], list[RowError]]:
    groups: dict[tuple[str, str], _OrderRows] = {}
    loose: list[RowError] = []
    for line, row in rows:
        order_id = row.get("order_id", "")
        if not order_id:
            loose.append(RowError(line, "order_id", "This field is required."))
            continue
        source = (row.get("source") or "store").lower()[:50]
        key = (source, order_id[:100])
        group = groups.get(key)
        try:
            header = _order_header(line, row)
        except ValidationError as exc:
            header = None
            errors = _errors_of(exc, line, "order_id")
        else:
            errors = []
        if group is None:
            group = groups[key] = _OrderRows(first_line=line, header=header or {})
        elif header is not None and group.header:
            for name in _ORDER_FIELDS:
                if header[name] != group.header[name]:
                    errors.append(RowError(line, name, f"Differs from line {group.first_line} of the same order."))
        if header is None:
            group.header = {}
        group.errors.extend(errors)
        try:
            order_line = _order_line(row)
        except ValidationError as exc:
            group.errors.extend(_errors_of(exc, line, "item"))
        else:
            if order_line:
                group.lines.append(order_line)
    return groups, loose


def orders_import(*, data: bytes, on_row: Callable[[], None] | None = None) -> ImportReport:
    """Import orders (one CSV row per order line). See the module docstring for the columns."""
    _, rows = csv_rows(data, required=("order_id", "email", "placed_at", "total"))
    groups, loose = _group_orders(rows)
    report = ImportReport(errors=list(loose))
    for (source, order_id), group in groups.items():
        if group.errors or not group.header:
            report.errors.extend(group.errors)
        else:
            _order_group(source, order_id, group, report)
        if on_row:
            on_row()
    report.errors.sort(key=lambda error: error.line)
    return report


def _order_group(source: str, order_id: str, group: _OrderRows, report: ImportReport) -> None:
    header = group.header
    existed = Order.objects.filter(source=source, external_id=order_id).exists()
    try:
        with transaction.atomic():
            customer = customer_upsert(
                email=header["email"],
                first_name=header["first_name"],
                last_name=header["last_name"],
                actor_label=IMPORT_LABEL,
            ).customer
            result = order_ingest(
                customer=customer,
                order=OrderInput(
                    source=source,
                    external_id=order_id,
                    number=header["number"],
                    total=header["total"],
                    placed_at=header["placed_at"],
                    status=header["status"],
                    currency=header["currency"],
                    promised_delivery=header["promised_delivery"],
                    lines=group.lines or None,
                ),
                create_products=True,
            )
    except ValidationError as exc:
        report.errors.extend(_errors_of(exc, group.first_line, "order_id"))
        return
    if not existed:
        report.created += 1
    elif result.changed:
        report.updated += 1
    else:
        report.unchanged += 1


def rows_counted(data: bytes) -> int:
    """How many data rows a CSV holds, for a progress bar's total."""
    return max(0, sum(1 for _ in _lines(data)) - 1)


def _lines(data: bytes) -> Iterator[bytes]:
    yield from (line for line in data.splitlines() if line.strip())
