"""After the run: what the desk answered and what it stored, against what was sent.

Every check compares an exact expected figure with what was found; the run is clean only if
all of them hold. Replies are matched one by one: each reply an agent saw accepted carries a
reference (``ref <run>-<agent>-<n>``) and must be stored exactly once, as a reply or a note as
posted, and nothing else may carry the run's reference.
"""

import re
from collections import Counter
from dataclasses import asdict, dataclass

from django.db.models import Count, F, Q

from customers.models import ContactPoint, Customer, Order
from supportdesk.models import WebhookDelivery
from tickets.models import Message

from .dataset import STORE_SOURCE
from .webhooks import Burst


@dataclass(frozen=True)
class Check:
    name: str
    expected: int
    found: int
    ok: bool
    detail: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _exact(name: str, expected: int, found: int, detail: str = "") -> Check:
    return Check(name=name, expected=expected, found=found, ok=expected == found, detail=detail)


def checks_run(*, results: dict, burst: Burst, server_errors: list[str]) -> list[Check]:
    statuses = Counter()
    for row in results["types"].values():
        statuses.update({int(code): n for code, n in row["statuses"].items()})
    failures = results["failures"]
    checks = [
        _exact(
            "requests answered other than expected (or not at all)",
            0,
            results["total"]["failures"],
            "; ".join(sorted({f"{f['name']}: {f['error']}" for f in failures})[:5]),
        ),
        _exact("5xx answers", 0, sum(n for code, n in statuses.items() if code >= 500)),
        _exact("429 answers (a rate limit tripped)", 0, statuses.get(429, 0)),
        _exact("problems reported by the agents", 0, len(results["problems"]), "; ".join(results["problems"][:5])),
        _exact("errors in the server's log", 0, len(server_errors), "; ".join(server_errors[:3])),
    ]
    checks += _reply_checks(results=results, run=burst.run)
    checks += _webhook_checks(results=results, burst=burst)
    return checks


REF = re.compile(r"\bref ([0-9a-f]+-\d+-\d+)\s*$")


def _reply_checks(*, results: dict, run: str) -> list[Check]:
    posted = Counter((reply["ref"], reply["internal"]) for reply in results["replies"])
    stored: Counter = Counter()
    for body, direction in Message.objects.filter(body__contains=f"ref {run}-").values_list("body", "direction"):
        match = REF.search(body)
        stored[(match.group(1) if match else body[-40:], direction == Message.Direction.NOTE)] += 1
    missing = posted - stored
    extra = stored - posted
    detail = ""
    if missing or extra:
        detail = f"missing {sorted(missing)[:3]}, unexpected {sorted(extra)[:3]}"
    return [
        _exact("replies and notes stored (the agents' own count)", sum(posted.values()), sum(stored.values())),
        Check(
            name="each stored exactly once, as posted (reply or note)",
            expected=len(posted),
            found=len(posted) - len(missing),
            ok=not missing and not extra,
            detail=detail,
        ),
    ]


def _webhook_checks(*, results: dict, burst: Burst) -> list[Check]:
    answered = results["webhooks"]
    orders = Order.objects.filter(source=STORE_SOURCE, external_id__startswith=burst.external_id_prefix)
    deliveries = WebhookDelivery.objects.filter(source="orders", delivery_id__startswith=f"load-{burst.run}-")
    new_customers = (
        ContactPoint.objects.filter(channel="email", value__in=burst.new_customer_emails)
        .values("customer_id")
        .distinct()
        .count()
    )
    # The customers' denormalised order counts must match their orders after the concurrent
    # burst (each order updates its customer's figures in the same transaction).
    touched = Customer.objects.filter(
        contact_points__channel="email",
        contact_points__value__in=burst.new_customer_emails + burst.known_customer_emails,
    ).distinct()
    wrong_figures = (
        touched.annotate(counted=Count("orders", filter=~Q(orders__status=Order.Status.CANCELLED), distinct=True))
        .exclude(order_count=F("counted"))
        .count()
    )
    return [
        _exact("webhook deliveries sent", len(burst.deliveries), answered["sent"]),
        _exact("deliveries answered as new", burst.distinct, answered["fresh"]),
        _exact("duplicates answered as replays", burst.duplicates, answered["replayed"]),
        _exact("orders created by the burst", burst.distinct, orders.count()),
        _exact("deliveries recorded once", burst.distinct, deliveries.count()),
        _exact("new customers created by the burst", len(burst.new_customer_emails), new_customers),
        _exact("customers whose order count is off", 0, wrong_figures),
    ]
