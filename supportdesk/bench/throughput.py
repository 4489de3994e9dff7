"""Ingestion throughput: event batches through the API, raw emails through the MTA path.

Both write into the benchmark database like real traffic would (new events, new tickets and
replies), so every run measures inserts into tables of the dataset's full size. Each run uses
identifiers of its own (``run`` below), so a second run is new traffic, not a replay.
"""

import json
import time
import uuid
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.test import Client
from django.utils import timezone

from customers.models import ContactPoint, Customer
from tickets.channels.inbound_email import email_ingest

EVENT_KINDS = ["page_view", "page_view", "product_view", "search", "cart_add", "checkout"]


def events_throughput(*, client: Client, batches: int = 10, batch_size: int = 1000) -> dict:
    """POST ``batches`` batches of ``batch_size`` events to ``/api/v1/events/``; events per second."""
    public_ids = [str(pid) for pid in Customer.objects.order_by("id").values_list("public_id", flat=True)[:5000]]
    run = uuid.uuid4().hex[:8]
    now = timezone.now()
    bodies = []
    for batch in range(batches):
        items = []
        for i in range(batch_size):
            n = batch * batch_size + i
            items.append(
                {
                    "customer": public_ids[n % len(public_ids)],
                    "kind": EVENT_KINDS[n % len(EVENT_KINDS)],
                    "occurred_at": (now - timedelta(seconds=n)).isoformat(),
                    "source": "bench",
                    "external_id": f"{run}-{n}",
                    "payload": {"url": f"/products/{n % 500}", "product": f"SKU-{n % 500:05d}"},
                }
            )
        bodies.append(json.dumps(items))
    accepted = dropped = errors = 0
    started = time.perf_counter()
    for body in bodies:
        response = client.post("/api/v1/events/", body, content_type="application/json")
        if response.status_code != 200:
            errors += 1
            continue
        answer = response.json()
        accepted += answer["accepted"]
        dropped += answer["dropped"]
    seconds = time.perf_counter() - started
    total = batches * batch_size
    return {
        "events": total,
        "accepted": accepted,
        "dropped": dropped,
        "errors": errors,
        "seconds": round(seconds, 2),
        "events_per_s": round(total / seconds) if seconds else 0,
        "batch_size": batch_size,
    }


def _email(*, sender: str, subject: str, body: str, in_reply_to: str = "") -> tuple[str, bytes]:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@desk.example.com"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    message_id = make_msgid(domain="bench.example.com")
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(body)
    msg.add_alternative(f"<p>{body}</p>", subtype="html")
    return message_id, msg.as_bytes()


def emails_throughput(*, count: int = 400) -> dict:
    """Ingest ``count`` raw emails the way ``manage.py ingest_email`` does, one by one.

    The mix a desk sees: most from known customers (a new conversation, or a message that
    continues their latest one), one in four a reply threaded by In-Reply-To to a message of
    this run, and one in ten from an address the desk has never seen (a new customer).
    """
    addresses = list(
        ContactPoint.objects.filter(channel="email").order_by("id").values_list("value", flat=True)[: max(count, 1)]
    )
    run = uuid.uuid4().hex[:8]
    raws: list[bytes] = []
    earlier: list[tuple[str, str]] = []
    for i in range(count):
        sender = f"new-{run}-{i}@bench.example.com" if i % 10 == 9 else addresses[i % len(addresses)]
        if i % 4 == 3 and earlier:
            parent_id, parent_sender = earlier[-1]
            _, raw = _email(
                sender=parent_sender,
                subject="Re: my order",
                body=f"Thanks, one more question {i}",
                in_reply_to=parent_id,
            )
        else:
            message_id, raw = _email(
                sender=sender, subject=f"Question about my order {run}-{i}", body=f"Hello, where is my parcel? {i}"
            )
            earlier.append((message_id, sender))
        raws.append(raw)
    statuses: dict[str, int] = {}
    started = time.perf_counter()
    for raw in raws:
        result = email_ingest(raw=raw)
        statuses[result.status] = statuses.get(result.status, 0) + 1
    seconds = time.perf_counter() - started
    return {
        "emails": count,
        "statuses": statuses,
        "seconds": round(seconds, 2),
        "emails_per_s": round(count / seconds) if seconds else 0,
    }
