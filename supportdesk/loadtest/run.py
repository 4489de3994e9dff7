"""One load run, start to finish, bounded in time.

1. Use (or build) the run's own PostgreSQL database, ``<DATABASE_URL name>_load``, with the
   benchmark's dataset at the chosen size, and give the agents a fresh password.
2. Prepare the webhook burst and write the plan for the traffic.
3. Collect the static files and start gunicorn (2 workers) with production's settings.
4. Run the traffic (``swarm.py``, locust as a library) in a process of its own, killed if it
   overruns its time.
5. Stop the server, check what the desk stored against what was sent, delete the run's queue.
"""

import json
import os
import resource
import secrets
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from supportdesk.bench.dataset import database_use

from .checks import checks_run
from .dataset import dataset_prepare
from .server import ROOT, Server, server_environment
from .webhooks import burst_build

SWARM = Path(__file__).with_name("swarm.py")
LOGIN_TIMEOUT_SECONDS = 120  # the agents' time starts when all are in, or after this long


@dataclass(frozen=True)
class LoadOptions:
    agents: int = 50
    duration: float = 60.0
    webhooks: int = 1000
    duplicates: float = 0.1
    concurrency: int = 20
    think: tuple[float, float] = (3.0, 12.0)
    customers: int = 20000
    spawn_rate: float = 5.0
    database: str = ""
    rebuild: bool = False
    burst_at: float | None = None
    seed: int = 9

    def validate(self) -> None:
        problems = []
        if self.agents < 1:
            problems.append("--agents must be at least 1")
        if self.duration < 5:
            problems.append("--duration must be at least 5 seconds")
        if self.webhooks < 0:
            problems.append("--webhooks cannot be negative")
        if not 0 <= self.duplicates < 0.5:
            problems.append("--duplicates is a share from 0 to under 0.5 (0.1 is 10 %)")
        if self.concurrency < 1:
            problems.append("--concurrency must be at least 1")
        if not 0 <= self.think[0] <= self.think[1]:
            problems.append("--think MIN MAX needs 0 <= MIN <= MAX")
        if self.customers < 100:
            problems.append("--customers must be at least 100")
        if self.spawn_rate <= 0:
            problems.append("--spawn-rate must be positive")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def burst_start(self) -> float:
        """When the burst starts, in seconds after every agent is in: a quarter into their time
        (by default), so that the agents work alone before and after it."""
        return self.burst_at if self.burst_at is not None else round(self.duration / 4, 1)


def loadtest_run(options: LoadOptions, *, out=None) -> dict:
    options.validate()
    say = (lambda text: out.write(text)) if out else (lambda text: None)
    run = uuid.uuid4().hex[:8]
    name = options.database or f"{settings.DATABASES['default']['NAME']}_load"
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ValueError("The load test runs on PostgreSQL: set DATABASE_URL=postgres://...")
    run_dir = ROOT / "var" / "loadtest" / run
    run_dir.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    database_use(name, recreate=options.rebuild)
    say(f"Load run {run}: database {name}, files in {run_dir.relative_to(ROOT)}")
    call_command("migrate", verbosity=0, interactive=False)
    password = secrets.token_urlsafe(18)
    prepared = dataset_prepare(
        customers=options.customers,
        agents=options.agents,
        password=password,
        seed=options.seed,
        progress=(lambda label, count: say(f"  {label}: {count:,}")) if out else None,
    )
    burst = burst_build(
        run=run,
        total=options.webhooks,
        duplicate_share=options.duplicates,
        concurrency=options.concurrency,
        seed=options.seed,
    )
    prepared_s = time.perf_counter() - started

    env = server_environment(database=name, run=run, run_dir=run_dir, agents=options.agents, webhooks=options.webhooks)
    server = Server(env=env, run_dir=run_dir)
    plan = {
        "run": run,
        "host": server.url,
        "agents": prepared.agents,
        "password": password,
        "search_terms": prepared.search_terms,
        "think_seconds": list(options.think),
        "duration": options.duration,
        "spawn_rate": options.spawn_rate,
        "stop_timeout": 30,
        "login_timeout": LOGIN_TIMEOUT_SECONDS,
        "burst_deadline": options.duration + 120,
        "webhooks": {
            "secret": env["DESK_WEBHOOK_SECRET_ORDERS"],
            "source": "loadstore",
            "concurrency": options.concurrency,
            "start_after": options.burst_start,
            "deliveries": burst.deliveries,
        },
    }
    plan_path, results_path = run_dir / "plan.json", run_dir / "results.json"
    # The plan holds the run's password and webhook secret: readable by its owner only.
    plan_path.touch(mode=0o600)
    plan_path.write_text(json.dumps(plan))

    say("Collecting static files and starting gunicorn (2 workers)…")
    try:
        server.collectstatic()
        server.start()
        say(
            f"Serving {server.url}; {options.agents} agents for {options.duration:g} s, "
            f"once all are in; {options.webhooks} webhooks {options.burst_start:g} s into that time"
        )
        load_before = os.getloadavg()
        cpu_before = _children_cpu_seconds()
        traffic = subprocess.run(  # noqa: S603 — our own interpreter and script
            [sys.executable, str(SWARM), str(plan_path), str(results_path)],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            timeout=LOGIN_TIMEOUT_SECONDS + options.duration + 240,
            capture_output=True,
            text=True,
        )
        cpu_traffic = _children_cpu_seconds()
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"The traffic overran its time ({exc.timeout:g} s) and was stopped.") from None
    finally:
        server.stop()
        plan_path.unlink(missing_ok=True)
    cpu_server = _children_cpu_seconds()
    (run_dir / "swarm.log").write_text(traffic.stdout + traffic.stderr)
    if traffic.returncode != 0 or not results_path.exists():
        raise RuntimeError(f"The traffic process failed ({traffic.returncode}); see {run_dir / 'swarm.log'}")
    results = json.loads(results_path.read_text())
    checks = checks_run(results=results, burst=burst, server_errors=server.errors_logged())
    _queue_delete(env)
    report = {
        "run": run,
        "database": name,
        "options": {
            "agents": options.agents,
            "duration_s": options.duration,
            "webhooks": options.webhooks,
            "duplicates": options.duplicates,
            "webhook_concurrency": options.concurrency,
            "think_s": list(options.think),
            "customers": options.customers,
            "burst_start_s": options.burst_start,
        },
        "server": {"workers": 2, "settings": "supportdesk.loadtest.settings (production's)", **_limits(env)},
        "prepared_s": round(prepared_s, 1),
        "dataset_built": prepared.build is not None,
        "elapsed_s": results["elapsed_s"],
        "working_from_s": results["working_from_s"],
        "phases": results["phases"],
        "types": results["types"],
        "total": results["total"],
        "webhooks": {**results["webhooks"], "distinct": burst.distinct, "duplicates": burst.duplicates},
        "replies": {
            "posted": len(results["replies"]),
            "notes": sum(1 for reply in results["replies"] if reply["internal"]),
        },
        "checks": [check.as_dict() for check in checks],
        "clean": all(check.ok for check in checks),
        "machine": {
            "cpus": os.cpu_count(),
            # CPU seconds (user + system) of the load generator, and of gunicorn's master and
            # workers including their start-up; PostgreSQL's and Redis's are not counted.
            "cpu_s_traffic": round(cpu_traffic - cpu_before, 1),
            "cpu_s_server": round(cpu_server - cpu_traffic, 1),
            "load_average_before": [round(n, 2) for n in load_before],
            "load_average_after": [round(n, 2) for n in os.getloadavg()],
        },
    }
    (run_dir / "report.json").write_text(json.dumps(report, indent=2))
    return report


def _children_cpu_seconds() -> float:
    """CPU time of every finished child process (and the children they waited for) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _limits(env: dict) -> dict:
    return {key.lower(): env[key] for key in ("DESK_LOGIN_RATE_LIMIT", "DESK_WEBHOOK_RATE_LIMIT", "CACHE_URL")}


def _queue_delete(env: dict) -> None:
    """Drop the run's Celery queue: its delivery tasks were never meant to run."""
    broker = env.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        return
    import redis

    queue = env["CELERY_TASK_DEFAULT_QUEUE"]
    client = redis.Redis.from_url(broker, socket_connect_timeout=2)
    try:
        client.delete(queue, *client.scan_iter(match=f"_kombu.binding*.{queue}"))
    except redis.RedisError:
        pass  # the broker is not the run's concern; a queue left behind is only a list in Redis
    finally:
        client.close()


def _phase_p95(phases: dict, phase: str):
    figures = phases.get(phase) or {}
    return figures["p95_ms"] if figures.get("requests") else "-"


def report_render(report: dict) -> str:
    header = ("request type", "requests", "errors", "p50 ms", "p95 ms", "max ms", "req/s", "p95 steady", "p95 burst")
    row_format = "{:<34} {:>8} {:>6} {:>8} {:>8} {:>8} {:>7} {:>10} {:>9}"
    lines = [row_format.format(*header)]
    rows = sorted(report["types"].items(), key=lambda item: -item[1]["requests"])
    for name, row in [*rows, ("all requests", {**report["total"], "phases": report.get("phases", {})})]:
        phases = row.get("phases", {})
        lines.append(
            row_format.format(
                name,
                row["requests"],
                row["failures"],
                row["p50_ms"],
                row["p95_ms"],
                row["max_ms"],
                row["requests_per_s"],
                _phase_p95(phases, "steady"),
                _phase_p95(phases, "burst"),
            )
        )
    phases = report.get("phases")
    if phases:
        lines.append(
            f"Phases (s from the start): every agent logged in at {phases['all_agents_in_s']}, webhook burst "
            f"{phases['burst_s']}; requests while logging in {phases['logins']['requests']}, agents alone "
            f"{phases['steady']['requests']}, during the burst {phases['burst']['requests']}"
        )
    hooks = report["webhooks"]
    lines.append(
        f"Webhook burst: {hooks['sent']} sent in {hooks.get('seconds', '?')} s from "
        f"{report['options']['webhook_concurrency']} senders; {hooks['fresh']} new, {hooks['replayed']} replays"
    )
    if "overlapping_duplicates" in hooks:
        lines.append(f"  duplicates sent while their original was still in flight: {hooks['overlapping_duplicates']}")
    machine = report.get("machine", {})
    if "cpu_s_traffic" in machine:
        lines.append(
            f"CPU: load generator {machine['cpu_s_traffic']} s, gunicorn {machine['cpu_s_server']} s "
            f"({machine['cpus']} cores; load average {machine['load_average_before'][0]} before, "
            f"{machine['load_average_after'][0]} after)"
        )
    lines.append(f"Replies posted: {report['replies']['posted']} (of which notes: {report['replies']['notes']})")
    lines.append("Checks:")
    for check in report["checks"]:
        mark = "ok  " if check["ok"] else "FAIL"
        detail = f" — {check['detail']}" if check["detail"] and not check["ok"] else ""
        lines.append(f"  {mark} {check['name']}: expected {check['expected']}, found {check['found']}{detail}")
    lines.append("The load run is clean." if report["clean"] else "The load run is NOT clean.")
    return "\n".join(lines)
