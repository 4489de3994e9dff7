"""The load test, run for real: 50 agents for 25 seconds once all are logged in and a burst of 1,000 signed order
webhooks with 10 % duplicates, against gunicorn (2 workers) and PostgreSQL.

It runs ``manage.py loadtest`` in a process of its own (the run switches databases and starts
servers, which this test process must not do) on a database of its own, rebuilt every time.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.conftest import service_unavailable

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def load_database() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        service_unavailable("the load test runs on PostgreSQL (set DATABASE_URL=postgres://...)")
    name = f"{db['NAME']}_load_test"
    yield name
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        dbname="postgres",
        user=db["USER"] or "postgres",
        password=db["PASSWORD"] or None,
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        autocommit=True,
    ) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    user = quote(db["USER"] or "postgres", safe="")
    auth = f"{user}:{quote(str(db['PASSWORD']), safe='')}@" if db["PASSWORD"] else f"{user}@"
    return f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(name, safe='')}"


def test_fifty_agents_and_a_webhook_burst_run_clean(load_database, tmp_path):
    # Given a fresh dataset and the desk under gunicorn, when 50 agents work for 25 s and
    # 1,000 webhook deliveries (100 of them exact duplicates) arrive from 20 senders at once
    report_path = tmp_path / "load.json"
    env = {**os.environ, "DATABASE_URL": _database_url(load_database), "DJANGO_SETTINGS_MODULE": ""}
    env.pop("DJANGO_SETTINGS_MODULE")
    command = [
        sys.executable, "manage.py", "loadtest",
        "--agents", "50", "--duration", "25", "--think", "1", "4", "--spawn-rate", "10",
        "--webhooks", "1000", "--duplicates", "0.1", "--concurrency", "20",
        "--customers", "1000", "--rebuild", "--database", load_database, "--json", str(report_path),
    ]  # fmt: skip
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=420)
    output = finished.stdout + finished.stderr

    # Then the run is clean: every check holds, and the exit status says so
    assert report_path.exists(), output
    report = json.loads(report_path.read_text())
    failed = [check for check in report["checks"] if not check["ok"]]
    assert failed == [], output
    assert report["clean"] is True
    assert finished.returncode == 0, output

    # and no request failed, none answered 5xx or 429
    assert report["total"]["failures"] == 0
    statuses = {code for row in report["types"].values() for code in row["statuses"]}
    assert not {code for code in statuses if code.startswith("5") or code == "429" or code == "0"}, statuses

    # and the burst created exactly the 900 distinct orders, answering the 100 duplicates as replays
    assert report["webhooks"]["sent"] == 1000
    assert report["webhooks"]["fresh"] == 900
    assert report["webhooks"]["replayed"] == 100
    checks = {check["name"]: check for check in report["checks"]}
    assert checks["orders created by the burst"]["found"] == 900

    # and every kind of agent work happened, replies included, each reply stored once
    for kind in ("login", "inbox", "ticket", "customer", "search", "reply", "webhook order"):
        assert report["types"][kind]["requests"] > 0, kind
    assert report["replies"]["posted"] >= 3
    assert checks["replies and notes stored (the agents' own count)"]["found"] == report["replies"]["posted"]
    assert report["types"]["reply"]["requests"] == report["replies"]["posted"]

    # and the report gives p50, p95 and max for each request type
    for row in report["types"].values():
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["max_ms"]
