"""``python manage.py bench --scale s|m|l [--json FILE]``: the desk's benchmark on PostgreSQL.

Builds (or reuses) a reference dataset in its own database — ``<DATABASE_URL name>_bench_<scale>``
— with COPY, then measures warm, sequential, in-process requests to every agent page and the
API, and the throughput of event and email ingestion and of a short HTTP run under gunicorn.
Prints a table and writes JSON with ``p95_ms`` and ``queries`` for each path.
"""

import json
import logging
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand, CommandError, call_command
from django.db import connection

from supportdesk.bench import scenarios
from supportdesk.bench.dataset import SCALES, database_use, dataset_build, dataset_exists, dataset_handles
from supportdesk.bench.measure import host_reference_ms


class Command(BaseCommand):
    help = "Benchmark the desk on PostgreSQL at a given scale."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), default="s")
        parser.add_argument("--json", dest="json_path", help="Write the results as JSON to this file.")
        parser.add_argument("--requests", type=int, default=30, help="Timed requests per path (after warm-up).")
        parser.add_argument("--rebuild", action="store_true", help="Drop and rebuild the dataset.")
        parser.add_argument("--skip-http", action="store_true", help="Skip the gunicorn run.")
        parser.add_argument(
            "--skip-ingest", action="store_true", help="Skip the event and email ingestion throughput runs."
        )
        parser.add_argument("--database", help="Database name (default: <name>_bench_<scale>).")

    def handle(self, *args, scale, json_path, requests, rebuild, skip_http, skip_ingest, database, **options):
        # A path that is not there yet is reported in the table, not logged on every request.
        logging.getLogger("django.request").setLevel(logging.ERROR)
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")
        name = database or f"{settings.DATABASES['default']['NAME']}_bench_{scale}"
        database_use(name, recreate=rebuild)
        self.stdout.write(f"Benchmark database: {name}")
        call_command("migrate", verbosity=0, interactive=False)

        build = None
        if not dataset_exists():
            self.stdout.write(f"Building the scale-{scale} dataset with COPY…")
            build = dataset_build(SCALES[scale], progress=self._progress)
            self.stdout.write(
                f"Loaded {build.total:,} rows in {build.seconds:.1f} s: {build.rows_per_second:,.0f} rows/s"
            )
        else:
            self.stdout.write("Reusing the existing dataset (--rebuild to start over).")

        reference = host_reference_ms()
        self.stdout.write(f"Host reference: {reference} ms of pure Python (lower is faster; compare runs by it)")
        results = scenarios.run_all(
            handles=dataset_handles(),
            requests=requests,
            skip_http=skip_http,
            throughput=not skip_ingest,
            database_name=name,
            out=self.stdout,
        )
        if build is not None:
            results["seeding"] = {
                "rows": build.total,
                "seconds": round(build.seconds, 2),
                "rows_per_s": round(build.rows_per_second),
                "target_rows_per_s": scenarios.TARGETS["seeding_rows_per_s"],
                "tables": build.rows,
            }
        results["scale"] = scale
        results["host_reference_ms"] = reference
        results["verdict"] = scenarios.verdict(results)
        self.stdout.write(scenarios.render_table(results))
        if json_path:
            Path(json_path).parent.mkdir(parents=True, exist_ok=True)
            Path(json_path).write_text(json.dumps(results, indent=2, default=str))
            self.stdout.write(f"Wrote {json_path}")

    def _progress(self, label: str, count: int) -> None:
        if not hasattr(self, "_started"):
            self._started = time.perf_counter()
        at = time.perf_counter() - self._started
        self.stderr.write(f"  {label}: {count:,} rows (at {at:.1f} s)")
        sys.stderr.flush()
