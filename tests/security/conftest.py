"""Security checks: each test states an attack and shows the desk refusing it."""

from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from supportdesk import rate_limits


@pytest.fixture(autouse=True)
def fresh_cache():
    # Rate-limit counters live in the cache; start each check from zero.
    cache.clear()
    yield
    cache.clear()


class _FrozenClock:
    """``timezone`` for the rate limiter: one fixed instant, so a test never straddles two windows."""

    instant = datetime(2026, 6, 1, 12, 0, 5, tzinfo=UTC)

    @classmethod
    def now(cls) -> datetime:
        return cls.instant


@pytest.fixture
def frozen_rate_window(monkeypatch):
    monkeypatch.setattr(rate_limits, "timezone", _FrozenClock)
