"""Real services for integration tests: Redis as the broker and a Celery worker process.

``celery_worker_process`` starts ``celery worker`` as a separate process, on the test database
(PostgreSQL only: SQLite's test database lives in this process's memory) and on a queue of its
own, so tasks left in Redis by earlier runs or other workers never reach it. While it runs, this
process sends tasks to the broker instead of running them in-process. When a test fails, the
worker's log is added to the report.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import service_unavailable

ROOT = Path(__file__).resolve().parents[2]
WORKER_START_SECONDS = 30
# The file mail backend writes one file per connection, messages separated by a line of 79 dashes.
MAIL_FILE_SEPARATOR = "\n" + "-" * 79 + "\n"


@dataclass
class Worker:
    queue: str
    mail_dir: Path
    log: Path
    process: subprocess.Popen

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else "(no log)"


WORKER = pytest.StashKey[Worker]()


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration/" in item.path.as_posix():
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    worker = item.stash.get(WORKER, None)
    if worker is not None and report.failed:
        report.sections.append((f"Celery worker log ({report.when})", worker.log_text()))
    return report


def _redis_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def broker_url() -> str:
    url = settings.CELERY_TEST_BROKER_URL
    if not url:
        service_unavailable("CELERY_BROKER_URL is not set: these tests need Redis and a Celery worker")
    if not _redis_reachable(url):
        service_unavailable(f"Redis does not answer at {url}")
    return url


@pytest.fixture
def database_url(transactional_db) -> str:
    """The test database as a URL another process can open (data must be committed to be seen)."""
    if connection.vendor != "postgresql":
        service_unavailable(
            f"a worker process can share the test database only on PostgreSQL (this run uses {connection.vendor}; "
            "set DATABASE_URL=postgres://...)"
        )
    db = connection.settings_dict
    user = quote(db["USER"] or "postgres", safe="")
    auth = f"{user}:{quote(str(db['PASSWORD']), safe='')}@" if db["PASSWORD"] else f"{user}@"
    host = db["HOST"] or "127.0.0.1"
    host = quote(host, safe="") if host.startswith("/") else host  # a socket directory
    port = db["PORT"] or 5432
    return f"postgres://{auth}{host}:{port}/{quote(db['NAME'], safe='')}"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # warm shutdown: finish the current task, then exit
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def _forget_queue(broker_url: str, queue: str) -> None:
    """Leave nothing of this run's queue in Redis: the list, and kombu's binding keys for it."""
    import redis

    try:
        client = redis.Redis.from_url(broker_url, socket_connect_timeout=2)
        keys = [queue, *client.scan_iter(match=f"_kombu.binding*.{queue}")]
        client.delete(*keys)
    except redis.RedisError:
        pass


def worker_start(
    *,
    broker_url: str,
    database_url: str,
    directory: Path,
    queue: str | None = None,
    pool: str = "solo",
    env: dict[str, str] | None = None,
    name: str = "worker",
) -> Worker:
    """Start ``celery worker`` on ``queue`` (a new one unless given) and wait until it is ready.

    ``pool="prefork"`` runs tasks in a child process, as production does, so a test can kill
    the child; ``env`` adds settings (e.g. ``CELERY_BROKER_TRANSPORT_OPTIONS``)."""
    queue = queue or f"test-{uuid.uuid4().hex}"
    mail_dir = directory / "mail"
    mail_dir.mkdir(exist_ok=True)
    log = directory / f"{name}.log"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "supportdesk.settings.local",
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND or broker_url,
        # Tasks the worker's tasks send (retries, the outbox sweep's deliveries) stay on its queue.
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        # django-environ drops the path's leading slash: "filemail:///" + "/tmp/..." is absolute.
        "EMAIL_URL": f"filemail:///{mail_dir.as_posix()}",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    command = [
        sys.executable, "-m", "celery", "-A", "supportdesk", "worker",
        f"--pool={pool}", "--concurrency=1", "-Q", queue, "--hostname", f"{queue}-{name}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
    ]  # fmt: skip
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    worker = Worker(queue=queue, mail_dir=mail_dir, log=log, process=process)
    deadline = time.monotonic() + WORKER_START_SECONDS
    while " ready." not in worker.log_text():
        if process.poll() is not None:
            pytest.fail(f"The Celery worker exited with {process.returncode} before it was ready.", pytrace=False)
        if time.monotonic() > deadline:
            worker_stop(worker)
            pytest.fail(f"The Celery worker was not ready within {WORKER_START_SECONDS} s.", pytrace=False)
        time.sleep(0.1)
    return worker


def worker_stop(worker: Worker) -> None:
    _stop(worker.process)


@contextmanager
def tasks_sent_to(queue: str) -> Iterator[None]:
    """While inside, tasks this process sends (``.delay()``, ``on_commit``) go to ``queue``."""
    from supportdesk.celery import app

    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous


@pytest.fixture
def celery_worker_process(request, broker_url, database_url, tmp_path) -> Iterator[Worker]:
    """A real ``celery worker`` process on its own queue, against the test database."""
    worker = worker_start(broker_url=broker_url, database_url=database_url, directory=tmp_path)
    request.node.stash[WORKER] = worker
    try:
        with tasks_sent_to(worker.queue):
            yield worker
    finally:
        _stop(worker.process)
        _forget_queue(broker_url, worker.queue)
