"""The local metrics view's parts, directly: the tap on the functions' output, the windows, the
thresholds read from modules/monitoring."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

import pytest

from tatourney_local.metrics import (
    METRIC_LINES,
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


def test_an_invocations_metric_lines_are_taken_out_and_the_rest_passes_through(
    capsys: pytest.CaptureFixture[str],
) -> None:
    documents: list[dict[str, Any]] = []
    line = emf("tatourney-leaderboard", Hits=1)
    with METRIC_LINES.captured_by(documents.append):
        print('{"level":"INFO","message":"stats served"}')
        sys.stdout.write(line[:10])  # print() writes in pieces: a line is whole at its newline
        print(line[10:])
    print(line)  # outside an invocation: passed on
    assert capsys.readouterr().out == '{"level":"INFO","message":"stats served"}\n' + line + "\n"
    assert [document["service"] for document in documents] == ["tatourney-leaderboard"]


def test_lines_are_told_apart_by_thread(capsys: pytest.CaptureFixture[str]) -> None:
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    half_written = threading.Event()
    line = emf("a", Hits=1)

    def other_invocation() -> None:
        half_written.wait(timeout=10)
        with METRIC_LINES.captured_by(theirs.append):
            print(emf("b", Hits=1))
            print("a whole log line")

    thread = threading.Thread(target=other_invocation)
    with METRIC_LINES.captured_by(ours.append):
        sys.stdout.write(line[:20])
        thread.start()
        half_written.set()
        thread.join(timeout=10)
        print(line[20:])
    assert capsys.readouterr().out == "a whole log line\n"
    assert [d["service"] for d in ours] == ["a"]
    assert [d["service"] for d in theirs] == ["b"]


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


def test_the_chart_history_sums_each_metric_per_bucket_oldest_first() -> None:
    now = [1000.0]
    metrics = LocalMetrics(clock=lambda: now[0])
    metrics.record(json.loads(emf("tatourney-leaderboard", Hits=1, Misses=1)))
    now[0] += 25  # two buckets of 10 s later
    metrics.record(json.loads(emf("tatourney-leaderboard", Hits=1)))
    metrics.record(json.loads(emf("tatourney-leaderboard", Hits=1)))
    metrics.record(json.loads(emf("tatourney-aggregate", Hits=5)))  # another function's
    now[0] += 1
    history = metrics.history("tatourney-leaderboard", ("Hits", "Misses"), 10.0, 4)
    assert history == {"Hits": [0.0, 1.0, 0.0, 2.0], "Misses": [0.0, 1.0, 0.0, 0.0]}
    now[0] += 40  # the first answers are now older than the 4 buckets shown
    assert metrics.history("tatourney-leaderboard", ("Misses",), 10.0, 4) == {
        "Misses": [0.0, 0.0, 0.0, 0.0]
    }


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
