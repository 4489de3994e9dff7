"""HMAC-SHA256 webhook signatures, one secret per source.

A sender signs ``f"{timestamp}.{body}"`` (the Unix timestamp in ``X-Desk-Timestamp``, the raw
request body) and sends ``X-Desk-Signature: sha256=<hex>``. A delivery whose timestamp is more
than ``DESK_WEBHOOK_TOLERANCE_SECONDS`` away from now is refused, so a captured request cannot
be replayed later; within the window, ``X-Desk-Delivery`` makes a replay a no-op. The desk
signs its outbound webhooks the same way.
"""

import hashlib
import hmac
import time
from dataclasses import dataclass

from django.conf import settings

TIMESTAMP_HEADER = "X-Desk-Timestamp"
SIGNATURE_HEADER = "X-Desk-Signature"
DELIVERY_HEADER = "X-Desk-Delivery"
EVENT_HEADER = "X-Desk-Event"
SCHEME = "sha256"
# Only while DEBUG is on, so a developer can try the webhooks without configuring anything.
DEVELOPMENT_SECRET = "desk-development-webhook-secret"  # noqa: S105 — never used unless DEBUG


@dataclass(frozen=True)
class SignatureRejected(Exception):
    code: str
    message: str


def signature_compute(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def signature_headers(*, secret: str, body: bytes, delivery_id: str = "", timestamp: int | None = None) -> dict:
    """The headers that sign ``body`` — what a sender (or the desk's outbound webhooks) sends."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature_compute(secret=secret, timestamp=stamp, body=body)}
    if delivery_id:
        headers[DELIVERY_HEADER] = delivery_id
    return headers


def webhook_secret(source: str) -> str:
    secret = settings.DESK_WEBHOOK_SECRETS.get(source, "")
    if not secret and settings.DEBUG:
        return DEVELOPMENT_SECRET
    return secret


def signature_verify(*, source: str, timestamp: str, signature: str, body: bytes, now: float | None = None) -> None:
    """Raise :class:`SignatureRejected` unless ``signature`` signs ``body`` for ``source`` recently."""
    secret = webhook_secret(source)
    if not secret:
        raise SignatureRejected("not_configured", f"No secret is configured for {source} webhooks.")
    if not timestamp or not signature:
        raise SignatureRejected("signature_missing", f"Send {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}.")
    try:
        stamp = int(timestamp)
    except ValueError:
        raise SignatureRejected("bad_timestamp", f"{TIMESTAMP_HEADER} must be a Unix timestamp.") from None
    now = time.time() if now is None else now
    if abs(now - stamp) > settings.DESK_WEBHOOK_TOLERANCE_SECONDS:
        raise SignatureRejected("timestamp_out_of_range", "The timestamp is too old (or in the future).")
    expected = signature_compute(secret=secret, timestamp=timestamp, body=body)
    offered = [part.strip() for part in signature.split(",")]  # several, during a secret rotation
    if not any(hmac.compare_digest(expected, candidate) for candidate in offered):
        raise SignatureRejected("bad_signature", "The signature does not match the body.")
