"""The local metrics view's parts, directly: the tap on the functions' output, the windows, the
thresholds read from modules/monitoring."""

from __future__ import annotations

import io
import json
import threading
from typing import Any

from tatourney_local.metrics import (
    EmfTap,
    LocalMetrics,
    RecentEvents,
    alarm_thresholds,
    alarm_views,
)


def emf(service: str, **metrics: float) -> str:
    return json.dumps(
        {
            "_aws": {
                "Timestamp": 1,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "Tatourney",
                        "Dimensions": [["service"]],
                        "Metrics": [{"Name": name, "Unit": "Count"} for name in metrics],
                    }
                ],
            },
            "service": service,
            **{name: [value] for name, value in metrics.items()},
        }
    )


def test_metric_lines_are_taken_out_and_the_rest_passes_through() -> None:
    out = io.StringIO()
    documents: list[dict[str, Any]] = []
    tap = EmfTap(out, documents.append)
    tap.write('{"level":"INFO","message":"stats served"}\n')
    line = emf("tatourney-leaderboard", Hits=1)
    tap.write(line[:10])  # print() writes in pieces; a line is whole only at its newline
    tap.write(line[10:])
    tap.write("\n")
    assert out.getvalue() == '{"level":"INFO","message":"stats served"}\n'
    assert [document["service"] for document in documents] == ["tatourney-leaderboard"]


def test_lines_are_assembled_per_thread() -> None:
    out = io.StringIO()
    documents: list[dict[str, Any]] = []
    tap = EmfTap(out, documents.append)
    first_half = threading.Event()
    line = emf("a", Hits=1)

    def other_thread() -> None:
        first_half.wait(timeout=10)
        tap.write("a whole log line\n")

    thread = threading.Thread(target=other_thread)
    thread.start()
    tap.write(line[:20])
    first_half.set()
    thread.join(timeout=10)
    tap.write(line[20:] + "\n")
    assert out.getvalue() == "a whole log line\n"
    assert len(documents) == 1


def test_figures_are_over_the_last_minute() -> None:
    now = [1000.0]
    metrics = LocalMetrics(clock=lambda: now[0])
    events = RecentEvents(clock=lambda: now[0])
    metrics.record(json.loads(emf("s", Hits=1, BusyAnswers=1)))
    events.add(5)
    now[0] += 61
    metrics.record(json.loads(emf("s", Hits=1)))
    events.add(2)
    assert metrics.by_service()["s"]["Hits"]["sum"] == 1
    assert "BusyAnswers" not in metrics.by_service()["s"]
    assert (events.sum(), events.maximum()) == (2, 2)


def test_the_thresholds_are_the_monitoring_modules_defaults() -> None:
    thresholds = alarm_thresholds()
    assert thresholds["busy_answers_threshold_percent"] == 5
    assert thresholds["iterator_age_threshold_seconds"] == 60
    metrics = LocalMetrics()
    metrics.record(json.loads(emf("tatourney-leaderboard", Hits=9, BusyAnswers=1)))
    views = {
        view.alarm: view
        for view in alarm_views(
            metrics,
            thresholds,
            iterator_ages_ms={"invalidate": 61_000},
            failed_records=0,
            function_errors={},
            server_errors=1,
            cache_nodes=[],
        )
    }
    assert (views["busy-answers"].figure, views["busy-answers"].state) == (10.0, "WOULD ALARM")
    assert views["invalidate-iterator-age"].state == "WOULD ALARM"
    assert views["api-server-errors"].figure == 0, "the function's own 503 is not counted"
    assert views["failed-stream-records"].state == "OK"
