"""PostgreSQL restarted under load: gunicorn (2 workers, production settings) keeps answering;
while the database is down each request fails fast and cleanly (503 from ``/health/``, a 500
without a traceback from the API), and once it is back every request succeeds again without
restarting anything. Persistent connections (``CONN_MAX_AGE``) that died with the restart are
noticed before use (``CONN_HEALTH_CHECKS``), so no request after a restart sees a dead one.

The database is a private cluster of this test on a port of its own; the shared PostgreSQL is
never touched."""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.local_servers import LocalPostgres, free_port, wait_for

pytestmark = [pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]
SECRET = "k7#Q9v!pX2m@L4z$W8r^T1n&Y6b*H3c(J5d)F0g-S9e+A2q=U4w-restart"
REQUEST_TIMEOUT = 10


@pytest.fixture
def private_postgres():
    # Not under pytest's tmp_path: its parents are closed to the postgres user the cluster runs as.
    directory = Path(tempfile.mkdtemp(prefix="desk-pg-"))
    try:
        cluster = LocalPostgres(directory)
        cluster.start()
        yield cluster
        cluster.destroy()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _env(database_url: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "DJANGO_"))}
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "supportdesk.settings.production",
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
    }


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.fixture
def server(private_postgres, tmp_path):
    env = _env(private_postgres.url)
    _manage(env, "migrate", "--noinput")
    key = _manage(env, "create_api_key", "--name", "restart-test", "--scope", "read").split()[-1]
    port = free_port()
    log = tmp_path / "gunicorn.log"
    command = [
        sys.executable, "-m", "gunicorn", "supportdesk.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", "2", "--timeout", "30", "--graceful-timeout", "5",
    ]  # fmt: skip
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _get(base + "/health/")[0] == 200, what="gunicorn to answer", seconds=60)
        yield base, key, private_postgres
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _get(url: str, key: str = "") -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http on loopback only)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:  # noqa: S310 (loopback)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
        return 0, repr(exc)  # no answer at all: what "cleanly" rules out


class Load:
    """Four clients sending requests in a loop. Each answer is kept with the phase the test was in
    when the request started and when it ended; only answers within one phase are judged."""

    def __init__(self, base: str, key: str) -> None:
        self.urls = [base + "/health/", base + "/api/v1/tickets/", base + "/api/v1/customers/"]
        self.key = key
        self.phase = "up"
        self.answers: list[tuple[str, str, int, str]] = []
        self.stop = threading.Event()
        self.running = threading.Event()
        self.running.set()
        self.in_flight = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(4)]

    def _run(self, n: int) -> None:
        i = n
        while not self.stop.is_set():
            if not self.running.wait(timeout=0.1):
                continue
            url = self.urls[i % len(self.urls)]
            with self.lock:
                self.in_flight += 1
            started = self.phase
            status, body = _get(url, self.key)
            ended = self.phase
            with self.lock:
                self.in_flight -= 1
            if started == ended:
                self.answers.append((started, url, status, body))
            i += 1
            time.sleep(0.02)

    def __enter__(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)

    def pause(self) -> None:
        self.running.clear()
        wait_for(lambda: self.in_flight == 0, what="requests in flight to finish", seconds=REQUEST_TIMEOUT + 5)

    def resume(self, phase: str) -> None:
        self.phase = phase
        self.running.set()

    def of(self, phase: str) -> list[tuple[str, str, int, str]]:
        return [answer for answer in self.answers if answer[0] == phase]

    def statuses(self, phase: str) -> Counter:
        return Counter((url.rsplit("/", 2)[-2], status) for _p, url, status, _b in self.of(phase))

    def wait_for(self, phase: str, n: int) -> None:
        wait_for(lambda: len(self.of(phase)) >= n, what=f"{n} answers while {phase}", seconds=60)


def test_postgresql_restarted_under_load_requests_fail_cleanly_and_the_app_recovers(server):
    base, key, database = server
    with Load(base, key) as load:
        # given traffic flowing, on persistent connections
        load.wait_for("up", 30)

        # when PostgreSQL restarts between two requests (every open connection dies unseen)
        load.pause()
        database.stop(mode="fast")
        database.start()
        load.resume("restarted")
        load.wait_for("restarted", 30)

        # and then goes down under load, and comes back
        load.phase = "going down"
        database.stop(mode="fast")
        load.phase = "down"
        load.wait_for("down", 40)
        load.phase = "coming back"
        database.start()
        load.phase = "back"
        load.wait_for("back", 40)

    # then every request before the restart succeeded
    assert set(load.statuses("up")) == {("health", 200), ("tickets", 200), ("customers", 200)}
    # and right after the quiet restart too: dead connections were replaced before use
    assert {status for (_url, status) in load.statuses("restarted")} == {200}, load.statuses("restarted")
    # and while it was down every request got a prompt, plain answer: 503 from the health
    # check, 500 from the API; never a traceback, an exception name or a hung connection
    for _phase, url, status, body in load.of("down"):
        expected = 503 if url.endswith("/health/") else 500
        assert status == expected, (url, status, body[:300])
        assert "Traceback" not in body and "OperationalError" not in body and "psycopg" not in body
    # and once it was back the app recovered by itself: every request succeeds again
    assert {status for (_url, status) in load.statuses("back")} == {200}, load.statuses("back")
