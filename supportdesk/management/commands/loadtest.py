"""``python manage.py loadtest [--agents 50] [--duration 60] [--webhooks 1000] [--duplicates 0.1]
[--json FILE]``: the desk under load, on loopback, bounded in time.

Serves the desk with gunicorn (2 workers, production's settings) from its own PostgreSQL
database, ``<DATABASE_URL name>_load``, runs concurrent agents on a mixed workload and a burst
of signed order webhooks with duplicates, then checks that nothing failed and that the desk
stored exactly what was sent. Exits 1 if the run is not clean. See docs/performance.md.
"""

import json
import logging
from pathlib import Path

from django.core.management import BaseCommand, CommandError

from supportdesk.loadtest.run import LoadOptions, loadtest_run, report_render


class Command(BaseCommand):
    help = "Load-test the desk: concurrent agents and a webhook burst against gunicorn and PostgreSQL."

    def add_arguments(self, parser):
        defaults = LoadOptions()
        parser.add_argument("--agents", type=int, default=defaults.agents, help="Concurrent agents (default 50).")
        parser.add_argument(
            "--duration",
            type=float,
            default=defaults.duration,
            help="Seconds the agents work once all are logged in (default 60).",
        )
        parser.add_argument("--webhooks", type=int, default=defaults.webhooks, help="Deliveries in the burst (1000).")
        parser.add_argument(
            "--duplicates", type=float, default=defaults.duplicates, help="Share of exact duplicates (0.1)."
        )
        parser.add_argument(
            "--concurrency", type=int, default=defaults.concurrency, help="Webhook senders at once (default 20)."
        )
        parser.add_argument(
            "--think",
            type=float,
            nargs=2,
            metavar=("MIN", "MAX"),
            default=defaults.think,
            help="An agent's think time on a page, in seconds (default 3 12).",
        )
        parser.add_argument(
            "--customers", type=int, default=defaults.customers, help="Dataset size when built (default 20000)."
        )
        parser.add_argument(
            "--spawn-rate", type=float, default=defaults.spawn_rate, help="Agents logging in per second (5)."
        )
        parser.add_argument("--database", default="", help="Database name (default: <name>_load).")
        parser.add_argument("--rebuild", action="store_true", help="Drop and rebuild the dataset first.")
        parser.add_argument("--json", dest="json_path", help="Write the report as JSON to this file.")

    def handle(self, *args, json_path, **options):
        logging.getLogger("django.request").setLevel(logging.ERROR)
        load = LoadOptions(
            agents=options["agents"],
            duration=options["duration"],
            webhooks=options["webhooks"],
            duplicates=options["duplicates"],
            concurrency=options["concurrency"],
            think=tuple(options["think"]),
            customers=options["customers"],
            spawn_rate=options["spawn_rate"],
            database=options["database"],
            rebuild=options["rebuild"],
        )
        try:
            report = loadtest_run(load, out=self.stdout)
        except (ValueError, RuntimeError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(report_render(report))
        if json_path:
            Path(json_path).parent.mkdir(parents=True, exist_ok=True)
            Path(json_path).write_text(json.dumps(report, indent=2))
            self.stdout.write(f"Wrote {json_path}")
        if not report["clean"]:
            raise CommandError("The load run is not clean; see the checks above.")
