"""What the benchmark measures, and the targets from the benchmark issue (scale m, 2 cores)."""

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from supportdesk import roles
from supportdesk.models import ApiKey
from supportdesk.runtime import tune_gc

from .dataset import Handles
from .measure import Timing, percentile, time_request
from .throughput import emails_throughput, events_throughput

TARGETS = {
    "page_ms": 30,
    "search_ms": 30,
    "suggestions_ms": 20,
    "dashboard_ms": 150,
    "api_ms": 30,
    "events_per_s": 5000,
    "emails_per_s": 200,
    "seeding_rows_per_s": 50000,
}
ROOT = Path(__file__).resolve().parents[2]


def _user(username: str, role: str):
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"first_name": "Bench"})
    if created:
        user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get(name=role))
    return user


def _api_key() -> str:
    raw = ApiKey.generate()
    ApiKey.objects.create(name="bench", prefix=raw[:12], hashed=ApiKey.hash(raw), scope=ApiKey.Scope.WRITE)
    return raw


def page_paths(h: Handles) -> list[tuple[str, str, float]]:
    page, search = TARGETS["page_ms"], TARGETS["search_ms"]
    return [
        ("inbox", "/", page),
        ("inbox_mine", "/?view=mine", page),
        ("ticket_typical", f"/tickets/{h.typical_ticket_id}/", page),
        ("ticket_whale", f"/tickets/{h.whale_ticket_id}/", page),
        ("customer_typical", f"/customers/{h.typical_customer_id}/", page),
        ("customer_whale", f"/customers/{h.whale_customer_id}/", page),
        ("search_email", f"/search/?q={quote(h.email)}", search),
        ("search_phone", f"/search/?q={quote(h.phone)}", search),
        ("search_name", f"/search/?q={quote(h.last_name)}", search),
        ("search_order", f"/search/?q={quote(h.order_number)}", search),
    ]


def api_paths(h: Handles) -> list[tuple[str, str, float]]:
    api = TARGETS["api_ms"]
    return [
        ("api_customers", "/api/v1/customers/", api),
        ("api_tickets", "/api/v1/tickets/", api),
        ("api_orders", "/api/v1/orders/", api),
        ("api_products", "/api/v1/products/", api),
        ("api_suggestions", f"/api/v1/customers/{h.typical_public_id}/suggestions/", TARGETS["suggestions_ms"]),
        (
            "api_suggestions_whale",
            f"/api/v1/customers/{h.whale_public_id}/suggestions/",
            TARGETS["suggestions_ms"],
        ),
    ]


def run_all(
    *, handles: Handles, requests: int, skip_http: bool, database_name: str, out, throughput: bool = True
) -> dict:
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    agent, lead = _user("bench-agent-0", roles.AGENT), _user("bench-lead", roles.TEAM_LEAD)
    results: dict = {"paths": {}, "throughput": {}, "targets": TARGETS}
    tune_gc()  # as wsgi.py does once the app is loaded (supportdesk.runtime)

    agent_client = Client()
    agent_client.force_login(agent)
    for name, path, target in page_paths(handles):
        _record(results, time_request(agent_client, name, path, requests=requests, target_ms=target), out)

    lead_client = Client()
    lead_client.force_login(lead)
    _record(
        results,
        time_request(
            lead_client, "dashboard_90d", "/dashboards/?days=90", requests=requests, target_ms=TARGETS["dashboard_ms"]
        ),
        out,
    )

    key = _api_key()
    api_client = Client(headers={"Authorization": f"Bearer {key}"})
    for name, path, target in api_paths(handles):
        _record(results, time_request(api_client, name, path, requests=requests, target_ms=target), out)

    if throughput:
        events = events_throughput(client=api_client)
        events["meets_target"] = events["events_per_s"] >= TARGETS["events_per_s"] and not events["errors"]
        results["throughput"]["events"] = events
        emails = emails_throughput()
        emails["meets_target"] = emails["emails_per_s"] >= TARGETS["emails_per_s"]
        results["throughput"]["emails"] = emails
    if not skip_http:
        results["throughput"]["http"] = http_run(agent, database_name)
    results["whale_parity"] = whale_parity(results["paths"])
    results["verdict"] = verdict(results)
    return results


WHALE_PAIRS = [
    ("ticket_typical", "ticket_whale"),
    ("customer_typical", "customer_whale"),
    ("api_suggestions", "api_suggestions_whale"),
]


def whale_parity(paths: dict) -> dict:
    """The whale's pages may cost no more queries than a typical customer's: the count must
    not grow with history (it may be lower where the whale lacks something, e.g. orders)."""
    parity = {}
    for typical, whale in WHALE_PAIRS:
        if typical in paths and whale in paths:
            parity[whale] = {
                "typical_queries": paths[typical]["queries"],
                "whale_queries": paths[whale]["queries"],
                "same": paths[whale]["queries"] <= paths[typical]["queries"],
            }
    return parity


def verdict(results: dict) -> dict:
    """Which measured figures miss their target; empty ``misses`` means every target is met."""
    misses = [name for name, row in results["paths"].items() if row.get("meets_target") is False]
    misses += [name for name, row in results["throughput"].items() if row.get("meets_target") is False]
    misses += [f"{name} (queries)" for name, row in results.get("whale_parity", {}).items() if not row["same"]]
    seeding = results.get("seeding")
    if seeding and seeding["rows_per_s"] < TARGETS["seeding_rows_per_s"]:
        misses.append("seeding")
    return {"all_targets_met": not misses, "misses": misses}


def _record(results: dict, timing: Timing, out) -> None:
    if timing.status >= 400:
        out.write(f"  {timing.name}: {timing.path} answered {timing.status}; not counted")
        results["paths"][timing.name] = {**timing.as_dict(), "available": False}
        return
    results["paths"][timing.name] = timing.as_dict()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_run(agent, database_name: str, *, seconds: float = 10.0, clients: int = 4) -> dict:
    """Serve the desk with gunicorn (2 workers) and hit the inbox from a few local clients."""
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session["_auth_user_id"] = str(agent.pk)
    session["_auth_user_backend"] = settings.AUTHENTICATION_BACKENDS[-1]  # the model backend
    session["_auth_user_hash"] = agent.get_session_auth_hash()
    session.create()
    port = _free_port()
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "supportdesk.settings.local",
        "DEBUG": "false",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{database_name}",
    }
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "supportdesk.wsgi:application",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--env",
            "DJANGO_SETTINGS_MODULE=supportdesk.settings.local",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{url}health/", timeout=2)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        latencies: list[float] = []
        errors = 0
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds

        def worker() -> None:
            nonlocal errors
            opener = urllib.request.build_opener()
            opener.addheaders = [("Cookie", f"{settings.SESSION_COOKIE_NAME}={session.session_key}")]
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    with opener.open(url, timeout=10) as response:
                        response.read()
                        ok = response.status == 200
                except OSError:
                    ok = False
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)
                    errors += 0 if ok else 1

        threads = [threading.Thread(target=worker) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {
        "requests": len(latencies),
        "errors": errors,
        "requests_per_s": round(len(latencies) / seconds, 1),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "clients": clients,
        "workers": 2,
    }


def render_table(results: dict) -> str:
    lines = [f"{'path':<20} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8} {'target':>8}  ok"]
    for name, row in results["paths"].items():
        ok = {True: "yes", False: "NO", None: "-"}[row.get("meets_target")] if row.get("available", True) else "n/a"
        lines.append(
            f"{name:<20} {row['p50_ms']:>8} {row['p95_ms']:>8} {row['max_ms']:>8} {row['queries']:>8} "
            f"{row.get('target_ms') or '':>8}  {ok}"
        )
    for name, row in results.get("throughput", {}).items():
        lines.append(f"{name:<20} " + ", ".join(f"{k}={v}" for k, v in row.items()))
    for name, row in results.get("whale_parity", {}).items():
        same = "not more" if row["same"] else "MORE"
        lines.append(f"{name:<20} queries {row['whale_queries']} vs typical {row['typical_queries']}: {same}")
    if "seeding" in results:
        seeding = results["seeding"]
        ok = "yes" if seeding["rows_per_s"] >= TARGETS["seeding_rows_per_s"] else "NO"
        lines.append(f"{'seeding':<20} rows={seeding['rows']} rows_per_s={seeding['rows_per_s']}  {ok}")
    verdict_ = results.get("verdict")
    if verdict_:
        if verdict_["all_targets_met"]:
            lines.append("Every target is met.")
        else:
            lines.append("Targets missed: " + ", ".join(verdict_["misses"]))
    return "\n".join(lines)
