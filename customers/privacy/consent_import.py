"""CSV import of consent decisions, as a job with a row-by-row report.

Columns: ``email`` or ``customer`` (the public id), ``purpose`` (a code), ``granted``
(yes/no, true/false, 1/0, granted/withdrawn), and optional ``recorded_at`` (ISO 8601; a date
alone means midnight UTC), ``note`` and ``evidence``. Each good row lands on its own (source
"import"); a bad row is reported with its line, field and reason.

Re-running the same file changes nothing: a row with ``recorded_at`` is skipped when the ledger
already holds that decision at that time; a row without it is skipped when it matches the
customer's current decision for the purpose.
"""

from datetime import UTC, datetime, time

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .. import consent
from ..identity import contact_normalise
from ..imports import CsvFileError, RowError, csv_rows
from ..models import AuditEvent, Channel, ConsentRecord, ContactPoint, Customer, Job
from ..services import audit_record, consent_record
from .jobs import job_execute, job_succeed

IMPORT_WHAT = "consent"
MAX_REPORTED = 2000
_YES = {"yes", "y", "true", "1", "granted", "grant", "opt-in", "si", "sí", "oui", "ja"}
_NO = {"no", "n", "false", "0", "withdrawn", "withdraw", "opt-out", "non", "nein"}


@transaction.atomic
def consent_import_start(*, data: bytes, filename: str, actor: AbstractBaseUser) -> Job:
    """Store the uploaded file in an import job and queue it. Refuses a file that is too big
    or that lacks the required columns (checked now, so the admin hears at once)."""
    if len(data) > settings.DESK_CONSENT_IMPORT_MAX_BYTES:
        raise ValidationError({"file": f"The file is larger than {settings.DESK_CONSENT_IMPORT_MAX_BYTES} bytes."})
    try:
        _columns(data)
    except CsvFileError as exc:
        raise ValidationError({"file": str(exc)}) from None
    job = Job(
        kind=Job.Kind.IMPORT,
        requested_by=actor,
        requested_label=actor.get_username(),
        params={"what": IMPORT_WHAT, "filename": filename[:200]},
    )
    job.file.save("consent-import.csv", ContentFile(data), save=False)
    job.save()
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from ..tasks import consent_import_task

    consent_import_task.delay(job_id)


def _columns(data: bytes) -> list[str]:
    columns, _ = csv_rows(data, required=("purpose", "granted"))
    if "email" not in columns and "customer" not in columns:
        raise CsvFileError("The file needs an email or a customer (public id) column.")
    return columns


def consent_import_run(*, job_id: int) -> Job | None:
    return job_execute(job_id=job_id, kind=Job.Kind.IMPORT, work=_import_work)


def _import_work(job: Job) -> Job:
    with job.file.open("rb") as handle:
        data = handle.read()
    actor = job.requested_by
    result = consent_import_rows(data=data, actor=actor)
    with transaction.atomic():
        audit_record(
            action=AuditEvent.Action.CONSENT_IMPORTED,
            actor=actor,
            actor_label=job.requested_label,
            details={"job": job.pk, **{key: result[key] for key in ("rows", "imported", "skipped", "errors")}},
        )
        return job_succeed(job=job, result=result)


def consent_import_rows(*, data: bytes, actor: AbstractBaseUser | None) -> dict:
    """Import every row (each in its own transaction) and return the report:
    ``{"rows", "imported", "skipped", "errors", "report": [{"line", "status", "field", "reason"}]}``."""
    try:
        _columns(data)
    except CsvFileError as exc:
        raise ValidationError(str(exc)) from None
    _, rows = csv_rows(data, required=("purpose", "granted"))
    counts = {"imported": 0, "skipped": 0, "errors": 0}
    report: list[dict] = []
    for line, row in rows:
        try:
            with transaction.atomic():
                status, reason = _import_row(row, line, actor)
        except _RowRefused as refused:
            status, reason = "error", refused.error
        counts["errors" if status == "error" else status] += 1
        if status != "imported" and len(report) < MAX_REPORTED:
            error = reason if isinstance(reason, RowError) else RowError(line, "", reason)
            report.append({"line": line, "status": status, "field": error.field, "reason": error.reason})
    return {
        "rows": len(rows),
        **counts,
        "report": report,
        "truncated": sum(counts.values()) - counts["imported"] > MAX_REPORTED,
    }


class _RowRefused(Exception):
    def __init__(self, error: RowError):
        super().__init__(str(error))
        self.error = error


def _customer(row: dict[str, str], line: int) -> Customer:
    public_id, email = row.get("customer", ""), row.get("email", "")
    if public_id:
        try:
            customer = Customer.objects.filter(public_id=public_id).first()
        except ValidationError:
            raise _RowRefused(RowError(line, "customer", "Not a customer public id.")) from None
        if customer is None:
            raise _RowRefused(RowError(line, "customer", "No customer has this public id."))
    elif email:
        try:
            normalised = contact_normalise(channel=Channel.EMAIL, value=email)
        except ValidationError:
            raise _RowRefused(RowError(line, "email", "Not an email address.")) from None
        point = ContactPoint.objects.select_related("customer").filter(channel=Channel.EMAIL, value=normalised).first()
        if point is None:
            raise _RowRefused(RowError(line, "email", "No customer has this email address."))
        customer = point.customer
    else:
        raise _RowRefused(RowError(line, "email", "Give the customer's email or public id."))
    while customer.merged_into_id:
        customer = customer.merged_into
    if customer.erased:
        raise _RowRefused(RowError(line, "email" if email else "customer", "This customer was erased."))
    return customer


def _granted(row: dict[str, str], line: int) -> bool:
    value = row.get("granted", "").lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise _RowRefused(RowError(line, "granted", "Write yes or no (or true/false, granted/withdrawn)."))


def _recorded_at(row: dict[str, str], line: int) -> datetime | None:
    raw = row.get("recorded_at", "")
    if not raw:
        return None
    moment = parse_datetime(raw)
    if moment is None:
        day = parse_date(raw)
        if day is None:
            raise _RowRefused(RowError(line, "recorded_at", "Write a date and time as 2024-05-03T14:00:00Z."))
        moment = datetime.combine(day, time.min, tzinfo=UTC)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    if moment > timezone.now():
        raise _RowRefused(RowError(line, "recorded_at", "A decision cannot be in the future."))
    return moment


def _import_row(row: dict[str, str], line: int, actor: AbstractBaseUser | None) -> tuple[str, str | RowError]:
    customer = _customer(row, line)
    purpose = row.get("purpose", "").lower()
    granted = _granted(row, line)
    recorded_at = _recorded_at(row, line)
    state = consent.consent_states(customer).get(purpose)
    if state is None:
        raise _RowRefused(RowError(line, "purpose", f"Unknown or inactive purpose {purpose!r}."))
    if recorded_at is not None:
        if ConsentRecord.objects.filter(
            customer=customer, purpose=state.purpose, granted=granted, recorded_at=recorded_at
        ).exists():
            return "skipped", RowError(line, "", "Already in the ledger.")
    elif not state.is_default and state.granted == granted:
        return "skipped", RowError(line, "", "Same as the customer's current decision.")
    try:
        consent_record(
            customer=customer,
            purpose=purpose,
            granted=granted,
            source=ConsentRecord.Source.IMPORT,
            actor=actor,
            note=row.get("note", "")[:2000],
            evidence=row.get("evidence", "")[:255] or "CSV import",
            recorded_at=recorded_at,
        )
    except ValidationError as exc:
        field, messages = next(iter(getattr(exc, "message_dict", {"": exc.messages}).items()))
        raise _RowRefused(RowError(line, field, " ".join(messages))) from None
    return "imported", ""
