"""``manage.py import_orders FILE.csv``: one row per order line; see customers.imports."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from customers.imports import CsvFileError, csv_rows, orders_import

from .import_customers import _read, report_write


class Command(BaseCommand):
    help = "Import orders (one row per line) from a CSV file; bad rows are reported with line, field and reason."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="CSV with a header row: order_id, email, placed_at, total, item, ...")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw a progress bar.")

    def handle(self, *args, file: str, no_progress: bool, **options) -> None:
        data = _read(file)
        try:
            _, rows = csv_rows(data, required=())
        except CsvFileError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        orders = len({(row.get("source", ""), row.get("order_id", "")) for _, row in rows})
        with tqdm(total=orders, unit="order", desc="orders", disable=no_progress, file=self.stderr) as bar:
            try:
                report = orders_import(data=data, on_row=lambda: bar.update(1))
            except CsvFileError as exc:
                raise CommandError(f"{file}: {exc}") from exc
        report_write(self, report, file)
        if report.errors:
            raise SystemExit(1)
