"""``manage.py seed_demo``: coherent demo data and the users agent, lead and admin.

After writing the data it runs the suggestions jobs (bought together, churn risk, VIP
threshold) so every suggested next action has its statistics. Safe to run on every
``make demo``: when customers already exist it adds nothing and only makes sure the demo users
exist with the given password. ``--reset`` deletes the demo data first.
"""

import secrets
import sys
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from customers.models import Customer
from customers.suggestions.jobs import churn_refresh_all, product_affinity_refresh, vip_threshold_refresh
from supportdesk.demo.build import demo_build
from supportdesk.demo.staff import LOGINS, STAFF, demo_reset, staff_ensure

DESK_URL = "http://127.0.0.1:8000/"


class Command(BaseCommand):
    help = "Load coherent demo data (customers, orders, conversations, consent) and the demo users."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=200, help="How many customers (about 5 tickets each).")
        parser.add_argument("--password", default="", help="Password of the demo users; generated when omitted.")
        parser.add_argument("--reset", action="store_true", help="Delete all demo data and users first.")
        parser.add_argument("--seed", type=int, default=42, help="Seed of the generator (same seed, same data).")

    def handle(self, *args: object, customers: int, password: str, reset: bool, seed: int, **options: object) -> None:
        if customers < 1:
            raise CommandError("--customers must be at least 1.")
        generated = not password
        password = password or secrets.token_urlsafe(12)
        if reset:
            deleted = demo_reset()
            self.stdout.write(f"Deleted the demo data: {sum(deleted.values()):,} rows.")
        if Customer.objects.exists():
            with transaction.atomic():
                staff_ensure(password=password)
            self.stdout.write("Demo data is already there; nothing added (use --reset to start over).")
        else:
            self._build(customers=customers, seed=seed, password=password)
        self._logins(password=password, generated=generated)

    def _build(self, *, customers: int, seed: int, password: str) -> None:
        started = time.perf_counter()
        bar = tqdm(total=customers, unit="customers", file=sys.stderr, disable=not sys.stderr.isatty())
        try:
            with transaction.atomic():
                users = staff_ensure(password=password)
                counts = demo_build(customers=customers, seed=seed, users=users, progress=bar.update)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        seconds = time.perf_counter() - started
        total = sum(counts.values())
        self.stdout.write(
            self.style.SUCCESS(f"Demo data: {total:,} rows in {seconds:.1f} s ({total / seconds:,.0f} rows/s).")
        )
        self.stdout.write("  " + ", ".join(f"{count:,} {name}" for name, count in counts.items() if count))
        self._suggestion_jobs()

    def _suggestion_jobs(self) -> None:
        # What beat runs nightly, run once now, so the demo's suggestions (cross_sell,
        # churn_risk, vip) read the statistics the jobs compute from the data just written.
        pairs = product_affinity_refresh()
        risks = churn_refresh_all()
        threshold = vip_threshold_refresh()
        vip = f", VIP from {threshold:,.2f} lifetime value" if threshold is not None else ""
        self.stdout.write(f"Suggestions: {pairs:,} bought-together pairs, churn risk for {risks:,} customers{vip}.")

    def _logins(self, *, password: str, generated: bool) -> None:
        width = max(len(name) for name in LOGINS)
        roles = {member.username: member.role for member in STAFF}
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Open {DESK_URL} and sign in as:"))
        for username in LOGINS:
            self.stdout.write(f"  {username:<{width}}  password: {password}   ({roles[username]})")
        others = ", ".join(m.username for m in STAFF if m.username not in LOGINS)
        self.stdout.write(f"  More agents with the same password: {others}.")
        if generated:
            self.stdout.write("  The password was generated; pass --password to choose one.")
