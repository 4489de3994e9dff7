"""Throwaway servers the fault tests can stop and start: SMTP (aiosmtpd), Redis and a private
PostgreSQL cluster, each on a free loopback port of its own. The shared PostgreSQL on 5432 and
Redis on 6379 are never touched."""

import asyncio
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message as EmailMessage
from glob import glob
from pathlib import Path

import pytest

from tests.conftest import service_unavailable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], bool], *, what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {seconds:.0f} s waiting for {what}.", pytrace=False)
        time.sleep(0.1)


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.attempts += 1
        self.received.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


class HoldingInbox(Inbox):
    """Holds the first message it is sent without answering, as a stalled server would: the
    sender is then in the middle of its task, and ``holding`` is set. Later messages are accepted.
    The held one is never accepted (a 451 after ``hold_seconds``, long after the test is done)."""

    def __init__(self, hold_seconds: float = 120.0) -> None:
        super().__init__()
        self.hold_seconds = hold_seconds
        self.holding = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        if not self.holding.is_set():
            self.attempts += 1
            self.holding.set()
            await asyncio.sleep(self.hold_seconds)
            return "451 4.3.0 Held by the test; not accepted"
        return await super().handle_DATA(server, session, envelope)


class LocalSMTP:
    """A real SMTP server on a free local port that can be stopped and started again."""

    def __init__(self, inbox: Inbox | None = None) -> None:
        try:
            from aiosmtpd.controller import Controller
        except ImportError:
            service_unavailable("aiosmtpd is not installed")
        self.controller_class = Controller
        self.inbox = inbox or Inbox()
        self.port = free_port()
        self.controller = None

    def start(self) -> None:
        # A stopped aiosmtpd controller cannot restart; a new one takes the same port.
        self.controller = self.controller_class(self.inbox, hostname="127.0.0.1", port=self.port)
        try:
            self.controller.start()
        except OSError as exc:
            service_unavailable(f"cannot start a local SMTP server: {exc}")

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


class LocalRedis:
    """A ``redis-server`` of its own (no persistence) that a test may shut down and start again."""

    def __init__(self, directory: Path) -> None:
        self.binary = shutil.which("redis-server")
        if not self.binary:
            service_unavailable("redis-server is not installed")
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ]
        command += ["--dir", str(self.directory)]
        with (self.directory / "redis.log").open("a") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(self.answers, what=f"redis-server on port {self.port}", seconds=15)

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def _postgres_bin() -> Path:
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        service_unavailable("PostgreSQL's initdb is not installed (/usr/lib/postgresql/*/bin)")
    return Path(found[-1]).parent


class LocalPostgres:
    """A private PostgreSQL cluster in a temporary directory, on its own port, that a test may
    stop and start. initdb refuses to run as root, so as root it runs as the ``postgres`` user."""

    def __init__(self, directory: Path) -> None:
        self.bin = _postgres_bin()
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(directory, user="postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        result = subprocess.run(
            [*self.as_user, str(self.bin / tool), *args], capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            pytest.fail(f"{tool} failed: {result.stdout}\n{result.stderr}", pytrace=False)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -h 127.0.0.1 -c fsync=off"
        log = str(self.directory / "postgres.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=30,
            )
