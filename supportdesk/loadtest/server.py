"""The desk as production runs it, on a free loopback port: gunicorn with two workers.

``server_environment`` is production's environment for this run; ``Server`` collects the
static files (once per release in production, once per run here) and serves the desk until
stopped, its output in ``gunicorn.log`` in the run's folder.
"""

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
START_TIMEOUT_SECONDS = 60
# Production's per-address limits (supportdesk/settings/base.py). In the run every agent and the
# store share 127.0.0.1; behind the production proxy each agent has an address of their own.
LOGIN_RATE_PER_ADDRESS = 30
WEBHOOK_RATE_PER_ADDRESS = 3000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "postgres", safe="")
    password = db.get("PASSWORD") or ""
    credentials = f"{user}:{quote(password, safe='')}" if password else user
    return f"postgres://{credentials}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{quote(name)}"


def rate_limits(*, agents: int, webhooks: int) -> dict[str, str]:
    """The run's rate limits: production's allowance per address, times the clients sharing one.

    Fifty agents logging in from one address in a few seconds would trip the login limit
    (30 a minute per address) that each of them, from their own address, never reaches. The
    webhook limit stays production's unless the burst is bigger than it.
    """
    return {
        "DESK_LOGIN_RATE_LIMIT": f"{LOGIN_RATE_PER_ADDRESS * max(1, agents)}/60",
        "DESK_WEBHOOK_RATE_LIMIT": f"{max(WEBHOOK_RATE_PER_ADDRESS, webhooks)}/60",
    }


def server_environment(*, database: str, run: str, run_dir: Path, agents: int, webhooks: int) -> dict[str, str]:
    """Production's environment for the run: fresh secrets, the run's database, queue and cache."""
    broker = os.environ.get("CELERY_BROKER_URL", "")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "supportdesk.loadtest.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url(database),
        "LOADTEST_STATIC_ROOT": str(run_dir.parent / "static"),
        "LOADTEST_CACHE_PREFIX": f"loadtest-{run}",
        # Replies are stored and their delivery queued on a queue of the run's own, which no
        # worker reads and the run deletes afterwards: no mail leaves a load test.
        "CELERY_TASK_DEFAULT_QUEUE": f"loadtest-{run}",
        "EMAIL_URL": "dummymail://",
        "DESK_WEBHOOK_SECRET_ORDERS": secrets.token_urlsafe(32),
        "LOG_LEVEL": "WARNING",
        **rate_limits(agents=agents, webhooks=webhooks),
    }
    # Rate limits and presence are shared by both workers through Redis, as production runs
    # them; without a broker the run has no Redis, and each worker counts on its own.
    env["CACHE_URL"] = broker if broker.startswith("redis://") else "locmemcache://"
    return env


@dataclass
class Server:
    env: dict[str, str]
    run_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.run_dir / "gunicorn.log"

    def collectstatic(self) -> None:
        done = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"collectstatic failed with production's settings:\n{done.stderr[-3000:]}")

    def start(self) -> None:
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 — our own interpreter and gunicorn
            [
                sys.executable,
                "-m",
                "gunicorn",
                "supportdesk.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(WORKERS),
                "--timeout",
                "30",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        request = urllib.request.Request(f"{self.url}/health/", headers={"X-Forwarded-Proto": "https"})  # noqa: S310
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 — loopback
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /health/ within {START_TIMEOUT_SECONDS} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
        self.log.close()

    def errors_logged(self) -> list[str]:
        """Lines in the server's log that report an error (a 500's traceback, a worker killed)."""
        if not self.log_path.exists():
            return []
        text = self.log_path.read_text(errors="replace")
        return [line for line in text.splitlines() if re.search(r"\b(ERROR|CRITICAL)\b|Traceback", line)]
