"""``manage.py ingest_email [FILE ...]``: raw RFC 822 messages from files or stdin.

What an MTA pipes (postfix: ``desk: "|/srv/desk/.venv/bin/python /srv/desk/manage.py ingest_email"``).
An mbox (``From `` separator lines) may hold several messages. Same code path as the email
webhook. Exit status follows sysexits so the MTA does the right thing: 0 when every message
was taken (stored, noted, quarantined or a duplicate), 65 (EX_DATAERR: bounce it) when one is
too large, 75 (EX_TEMPFAIL: try again later) when the database is unavailable.
"""

import sys
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from tickets.channels.inbound_email import EmailTooLarge, email_ingest, mbox_split

EX_DATAERR = 65
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Ingest raw RFC 822 messages (or mbox files) from the given files, or from stdin."

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="*", help="Message or mbox files; none reads stdin.")

    def handle(self, *args, files: list[str], **options) -> None:
        sources = [(path, _read(path)) for path in files] if files else [("stdin", sys.stdin.buffer.read())]
        counts: dict[str, int] = {}
        status = 0
        started = time.perf_counter()
        for name, data in sources:
            for raw in mbox_split(data):
                try:
                    result = email_ingest(raw=raw)
                except EmailTooLarge as exc:
                    self.stderr.write(f"{name}: {exc}")
                    status = status or EX_DATAERR
                    continue
                except DatabaseError as exc:
                    self.stderr.write(f"{name}: the database is unavailable ({exc}); try again later.")
                    sys.exit(EX_TEMPFAIL)
                counts[result.status] = counts.get(result.status, 0) + 1
                where = f" ticket #{result.ticket_id}" if result.ticket_id else ""
                reason = f" ({result.reason})" if result.reason else ""
                self.stdout.write(f"{result.status}{where} {result.message_id}{reason}")
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no messages"
        self.stderr.write(f"{summary} in {elapsed:.2f}s")
        if status:
            sys.exit(status)


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()
