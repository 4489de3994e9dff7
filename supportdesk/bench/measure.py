"""Timed, warm, sequential, in-process requests, and short throughput runs."""

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


@dataclass
class Timing:
    name: str
    path: str
    p50_ms: float
    p95_ms: float
    max_ms: float
    queries: int
    status: int
    target_ms: float | None = None

    @property
    def meets_target(self) -> bool | None:
        return None if self.target_ms is None else self.p95_ms <= self.target_ms

    def as_dict(self) -> dict:
        return {**asdict(self), "meets_target": self.meets_target}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def time_request(
    client: Client,
    name: str,
    path: str,
    *,
    requests: int,
    warmup: int = 3,
    target_ms: float | None = None,
    method: str = "get",
    headers: dict | None = None,
) -> Timing:
    """Time ``requests`` warm requests to ``path``; the query count is that of the last one."""
    call: Callable = getattr(client, method)
    headers = headers or {}
    for _ in range(warmup):
        call(path, headers=headers)
    samples: list[float] = []
    status = 0
    queries = 0
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = call(path, headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
        status = response.status_code
        queries = len(captured.captured_queries)
    return Timing(
        name=name,
        path=path,
        p50_ms=round(statistics.median(samples), 2),
        p95_ms=round(percentile(samples, 0.95), 2),
        max_ms=round(max(samples), 2),
        queries=queries,
        status=status,
        target_ms=target_ms,
    )


def time_callable(name: str, label: str, fn: Callable[[], object], *, requests: int, target_ms: float | None) -> Timing:
    """Time a function (e.g. a selector) the way ``time_request`` times a page."""
    for _ in range(3):
        fn()
    samples: list[float] = []
    queries = 0
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
        queries = len(captured.captured_queries)
    return Timing(
        name,
        label,
        round(statistics.median(samples), 2),
        round(percentile(samples, 0.95), 2),
        round(max(samples), 2),
        queries,
        200,
        target_ms,
    )


def host_reference_ms(*, rounds: int = 7) -> float:
    """Milliseconds this machine takes for a fixed piece of pure Python (dicts, attributes,
    string formatting: what a request spends its time on), median of ``rounds``.

    On a shared or virtual machine the same code runs at different speeds from one hour to the
    next; printed beside the figures, this tells two runs' machines apart. Lower is faster.
    """

    class Row:
        __slots__ = ("key", "value")

        def __init__(self, key: str, value: int) -> None:
            self.key, self.value = key, value

    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        table: dict[str, int] = {}
        for i in range(200_000):
            row = Row(f"k{i % 1000}", i)
            table[row.key] = table.get(row.key, 0) + row.value
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 1)
