"""Real services for integration tests: Redis as the broker and a Celery worker process."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import service_unavailable

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


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
        service_unavailable("CELERY_BROKER_URL is not set (Redis)")
    if not _redis_reachable(url):
        service_unavailable(f"Redis does not answer at {url}")
    return url


@pytest.fixture
def database_url(transactional_db) -> str:
    """The test database as a URL a separate process can open."""
    if connection.vendor != "postgresql":
        service_unavailable("a worker process shares the test database only on PostgreSQL")
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    auth = f"{user}:{db['PASSWORD']}@" if db["PASSWORD"] else f"{user}@"
    return f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def celery_worker_process(broker_url, database_url, tmp_path) -> Iterator[dict]:
    """A real ``celery worker`` process on its own queue, against the test database."""
    from supportdesk.celery import app

    queue = f"test-{uuid.uuid4().hex[:12]}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "supportdesk.settings.local",
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "EMAIL_URL": f"filemail:///{mail_dir}",  # django-environ drops one leading slash
    }
    command = [sys.executable, "-m", "celery", "-A", "supportdesk", "worker", "--pool=solo", "--concurrency=1",
               "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"]
    with log.open("w") as out:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    previous = (app.conf.task_always_eager, app.conf.task_default_queue, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    app.conf.broker_url = broker_url
    try:
        deadline = time.monotonic() + 30
        while "ready" not in log.read_text() and time.monotonic() < deadline:
            if worker.poll() is not None:
                break
            time.sleep(0.2)
        if "ready" not in log.read_text():
            pytest.fail("The Celery worker did not start:\n" + log.read_text())
        yield {"queue": queue, "mail_dir": mail_dir, "log": log}
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue, app.conf.broker_url = previous
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
