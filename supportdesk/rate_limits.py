"""Fixed-window rate limits kept in the cache (shared by all web processes when the cache is
Redis). Used where anonymous visitors can write, such as the chat widget."""

from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone


@dataclass(frozen=True)
class Rate:
    limit: int
    window_seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate":
        """``"20/60"``: at most 20 in any 60-second window."""
        limit, _, window = text.partition("/")
        return cls(int(limit), int(window or 60))


def rate_limit_hit(*, scope: str, key: str, rate: Rate) -> int:
    """Count one hit; return 0 if it is allowed, else the seconds until the window resets."""
    now = int(timezone.now().timestamp())
    window_start = now - now % rate.window_seconds
    cache_key = f"rate:{scope}:{key}:{window_start}"
    cache.add(cache_key, 0, timeout=rate.window_seconds + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=rate.window_seconds + 5)
        count = 1
    if count > rate.limit:
        return max(1, window_start + rate.window_seconds - now)
    return 0
