"""What the alarms would see, on the local stack: the functions' own metrics (the embedded-metric-
format lines they print, as CloudWatch would read them) and local stand-ins for the AWS metrics
the alarms of modules/monitoring watch, judged against that module's default thresholds.

A local view, not CloudWatch: figures are over the last minute, and "would alarm" means the last
minute breached the threshold (the deployed alarms want 3 breaching minutes out of 5).
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import hcl2
from pymemcache.client.base import Client
from pymemcache.exceptions import MemcacheError

WINDOW_SECONDS = 60.0
KEPT_SECONDS = 600.0  # older samples are dropped
MONITORING_VARIABLES = Path(__file__).resolve().parents[2] / "modules/monitoring/variables.tf"
ANSWERS = ("Hits", "Misses", "StaleAnswers", "NotModified", "BusyAnswers", "BadRequests")


class MetricLines(io.TextIOBase):
    """What the functions print, as Lambda takes it from an invocation: the lines in embedded
    metric format go to the sink of the invocation that printed them (as CloudWatch takes them out
    of the log stream); every other line, and anything printed outside an invocation, goes on to
    the standard output that was there.

    One per process. It puts itself in sys.stdout when an invocation begins, over whatever is
    there then (a test runner may have replaced it since), and never puts anything back: several
    stacks and threads share it, each invocation's lines are told apart by thread.
    """

    def __init__(self) -> None:
        self._passthrough: TextIO = sys.stdout
        self._local = threading.local()
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    @contextmanager
    def captured_by(self, sink: Callable[[dict[str, Any]], None]) -> Iterator[None]:
        """While the block runs, metric lines this thread prints go to `sink`."""
        with self._lock:
            if sys.stdout is not self:
                self._passthrough, sys.stdout = sys.stdout, self
        previous = getattr(self._local, "sink", None)
        self._local.sink = sink
        try:
            yield
        finally:
            self._local.sink = previous

    def write(self, text: str) -> int:
        pending = getattr(self._local, "partial", "") + text
        *lines, self._local.partial = pending.split("\n")
        sink: Callable[[dict[str, Any]], None] | None = getattr(self._local, "sink", None)
        for line in lines:
            document = _emf_document(line)
            if sink is None or document is None:
                self._passthrough.write(line + "\n")
            else:
                sink(document)
        return len(text)

    def flush(self) -> None:
        self._passthrough.flush()


METRIC_LINES = MetricLines()


def _emf_document(line: str) -> dict[str, Any] | None:
    if not line.startswith('{"_aws"'):
        return None
    try:
        document: dict[str, Any] = json.loads(line)
    except ValueError:
        return None
    return document if isinstance(document.get("_aws"), dict) else None


class RecentEvents:
    """Values with the time they happened, for figures over the last minute."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._events: deque[tuple[float, float]] = deque()
        self._lock = threading.Lock()
        self._clock = clock

    def add(self, value: float = 1.0) -> None:
        now = self._clock()
        with self._lock:
            self._events.append((now, value))
            while self._events and self._events[0][0] < now - KEPT_SECONDS:
                self._events.popleft()

    def _last_minute(self) -> list[float]:
        since = self._clock() - WINDOW_SECONDS
        with self._lock:
            return [value for at, value in self._events if at >= since]

    def sum(self) -> float:
        return sum(self._last_minute())

    def maximum(self) -> float:
        return max(self._last_minute(), default=0.0)


@dataclass(frozen=True)
class Sample:
    at: float
    service: str
    name: str
    value: float


class LocalMetrics:
    """The samples of the last minutes, and what the page shows of them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._samples: deque[Sample] = deque()
        self._units: dict[str, dict[str, str]] = {}  # per service and metric, as documented
        self._lock = threading.Lock()
        self._clock = clock

    def record(self, document: dict[str, Any]) -> None:
        now = self._clock()
        service = str(document.get("service", ""))
        with self._lock:
            for directive in document["_aws"].get("CloudWatchMetrics", []):
                for metric in directive.get("Metrics", []):
                    units = self._units.setdefault(service, {})
                    units[metric["Name"]] = str(metric.get("Unit", "None"))
                    values = document.get(metric["Name"], [])
                    for value in values if isinstance(values, list) else [values]:
                        self._samples.append(Sample(now, service, metric["Name"], float(value)))
            while self._samples and self._samples[0].at < now - KEPT_SECONDS:
                self._samples.popleft()

    def last_minute(self) -> list[Sample]:
        since = self._clock() - WINDOW_SECONDS
        with self._lock:
            return [sample for sample in self._samples if sample.at >= since]

    def history(
        self, service: str, names: Iterable[str], bucket_seconds: float, buckets: int
    ) -> dict[str, list[float]]:
        """Per metric of `service`, its sums over the last `buckets` spans of `bucket_seconds`,
        oldest first (the chart of the local metrics page)."""
        now = self._clock()
        series = {name: [0.0] * buckets for name in names}
        with self._lock:
            samples = list(self._samples)
        for sample in samples:
            age_buckets = int((now - sample.at) // bucket_seconds)
            if sample.service == service and sample.name in series and age_buckets < buckets:
                series[sample.name][buckets - 1 - age_buckets] += sample.value
        return series

    def units(self) -> dict[str, dict[str, str]]:
        """The unit each function gave each of its metrics (CloudWatch's names: Milliseconds...)."""
        with self._lock:
            return {service: dict(units) for service, units in self._units.items()}

    def by_service(self) -> dict[str, dict[str, dict[str, float]]]:
        """Per service and metric, over the last minute: sum, samples, p50, p95, maximum."""
        grouped: dict[str, dict[str, list[float]]] = {}
        for sample in self.last_minute():
            grouped.setdefault(sample.service, {}).setdefault(sample.name, []).append(sample.value)
        return {
            service: {name: _summary(values) for name, values in sorted(metrics.items())}
            for service, metrics in sorted(grouped.items())
        }


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "sum": round(sum(ordered), 3),
        "samples": len(ordered),
        "p50": round(statistics.median(ordered), 3),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
        "max": round(ordered[-1], 3),
    }


def alarm_thresholds(path: Path = MONITORING_VARIABLES) -> dict[str, float]:
    """The monitoring module's default thresholds, by variable name."""
    with path.open() as source:
        blocks = hcl2.load(source)["variable"]
    return {
        name.strip('"'): float(body["default"])
        for block in blocks
        for name, body in block.items()
        if "threshold" in name and isinstance(body.get("default"), int | float)
    }


@dataclass(frozen=True)
class AlarmView:
    """One alarm of modules/monitoring as the local stack can judge it."""

    alarm: str
    figure: float | None  # None: not measured locally
    threshold: float
    note: str

    @property
    def state(self) -> str:
        if self.figure is None:
            return "not measured locally"
        return "WOULD ALARM" if self.figure > self.threshold else "OK"


class CacheNodeStats:
    """memcached's own figures for the cache alarms: evictions and CPU since the last look."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._last: tuple[float, float, float] | None = None  # (at, evictions, cpu seconds)

    def sample(self) -> dict[str, float] | None:
        host, _, port = self.endpoint.rpartition(":")
        try:
            stats = Client((host, int(port)), connect_timeout=0.5, timeout=0.5).stats()
        except (MemcacheError, OSError):
            return None
        now = time.monotonic()
        evictions = float(stats[b"evictions"])
        cpu = float(stats[b"rusage_user"]) + float(stats[b"rusage_system"])
        previous, self._last = self._last, (now, evictions, cpu)
        elapsed = now - previous[0] if previous else 0.0
        return {
            "evictions": evictions - previous[1] if previous else 0.0,
            "cpu_percent": 100 * (cpu - previous[2]) / elapsed if previous and elapsed else 0.0,
            "connections": float(stats[b"curr_connections"]),
        }


def alarm_views(
    metrics: LocalMetrics,
    thresholds: dict[str, float],
    *,
    iterator_ages_ms: dict[str, float],
    failed_records: int,
    function_errors: dict[str, float],
    server_errors: float,
    cache_nodes: Iterable[CacheNodeStats],
) -> list[AlarmView]:
    """Each alarm of modules/monitoring with its local figure (see the module docstring)."""
    sums: dict[str, float] = {}
    for sample in metrics.last_minute():
        sums[sample.name] = sums.get(sample.name, 0.0) + sample.value
    answers = sum(sums.get(name, 0.0) for name in ANSWERS)
    busy_share = 100 * sums.get("BusyAnswers", 0.0) / answers if answers else 0.0
    views = [
        *(
            AlarmView(
                f"{role}-iterator-age",
                age / 1000,
                thresholds["iterator_age_threshold_seconds"],
                "s behind: the newest record handed to the function",
            )
            for role, age in sorted(iterator_ages_ms.items())
        ),
        AlarmView(
            "failed-stream-records",
            failed_records,
            thresholds["failed_records_threshold"],
            "records discarded to the failure log",
        ),
        AlarmView(
            "stats-read-throttles",
            None,
            thresholds["stats_read_throttles_threshold"],
            "DynamoDB Local never throttles",
        ),
        AlarmView(
            "api-server-errors",
            max(server_errors - sums.get("BusyAnswers", 0.0), 0.0),
            thresholds["api_server_errors_threshold"],
            "5xx the leaderboard did not choose, last minute",
        ),
        AlarmView(
            "busy-answers",
            round(busy_share, 1),
            thresholds["busy_answers_threshold_percent"],
            "% of answers that were 503, last minute",
        ),
        *(
            AlarmView(
                f"{function}-errors",
                errors,
                thresholds["function_errors_threshold"],
                "invocations that raised",
            )
            for function, errors in sorted(function_errors.items())
        ),
    ]
    for node in cache_nodes:
        figures = node.sample()
        for alarm, key, threshold, note in (
            ("evictions", "evictions", "cache_evictions_threshold", "evicted since the last look"),
            ("cpu", "cpu_percent", "cache_cpu_threshold_percent", "% CPU since the last look"),
            ("connections", "connections", "cache_connections_threshold", "open connections"),
        ):
            views.append(
                AlarmView(
                    f"cache {node.endpoint} {alarm}",
                    None if figures is None else round(figures[key], 1),
                    thresholds[threshold],
                    note if figures is not None else "node did not answer",
                )
            )
    return views
