"""``manage.py import_customers FILE.csv``: see customers.imports for the columns."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from customers.imports import CsvFileError, ImportReport, customers_import


def report_write(command: BaseCommand, report: ImportReport, path: str) -> None:
    for error in report.errors:
        command.stderr.write(f"{path}: {error}")
    command.stdout.write(
        f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.errors)} error(s)"
    )


class Command(BaseCommand):
    help = "Import customers from a CSV file; bad rows are reported with line, field and reason."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="CSV with a header row: email, phone, first_name, last_name, ...")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw a progress bar.")

    def handle(self, *args, file: str, no_progress: bool, **options) -> None:
        data = _read(file)
        with tqdm(total=_count(data), unit="row", desc="customers", disable=no_progress, file=self.stderr) as bar:
            try:
                report = customers_import(data=data, on_row=lambda: bar.update(1))
            except CsvFileError as exc:
                raise CommandError(f"{file}: {exc}") from exc
        report_write(self, report, file)
        if report.errors:
            raise SystemExit(1)


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc}") from exc


def _count(data: bytes) -> int:
    from customers.imports import rows_counted

    return rows_counted(data)
