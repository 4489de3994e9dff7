"""The load run's traffic, driven by locust as a library: agents working the desk the way a
browser does, and a burst of signed order webhooks.

``supportdesk.loadtest.run`` starts it in a process of its own, because gevent patches the
standard library (sockets, threads) and must not do so inside Django's process::

    python supportdesk/loadtest/swarm.py PLAN.json RESULTS.json

It imports nothing from the desk: the plan (written by the run) holds the address, the agents'
logins, the search terms and the webhook deliveries; the results file holds every request's
time and status by request type, the replies each agent stored, and what the webhooks answered.

An agent logs in, then loops: pick an action by weight (inbox, open a ticket, the customer
view, search, reply or note), load the page and the fragments htmx loads with it, then think
for a while on that page, during which the page's htmx polls fire at their own intervals. The
desk sits behind a TLS proxy in production, so every request carries ``X-Forwarded-Proto:
https`` and forms are posted with the ``Origin`` and ``Referer`` a browser sends.
"""

from gevent import monkey

monkey.patch_all()

import hashlib  # noqa: E402 — after gevent's patching, as gevent requires
import hmac  # noqa: E402
import html  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter, defaultdict, deque  # noqa: E402
from http.cookiejar import DefaultCookiePolicy  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import quote, urlencode, urlsplit  # noqa: E402

import gevent  # noqa: E402
from gevent.event import Event  # noqa: E402
from locust import FastHttpUser, constant, task  # noqa: E402
from locust.contrib.fasthttp import FastHttpSession  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.exception import StopUser  # noqa: E402

PLAN: dict = {}
STOP = Event()  # set when the agents' time is up: each finishes its request and leaves
AGENT_NUMBERS = itertools.count()
PROXY = {"X-Forwarded-Proto": "https", "User-Agent": "desk-loadtest (locust)"}

TAG = re.compile(r"<[a-zA-Z][^>]*\shx-trigger=\"[^\"]*\"[^>]*>")
ATTRIBUTE = re.compile(r"([\w:-]+)=\"([^\"]*)\"")
EVERY = re.compile(r"every (\d+(?:\.\d+)?)s")
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CHANNEL_SELECT = re.compile(r'<select name="channel"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]*)"([^>]*)>')
TICKET_LINK = re.compile(r'href="/tickets/(\d+)/"')
CUSTOMER_LINK = re.compile(r'href="/customers/(\d+)/"')
NUMBER = re.compile(r"/\d+/")

REPLY_LINES = [
    "Thanks for your patience — I have checked your order and the parcel left our warehouse today.",
    "I am sorry about the delay. I have asked the carrier for an update and will write again tomorrow.",
    "Your refund is on its way; it usually shows on your statement within five working days.",
    "Could you send a photo of the damaged item? Then I can arrange a replacement straight away.",
    "I have changed the delivery address on the order as you asked.",
]
NOTE_LINES = [
    "Called the carrier: parcel held at depot, redelivery booked.",
    "Customer prefers email; second contact about this order.",
    "Checked stock: replacement available, waiting for the photo.",
]


class Page:
    """What the agent has on screen: its address, its CSRF token and its htmx polls."""

    def __init__(self, *, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.csrf = _csrf(text)
        self.loads: list[str] = []
        self.polls: list[tuple[float, str, str, dict]] = []  # interval, method, url, form
        for tag in TAG.findall(text):
            attrs = {name: html.unescape(value) for name, value in ATTRIBUTE.findall(tag)}
            trigger = attrs.get("hx-trigger", "")
            url = attrs.get("hx-get") or attrs.get("hx-post")
            if not url:
                continue
            method = "GET" if attrs.get("hx-get") else "POST"
            if re.search(r"(^|,\s*)load\b", trigger) and method == "GET":
                self.loads.append(url)
            every = EVERY.search(trigger)
            if every:
                form = _included(text, attrs.get("hx-include", ""))
                self.polls.append((float(every.group(1)), method, url, form))


def _csrf(text: str) -> str:
    match = CSRF_INPUT.search(text)
    if match:
        return match.group(1)
    header = re.search(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", text)
    return header.group(1) if header else ""


def _included(text: str, selector: str) -> dict:
    """The values htmx adds for ``hx-include="#id"`` (a hidden input on the desk's pages)."""
    if not selector.startswith("#"):
        return {}
    match = re.search(rf'<input[^>]*id="{re.escape(selector[1:])}"[^>]*>', text)
    if not match:
        return {}
    attrs = dict(ATTRIBUTE.findall(match.group(0)))
    return {attrs["name"]: attrs.get("value", "")} if "name" in attrs else {}


def _kind(url: str) -> str:
    """A request type's name: the path with ids as ``:id`` and without the query."""
    return NUMBER.sub("/:id/", urlsplit(url).path + "/").rstrip("/").replace("//", "/") or "/"


class BehindTlsProxy(DefaultCookiePolicy):
    """The desk's cookies are ``Secure``: a browser sends them because it speaks HTTPS to the
    production proxy. Here loopback HTTP with ``X-Forwarded-Proto: https`` stands in for it."""

    def return_ok_secure(self, cookie, request) -> bool:
        return True


class Agent(FastHttpUser):
    wait_time = constant(0)
    default_headers = PROXY
    network_timeout = 60.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.number = next(AGENT_NUMBERS)
        agents = PLAN["agents"]
        self.username = agents[self.number % len(agents)]
        self.rng = random.Random(f"{PLAN['run']}-{self.number}")  # noqa: S311 — traffic, not secrets
        self.tickets: list[int] = []
        self.ticket: int | None = None
        self.customer: int | None = None
        self.page: Page | None = None
        self.posted = 0
        self.where = "lost"
        self.origin = "https://" + urlsplit(self.host).netloc
        self.client.cookiejar.set_policy(BehindTlsProxy())
        self.login()

    # Requests ----------------------------------------------------------------------------------

    def _request(self, method: str, url: str, *, name: str, expect: tuple[int, ...], **kwargs):
        headers = {**kwargs.pop("headers", {})}
        with self.client.request(
            method, url, name=name, headers=headers, catch_response=True, allow_redirects=False, **kwargs
        ) as response:
            if response.status_code in expect:
                response.success()
            else:
                response.failure(f"{method} {url} answered {response.status_code}, expected {expect}")
            return response

    def _form_headers(self, referer: str) -> dict:
        return {
            "Origin": self.origin,
            "Referer": self.origin + referer,
            "Content-Type": "application/x-www-form-urlencoded",
        }

    def open_page(self, path: str, *, name: str) -> Page | None:
        """A full page load: the document, then what htmx loads with it (``hx-trigger="load"``)."""
        response = self._request("GET", path, name=name, expect=(200,))
        if response.status_code != 200:
            self.page = None
            return None
        page = Page(path=path, text=response.text or "")
        # htmx sends a page's load-triggered requests at once, as the browser's connections allow.
        gevent.joinall(
            [
                gevent.spawn(
                    self._request,
                    "GET",
                    url,
                    name=f"fragment {_kind(url)}",
                    expect=(200, 204),
                    headers={"HX-Request": "true", "HX-Current-URL": self.origin + path},
                )
                for url in page.loads
            ]
        )
        self.page = page
        return page

    def login(self) -> None:
        response = self._request("GET", "/accounts/login/", name="login page", expect=(200,))
        token = _csrf(response.text or "")
        form = {"csrfmiddlewaretoken": token, "username": self.username, "password": PLAN["password"]}
        response = self._request(
            "POST",
            "/accounts/login/",
            name="login",
            expect=(302,),
            data=urlencode(form),
            headers=self._form_headers("/accounts/login/"),
        )
        if response.status_code != 302:
            raise StopUser()
        RESULTS["logged_in"] += 1
        if RESULTS["logged_in"] == len(PLAN["agents"]):
            RESULTS["all_in_at"] = time.monotonic() - RESULTS["started"]
        self.where = self.inbox()

    # What an agent does ------------------------------------------------------------------------
    # Each action loads a page and says where the agent is; ``FLOW`` gives the weights of what
    # they do next from there, as an agent works: open a ticket from the inbox, read it, look at
    # the customer now and then, reply, go back to the inbox; search when a customer calls.

    def inbox(self) -> str:
        view = self.rng.choice(["", "", "?view=mine", "?view=unassigned"])
        page = self.open_page("/" + view, name="inbox")
        if page:
            found = [int(n) for n in TICKET_LINK.findall(page.text)]
            if found:
                self.tickets = found
        return "inbox"

    def open_ticket(self) -> str:
        if not self.tickets:
            return self.inbox()
        return self._ticket(self.rng.choice(self.tickets))

    def _ticket(self, ticket: int) -> str:
        self.ticket = ticket
        page = self.open_page(f"/tickets/{ticket}/", name="ticket")
        if page is None:
            return "lost"
        customers = CUSTOMER_LINK.findall(page.text)
        self.customer = int(customers[0]) if customers else None
        return "ticket"

    def back_to_ticket(self) -> str:
        return self._ticket(self.ticket) if self.ticket else self.open_ticket()

    def customer_view(self) -> str:
        if self.customer is None:
            return self.open_ticket()
        return "customer" if self.open_page(f"/customers/{self.customer}/", name="customer") else "lost"

    def search(self) -> str:
        term = self.rng.choice(PLAN["search_terms"])
        page = self.open_page(f"/search/?q={quote(term)}", name="search")
        if page is None:
            return "lost"
        customers = CUSTOMER_LINK.findall(page.text)
        tickets = [int(n) for n in TICKET_LINK.findall(page.text)]
        self.customer = int(customers[0]) if customers else self.customer
        if tickets:
            self.tickets = tickets
        return "search"

    def reply(self) -> str:
        """Write on the ticket on screen: a reply on the channel the composer proposes, or one
        time in four an internal note; the desk redirects back to the ticket."""
        page, ticket = self.page, self.ticket
        if page is None or ticket is None or page.path != f"/tickets/{ticket}/":
            return self.open_ticket()
        internal = self.rng.random() < 0.25
        self.posted += 1
        ref = f"{PLAN['run']}-{self.number}-{self.posted}"
        line = self.rng.choice(NOTE_LINES if internal else REPLY_LINES)
        form = {
            "csrfmiddlewaretoken": page.csrf,
            "macro": "",
            "body": f"{line}\n\nref {ref}",
            "channel": _proposed_channel(page.text),
        }
        if internal:
            form["internal"] = "on"
        response = self._request(
            "POST",
            f"/tickets/{ticket}/reply/",
            name="reply",
            expect=(302,),
            data=urlencode(form),
            headers=self._form_headers(page.path),
        )
        location = response.headers.get("Location", "") if response.headers else ""
        if response.status_code != 302:
            return "lost"
        if urlsplit(location).path != f"/tickets/{ticket}/":
            RESULTS["problems"].append(f"reply {ref} redirected to {location!r}")
            return "lost"
        RESULTS["replies"].append({"ref": ref, "ticket": ticket, "internal": internal})
        self.open_page(f"/tickets/{ticket}/", name="ticket")
        return "replied"

    @task
    def work(self) -> None:
        if STOP.is_set():
            raise StopUser()
        actions, weights = zip(*FLOW[self.where], strict=True)
        self.where = self.rng.choices(actions, weights=weights)[0](self)
        self.think()
        if STOP.is_set():
            raise StopUser()

    def think(self) -> None:
        """Stay on the page for a while; its polls run on their own intervals meanwhile."""
        low, high = PLAN["think_seconds"]
        now = time.monotonic()
        end = now + self.rng.uniform(low, high)
        page = self.page
        polls = [
            [now + interval, interval, method, url, form]
            for interval, method, url, form in (page.polls if page else [])
        ]
        while not STOP.is_set():
            due = min([poll[0] for poll in polls] + [end])
            if STOP.wait(max(0.0, due - time.monotonic())) or due >= end:
                return
            poll = min(polls, key=lambda p: p[0])
            poll[0] += poll[1]
            self._poll(page, poll[2], poll[3], poll[4])

    def _poll(self, page: Page, method: str, url: str, form: dict) -> None:
        headers = {"HX-Request": "true", "HX-Current-URL": self.origin + page.path}
        if method == "POST":
            headers.update(self._form_headers(page.path))
            headers["X-CSRFToken"] = page.csrf
            self._request(
                method, url, name=f"poll {_kind(url)}", expect=(200, 204), data=urlencode(form), headers=headers
            )
            return
        if "inbox-live" in page.text and urlsplit(url).path == "/":
            headers["HX-Target"] = "inbox-live"
        self._request(method, url, name=f"poll {_kind(url)}", expect=(200, 204), headers=headers)


def _proposed_channel(text: str) -> str:
    select = CHANNEL_SELECT.search(text)
    if not select:
        return "email"
    options = OPTION.findall(select.group(1))
    for value, rest in options:
        if "selected" in rest:
            return value
    return options[0][0] if options else "email"


# Where the agent is -> (what they do next, weight).
FLOW = {
    "inbox": [(Agent.open_ticket, 75), (Agent.search, 15), (Agent.inbox, 10)],
    "ticket": [(Agent.reply, 50), (Agent.customer_view, 25), (Agent.inbox, 25)],
    "replied": [(Agent.inbox, 80), (Agent.reply, 20)],
    "customer": [(Agent.back_to_ticket, 60), (Agent.inbox, 30), (Agent.search, 10)],
    "search": [(Agent.customer_view, 50), (Agent.open_ticket, 30), (Agent.inbox, 20)],
    "lost": [(Agent.inbox, 1)],
}


# Webhooks ------------------------------------------------------------------------------------


def webhook_burst(environment: Environment) -> None:
    """Send every delivery of the plan from ``concurrency`` senders at once; a duplicate sits
    close behind its original in the queue, so the two are often in flight together."""
    plan = PLAN["webhooks"]
    queue = deque(plan["deliveries"])
    secret = plan["secret"].encode()
    RESULTS["webhooks"]["started_at"] = round(time.monotonic() - RESULTS["started"], 2)

    def sender() -> None:
        session = FastHttpSession(
            base_url=PLAN["host"],
            request_event=environment.events.request,
            user=None,
            network_timeout=60.0,
            connection_timeout=10.0,
        )
        while queue:
            delivery_id, body = queue.popleft()
            raw = body.encode()
            stamp = str(int(time.time()))
            signature = hmac.new(secret, stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
            headers = {
                **PROXY,
                "Content-Type": "application/json",
                "X-Desk-Timestamp": stamp,
                "X-Desk-Signature": f"sha256={signature}",
                "X-Desk-Delivery": delivery_id,
                "X-Desk-Source": plan["source"],
            }
            sent_at = time.monotonic()
            with session.post(
                "/webhooks/orders/", data=raw, headers=headers, name="webhook order", catch_response=True
            ) as response:
                IN_FLIGHT[delivery_id].append((sent_at, time.monotonic()))
                if response.status_code == 200:
                    response.success()
                    replayed = (response.headers or {}).get("X-Desk-Replay") == "true"
                    RESULTS["webhooks"]["replayed" if replayed else "fresh"] += 1
                else:
                    response.failure(f"webhook {delivery_id} answered {response.status_code}: {response.text[:300]}")

    gevent.joinall([gevent.spawn(sender) for _ in range(plan["concurrency"])])
    # How many duplicates were sent while their original was still being answered.
    RESULTS["webhooks"]["overlapping_duplicates"] = sum(
        1
        for spans in IN_FLIGHT.values()
        if len(spans) > 1 and max(start for start, _ in spans) < min(end for _, end in spans)
    )
    RESULTS["webhooks"]["seconds"] = round(time.monotonic() - RESULTS["started"] - RESULTS["webhooks"]["started_at"], 2)


# The run ---------------------------------------------------------------------------------------

RESULTS: dict = {"replies": [], "problems": [], "logged_in": 0, "webhooks": {"fresh": 0, "replayed": 0}}
TIMES: dict[str, list[float]] = defaultdict(list)
STATUSES: dict[str, Counter] = defaultdict(Counter)
FAILURES: list[dict] = []
IN_FLIGHT: dict[str, list[tuple[float, float]]] = defaultdict(list)  # delivery id -> (sent, answered)


SPANS: dict[str, list[tuple[float, float]]] = defaultdict(list)  # name -> (started, ended), from the run's start


def _on_request(request_type, name, response_time, response_length, exception=None, response=None, **kwargs):
    TIMES[name].append(response_time)
    ended = time.monotonic() - RESULTS["started"]
    SPANS[name].append((ended - response_time / 1000, ended))
    status = getattr(response, "status_code", 0) or 0
    STATUSES[name][str(status)] += 1
    if exception is not None:
        FAILURES.append({"name": name, "status": status, "error": str(exception)[:500]})


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``fraction`` of all at or below."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


PHASES = ("logins", "steady", "burst")


def phase_of(started: float, ended: float) -> str:
    """``burst`` if the request overlapped the webhook burst, ``logins`` if it began before the
    last agent was in, else ``steady`` (the agents alone, all logged in)."""
    hooks = RESULTS["webhooks"]
    if "started_at" in hooks:
        burst_end = hooks["started_at"] + hooks.get("seconds", float("inf"))  # unfinished: until the end
        if ended >= hooks["started_at"] and started <= burst_end:
            return "burst"
    if started < RESULTS.get("all_in_at", float("inf")):
        return "logins"
    return "steady"


def _figures(times: list[float]) -> dict:
    return {
        "requests": len(times),
        "p50_ms": round(percentile(times, 0.50), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
    }


def summary(elapsed: float) -> dict:
    types = {}
    by_phase: dict[str, list[float]] = defaultdict(list)
    for name in sorted(TIMES):
        times = TIMES[name]
        failures = sum(1 for failure in FAILURES if failure["name"] == name)
        phases: dict[str, list[float]] = defaultdict(list)
        for took, (started, ended) in zip(times, SPANS[name], strict=True):
            phases[phase_of(started, ended)].append(took)
            by_phase[phase_of(started, ended)].append(took)
        types[name] = {
            "requests": len(times),
            "failures": failures,
            "statuses": dict(STATUSES[name]),
            "p50_ms": round(percentile(times, 0.50), 1),
            "p95_ms": round(percentile(times, 0.95), 1),
            "max_ms": round(max(times), 1),
            "requests_per_s": round(len(times) / elapsed, 2) if elapsed else 0,
            "phases": {phase: _figures(phases[phase]) for phase in PHASES if phases[phase]},
        }
    every = [t for times in TIMES.values() for t in times]
    hooks = RESULTS["webhooks"]
    return {
        "phases": {
            "all_agents_in_s": round(RESULTS["all_in_at"], 2) if "all_in_at" in RESULTS else None,
            "burst_s": [hooks["started_at"], round(hooks["started_at"] + hooks["seconds"], 2)]
            if "seconds" in hooks
            else None,
            **{phase: _figures(by_phase[phase]) for phase in PHASES},
        },
        "types": types,
        "total": {
            "requests": len(every),
            "failures": len(FAILURES),
            "p50_ms": round(percentile(every, 0.50), 1),
            "p95_ms": round(percentile(every, 0.95), 1),
            "max_ms": round(max(every), 1) if every else 0,
            "requests_per_s": round(len(every) / elapsed, 2) if elapsed else 0,
        },
        "failures": FAILURES[:50],
    }


def main(plan_path: str, results_path: str) -> int:
    PLAN.update(json.loads(Path(plan_path).read_text()))
    Agent.host = PLAN["host"]
    environment = Environment(user_classes=[Agent])
    environment.events.request.add_listener(_on_request)
    runner = environment.create_local_runner()
    RESULTS["started"] = started = time.monotonic()
    runner.start(len(PLAN["agents"]), spawn_rate=PLAN["spawn_rate"])
    # The agents' time starts once every one of them is in (logins are Argon2-dear and queue on
    # a busy machine), or at the login timeout; the burst comes a while into that time.
    while "all_in_at" not in RESULTS and time.monotonic() - started < PLAN["login_timeout"]:
        gevent.sleep(0.1)
    if "all_in_at" not in RESULTS:
        RESULTS["problems"].append(f"only {RESULTS['logged_in']} agents were in after {PLAN['login_timeout']} s")
    working_from = time.monotonic() - started
    burst = gevent.spawn_later(PLAN["webhooks"]["start_after"], webhook_burst, environment)
    gevent.sleep(PLAN["duration"])
    STOP.set()
    # Each agent finishes the request it is in and leaves; none is cut off mid-request, so
    # every reply the desk stored is one the agent saw answered.
    deadline = time.monotonic() + PLAN["stop_timeout"]
    while runner.user_count and time.monotonic() < deadline:
        gevent.sleep(0.2)
    agents_left = runner.user_count
    burst.join(timeout=max(0.0, working_from + PLAN["burst_deadline"] - (time.monotonic() - started)))
    burst_done = burst.ready()
    elapsed = time.monotonic() - started
    runner.quit()
    if not burst_done:
        burst.kill()
    results = {
        **summary(elapsed),
        "elapsed_s": round(elapsed, 2),
        "working_from_s": round(working_from, 2),
        "agents": len(PLAN["agents"]),
        "agents_cut_off": agents_left,
        "replies": RESULTS["replies"],
        "problems": RESULTS["problems"]
        + [f"{row['count']} times: {row['msg']}" for row in runner.exceptions.values()]
        + ([] if burst_done else ["the webhook burst did not finish in time"])
        + ([f"{agents_left} agents were still in a request at the stop timeout"] if agents_left else []),
        "webhooks": {**RESULTS["webhooks"], "sent": len(TIMES.get("webhook order", []))},
    }
    Path(results_path).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
