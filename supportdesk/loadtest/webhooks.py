"""The burst of order webhooks: distinct orders, plus exact duplicates of some of them.

Orders come from the store (``X-Desk-Source: loadstore``), shaped like Shopify's
``orders/create``: most from customers the desk knows (by email), one in ten from a new
customer, each with one to three lines from the store's catalogue. A duplicate is the same
body with the same ``X-Desk-Delivery``, as a store's retry sends it; it is queued a few places
behind its original, so with many senders the two are often in flight at the same moment.
"""

import json
import random
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from customers.models import ContactPoint

from .dataset import STORE_PRODUCTS

NEW_CUSTOMER_EVERY = 10


@dataclass(frozen=True)
class Burst:
    run: str
    deliveries: list[tuple[str, str]]  # (delivery id, body), in sending order
    distinct: int
    duplicates: int
    new_customer_emails: list[str] = field(default_factory=list)
    known_customer_emails: list[str] = field(default_factory=list)

    @property
    def external_id_prefix(self) -> str:
        return f"{self.run}-"


def burst_build(*, run: str, total: int, duplicate_share: float, concurrency: int, seed: int) -> Burst:
    """``total`` deliveries, ``round(total * duplicate_share)`` of them duplicates."""
    if total < 1:
        raise ValueError("Send at least one webhook.")
    if not 0 <= duplicate_share < 1:
        raise ValueError("The share of duplicates must be from 0 up to (not including) 1.")
    rng = random.Random(seed)  # noqa: S311 — test data, not secrets
    duplicates = round(total * duplicate_share)
    distinct = total - duplicates
    if duplicates > distinct:
        raise ValueError("There cannot be more duplicates than distinct deliveries.")
    known = list(
        ContactPoint.objects.filter(channel="email", customer__erased=False)
        .order_by("?")
        .values_list("value", flat=True)[:distinct]
    )
    if not known:
        raise ValueError("The dataset has no customers with an email address.")
    now = timezone.now()
    originals: list[tuple[str, str]] = []
    new_emails: list[str] = []
    known_emails: list[str] = []
    for i in range(distinct):
        if i % NEW_CUSTOMER_EVERY == NEW_CUSTOMER_EVERY - 1:
            email = f"new-{run}-{i}@shop.example.com"
            customer = {"email": email, "first_name": "New", "last_name": f"Shopper {i}"}
            new_emails.append(email)
        else:
            email = known[i % len(known)]
            customer = {"email": email}
            known_emails.append(email)
        lines = []
        for _ in range(rng.randint(1, 3)):
            product = rng.randint(1, STORE_PRODUCTS)
            lines.append(
                {
                    "product_id": f"LP{product}",
                    "sku": f"LOAD-{product:04d}",
                    "title": f"Store item {product}",
                    "quantity": rng.randint(1, 3),
                    "price": f"{5 + (product * 7) % 150}.00",
                }
            )
        total_price = sum(int(line["quantity"]) * float(line["price"]) for line in lines)
        body = {
            "id": f"{run}-{i}",
            "order_number": f"{run}-{i}",
            "created_at": (now - timedelta(seconds=distinct - i)).isoformat(),
            "currency": "EUR",
            "total_price": f"{total_price:.2f}",
            "financial_status": "paid",
            "customer": customer,
            "line_items": lines,
        }
        originals.append((f"load-{run}-{i}", json.dumps(body, separators=(",", ":"))))

    # Order by a key: original i at i; a duplicate of it a little later, within twice the
    # number of senders, so it is sent while the original may still be in flight.
    keyed = [(float(i), delivery) for i, delivery in enumerate(originals)]
    step = distinct / duplicates if duplicates else 0
    for j in range(duplicates):
        i = int(j * step)
        keyed.append((i + rng.randint(0, 2 * concurrency) + 0.5, originals[i]))
    keyed.sort(key=lambda pair: pair[0])
    return Burst(
        run=run,
        deliveries=[delivery for _, delivery in keyed],
        distinct=distinct,
        duplicates=duplicates,
        new_customer_emails=new_emails,
        known_customer_emails=known_emails,
    )
