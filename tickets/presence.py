"""Who else is looking at a ticket, or writing a reply to it, right now.

Each open ticket page sends a heartbeat every few seconds (htmx polling) with the agent's
state, "viewing" or "replying". Heartbeats live in Django's cache under one key per ticket,
and expire after ``TTL`` seconds without a beat, so a closed tab disappears on its own. Nothing
is written to the database. With several web processes the cache must be shared (Redis via
``CACHE_URL``); two beats racing on one key can drop one of them, which the next beat repairs.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.utils import timezone

TTL = 30  # seconds a heartbeat counts for; the page beats every 10
VIEWING, REPLYING = "viewing", "replying"
STATES = (VIEWING, REPLYING)


@dataclass(frozen=True)
class Presence:
    user_id: int
    name: str
    state: str
    since: datetime


def _key(ticket_id: int) -> str:
    return f"desk:presence:ticket:{ticket_id}"


def _fresh(entries: dict, now: float) -> dict:
    return {user_id: entry for user_id, entry in entries.items() if now - entry["at"] < TTL}


def presence_beat(*, ticket_id: int, user: AbstractBaseUser, state: str = VIEWING) -> None:
    """Record that ``user`` is on the ticket now, viewing or replying."""
    state = state if state in STATES else VIEWING
    now = timezone.now().timestamp()
    entries = _fresh(cache.get(_key(ticket_id)) or {}, now)
    previous = entries.get(user.pk)
    since = previous["since"] if previous and previous["state"] == state else now
    entries[user.pk] = {
        "name": user.get_full_name() or user.get_username(),
        "state": state,
        "at": now,
        "since": since,
    }
    cache.set(_key(ticket_id), entries, timeout=TTL * 2)


def presence_leave(*, ticket_id: int, user: AbstractBaseUser) -> None:
    entries = cache.get(_key(ticket_id)) or {}
    if entries.pop(user.pk, None) is not None:
        cache.set(_key(ticket_id), entries, timeout=TTL * 2)


def presence_others(*, ticket_id: int, user: AbstractBaseUser) -> list[Presence]:
    """Everyone else on the ticket, those replying first."""
    now = timezone.now().timestamp()
    entries = _fresh(cache.get(_key(ticket_id)) or {}, now)
    others = [
        Presence(
            user_id=user_id,
            name=entry["name"],
            state=entry["state"],
            since=datetime.fromtimestamp(entry["since"], tz=timezone.get_current_timezone()),
        )
        for user_id, entry in entries.items()
        if user_id != user.pk
    ]
    return sorted(others, key=lambda p: (p.state != REPLYING, p.name))
