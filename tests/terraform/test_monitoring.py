"""modules/monitoring: the alarms and the dashboard watch exactly the metrics the functions emit.

The alarms and the dashboard's graphs are data in alarms.tf and dashboard.tf, which read only
variables; Terraform evaluates those files here (where a terraform binary is installed) and the
tests check every metric, dimension and expression against the metric contract below, which the
handlers' own tests assert they emit.
"""

from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from tests.terraform.hcl import (
    ROOT,
    load,
    locals_of,
    module,
    outputs,
    resources,
    variables,
)
from tests.terraform.terraform_cli import evaluate, needs_terraform

MONITORING = ROOT / "modules" / "monitoring"
NAMESPACE = "Tatourney"
FUNCTION_NAMES = {
    role: f"demo-{role}" for role in ("leaderboard", "aggregate", "invalidate", "checker")
}

# The metric contract of issue 13: what each function emits in NAMESPACE, with one dimension,
# service = the function's name.
OWN_METRICS = {
    "leaderboard": {
        "Hits",
        "Misses",
        "StaleAnswers",
        "NotModified",
        "BusyAnswers",
        "BadRequests",
        "TableScans",
        "PlayerReads",
        "ReadUnits",
        "LeaseWaits",
        "LeaseTakeovers",
        "CacheErrors",
        "Latency",
        "BoardAge",
    },
    "invalidate": {"Invalidations", "InvalidationFailures", "IgnoredRecords"},
    "aggregate": {"GamesFolded", "DuplicatesSkipped", "GamesGone", "RejectedRecords"},
    "checker": {
        "Consistent",
        "NotYetRebuilt",
        "NotYetInvalidated",
        "Inconsistent",
        "SecondsToConsistent",
        "UncheckedChanges",
    },
}
# AWS's metrics the module may use, with the dimensions each takes.
AWS_METRICS = {
    ("AWS/Lambda", "IteratorAge"): ("FunctionName",),
    ("AWS/Lambda", "Errors"): ("FunctionName",),
    ("AWS/Lambda", "Throttles"): ("FunctionName",),
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible"): ("QueueName",),
    ("AWS/DynamoDB", "ReadThrottleEvents"): ("TableName",),
    ("AWS/DynamoDB", "ConsumedReadCapacityUnits"): ("TableName",),
    ("AWS/ApiGateway", "5xx"): ("ApiId", "Stage"),
    ("AWS/Lambda", "Url5xxCount"): ("FunctionName",),
    ("AWS/ApiGateway", "4xx"): ("ApiId", "Stage"),
    ("AWS/ApiGateway", "Count"): ("ApiId", "Stage"),
    ("AWS/Lambda", "Url4xxCount"): ("FunctionName",),
    ("AWS/Lambda", "UrlRequestCount"): ("FunctionName",),
    ("AWS/ElastiCache", "Evictions"): ("CacheClusterId", "CacheNodeId"),
    ("AWS/ElastiCache", "CPUUtilization"): ("CacheClusterId", "CacheNodeId"),
    ("AWS/ElastiCache", "CurrConnections"): ("CacheClusterId", "CacheNodeId"),
}
INPUTS: dict[str, Any] = {
    "name": "demo",
    "function_names": FUNCTION_NAMES,
    "api_id": "a1b2c3",
    "stats_table_name": "demo-stats",
    "failure_queue_name": "demo-stream-failures",
}
DIMENSION_VALUES = {
    "FunctionName": set(FUNCTION_NAMES.values()),
    "QueueName": {"demo-stream-failures"},
    "TableName": {"demo-stats"},
    "ApiId": {"a1b2c3"},
    "Stage": {"$default"},
    "CacheClusterId": {"demo"},
    "CacheNodeId": {"0001", "0002"},
}
EVALUATE = """
locals {
  region = "eu-west-1"
}

output "alarms" {
  value = local.alarms
}

output "widgets" {
  value = local.metric_widgets
}

output "graphs_top" {
  value = local.graphs_top
}
"""
QUERY_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")


def check_metric(namespace: str, name: str, dimensions: dict[str, str]) -> None:
    """A metric of the contract, or one of AWS's with its dimensions and this stack's values."""
    if namespace == NAMESPACE:
        [(dimension, service)] = dimensions.items()
        assert dimension == "service"
        [role] = [role for role, function in FUNCTION_NAMES.items() if function == service]
        assert name in OWN_METRICS[role], (name, role)
        return
    assert (namespace, name) in AWS_METRICS, (namespace, name)
    assert tuple(sorted(dimensions)) == tuple(sorted(AWS_METRICS[namespace, name]))
    for dimension, value in dimensions.items():
        assert value in DIMENSION_VALUES[dimension], (dimension, value)


def expression_ids(expression: str) -> set[str]:
    return set(re.findall(r"\b[a-z][A-Za-z0-9_]*\b", expression)) - {"FILL"}


@pytest.fixture(scope="module")
def with_cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    values = {**INPUTS, "cache_cluster_id": "demo", "cache_num_nodes": 2}
    files = [MONITORING / "variables.tf", MONITORING / "alarms.tf", MONITORING / "dashboard.tf"]
    evaluated: dict[str, Any] = evaluate(
        tmp_path_factory.mktemp("with-cache"), files, EVALUATE, values
    )
    return evaluated


@pytest.fixture(scope="module")
def without_cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    files = [MONITORING / "variables.tf", MONITORING / "alarms.tf", MONITORING / "dashboard.tf"]
    evaluated: dict[str, Any] = evaluate(
        tmp_path_factory.mktemp("without-cache"), files, EVALUATE, INPUTS
    )
    return evaluated


# --- the alarms --------------------------------------------------------------------------------


@needs_terraform
def test_the_alarms_are_the_ones_the_issue_asks_for_with_a_cache(
    with_cache: dict[str, Any],
) -> None:
    assert set(with_cache["alarms"]) == {
        "aggregate-iterator-age",
        "invalidate-iterator-age",
        "failed-stream-records",
        "stats-read-throttles",
        "api-server-errors",
        "busy-answers",
        "inconsistent-answers",
        "refused-requests",
        *(f"{role}-{kind}" for role in FUNCTION_NAMES for kind in ("errors", "throttles")),
        *(
            f"cache-{node}-{kind}"
            for node in ("0001", "0002")
            for kind in ("evictions", "cpu", "connections")
        ),
    }


@needs_terraform
def test_without_a_cache_of_its_own_no_cache_alarm_or_graph(without_cache: dict[str, Any]) -> None:
    assert not [name for name in without_cache["alarms"] if name.startswith("cache-")]
    assert len(without_cache["alarms"]) == 16
    for widget in without_cache["widgets"]:
        assert "ElastiCache" not in str(widget["properties"]["metrics"])


@needs_terraform
def test_every_alarm_watches_the_contracts_metrics_and_returns_one_series(
    with_cache: dict[str, Any],
) -> None:
    for name, alarm in with_cache["alarms"].items():
        for query_id, metric in alarm["metrics"].items():
            assert QUERY_ID.match(query_id), (name, query_id)
            check_metric(metric["namespace"], metric["name"], metric["dimensions"])
        if alarm["expression"] is None:
            assert len(alarm["metrics"]) == 1, name
        else:
            assert expression_ids(alarm["expression"]) == set(alarm["metrics"]), name


@needs_terraform
def test_behind_a_function_url_the_5xx_alarm_counts_the_urls_5xx(tmp_path: Path) -> None:
    values = {**INPUTS, "api_id": None}
    files = [MONITORING / "variables.tf", MONITORING / "alarms.tf", MONITORING / "dashboard.tf"]
    alarm = evaluate(tmp_path, files, EVALUATE, values)["alarms"]["api-server-errors"]
    errors = alarm["metrics"]["errors"]
    assert (errors["namespace"], errors["name"]) == ("AWS/Lambda", "Url5xxCount")
    assert errors["dimensions"] == {"FunctionName": FUNCTION_NAMES["leaderboard"]}


@needs_terraform
def test_alarm_thresholds_are_the_variables_defaults_in_the_metrics_units(
    with_cache: dict[str, Any],
) -> None:
    alarms = with_cache["alarms"]
    defaults: dict[str, Any] = {
        name: body.get("default") for name, body in variables(module("monitoring")).items()
    }
    # IteratorAge is in milliseconds, the variable in seconds.
    assert alarms["aggregate-iterator-age"]["threshold"] == (
        defaults["iterator_age_threshold_seconds"] * 1000
    )
    assert alarms["busy-answers"]["threshold"] == defaults["busy_answers_threshold_percent"]
    assert alarms["cache-0002-cpu"]["threshold"] == defaults["cache_cpu_threshold_percent"]
    assert alarms["failed-stream-records"]["threshold"] == defaults["failed_records_threshold"]


@needs_terraform
def test_a_null_override_from_the_root_keeps_the_modules_default(
    tmp_path: Path, with_cache: dict[str, Any]
) -> None:
    # The root passes var.alarm_thresholds.<x>, null when left out: nullable = false turns that
    # into the module's default instead of a null threshold.
    values = {**INPUTS, "cache_cluster_id": "demo", "cache_num_nodes": 2}
    values |= dict.fromkeys(THRESHOLDS.values())
    files = [MONITORING / "variables.tf", MONITORING / "alarms.tf", MONITORING / "dashboard.tf"]
    evaluated = evaluate(tmp_path, files, EVALUATE, values)
    assert evaluated["alarms"] == with_cache["alarms"]


@needs_terraform
def test_the_503_share_and_the_unchosen_5xx_are_computed_from_the_leaderboards_answers(
    with_cache: dict[str, Any],
) -> None:
    busy = with_cache["alarms"]["busy-answers"]
    answers = {"BusyAnswers", "Hits", "Misses", "StaleAnswers", "NotModified", "BadRequests"}
    assert {metric["name"] for metric in busy["metrics"].values()} == answers
    numerator, denominator = busy["expression"].split(" / ")
    assert numerator == "100 * FILL(busy, 0)"
    assert expression_ids(denominator) == set(busy["metrics"])
    errors = with_cache["alarms"]["api-server-errors"]
    assert errors["expression"] == "FILL(errors, 0) - FILL(busy, 0)"
    assert errors["metrics"]["busy"]["name"] == "BusyAnswers"
    assert errors["metrics"]["errors"]["name"] == "5xx"


@needs_terraform
def test_the_refused_share_is_the_front_doors_4xx_over_its_requests(
    with_cache: dict[str, Any], tmp_path: Path
) -> None:
    refused = with_cache["alarms"]["refused-requests"]
    assert refused["threshold"] == 5
    assert {name: m["name"] for name, m in refused["metrics"].items()} == {
        "refused": "4xx",
        "requests": "Count",
    }
    assert refused["metrics"]["refused"]["dimensions"] == {"ApiId": "a1b2c3", "Stage": "$default"}
    assert "100 * FILL(refused, 0) / FILL(requests, 0)" in refused["expression"]
    # Behind a function URL (429s from the reserved concurrency) the URL's own counts.
    files = [MONITORING / "variables.tf", MONITORING / "alarms.tf", MONITORING / "dashboard.tf"]
    url = evaluate(tmp_path, files, EVALUATE, {**INPUTS, "api_id": None})["alarms"]
    names = {name: m["name"] for name, m in url["refused-requests"]["metrics"].items()}
    assert names == {"refused": "Url4xxCount", "requests": "UrlRequestCount"}


@needs_terraform
def test_every_alarm_has_a_runbook_section(with_cache: dict[str, Any]) -> None:
    operations = (ROOT / "docs" / "operations.md").read_text()
    runbook = operations[operations.index("## Runbook") :]
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in runbook.splitlines()
        if line.startswith("### ")
    }
    for name, alarm in with_cache["alarms"].items():
        assert alarm["anchor"] in headings, (name, alarm["anchor"])


@needs_terraform
def test_one_inconsistent_answer_in_one_period_fires_the_checkers_alarm(
    with_cache: dict[str, Any],
) -> None:
    alarm = with_cache["alarms"]["inconsistent-answers"]
    assert alarm["threshold"] == 0
    assert alarm["evaluation"] == {"periods": 1, "to_alarm": 1, "period_seconds": 300}
    assert alarm["metrics"]["m"]["name"] == "Inconsistent"
    assert alarm["metrics"]["m"]["stat"] == "Sum"
    assert alarm["metrics"]["m"]["dimensions"] == {"service": FUNCTION_NAMES["checker"]}


@needs_terraform
def test_without_the_checker_no_checker_alarm_or_graph(tmp_path: Path) -> None:
    values = {**INPUTS, "function_names": {**FUNCTION_NAMES, "checker": None}}
    files = [MONITORING / "variables.tf", MONITORING / "alarms.tf", MONITORING / "dashboard.tf"]
    evaluated = evaluate(tmp_path, files, EVALUATE, values)
    assert not [name for name in evaluated["alarms"] if "checker" in name or "consist" in name]
    assert len(evaluated["alarms"]) == 13  # with refused-requests
    for widget in evaluated["widgets"]:
        assert "checker" not in str(widget["properties"]["metrics"])


@needs_terraform
def test_the_dashboard_shows_the_nines_and_the_time_to_consistent(
    with_cache: dict[str, Any],
) -> None:
    titles = [widget["properties"]["title"] for widget in with_cache["widgets"]]
    [nines] = [w for w in with_cache["widgets"] if w["properties"]["title"].startswith("Consisten")]
    [expression] = [row[0]["expression"] for row in nines["properties"]["metrics"] if len(row) == 1]
    assert expression.startswith("-LOG10(MAX([FILL(inconsistent, 0), 1]) / (")
    assert expression_ids(expression) == {"inconsistent", "consistent", "notrebuilt"}
    assert any(title.startswith("Time from a change") for title in titles)


# --- the dashboard -----------------------------------------------------------------------------


def widget_metrics(widget: dict[str, Any]) -> list[tuple[str, str, dict[str, str], dict[str, Any]]]:
    """(namespace, metric, dimensions, options) of each metric row of a widget."""
    found = []
    for row in widget["properties"]["metrics"]:
        options = row[-1] if isinstance(row[-1], dict) else {}
        fields = row[:-1] if isinstance(row[-1], dict) else row
        if fields:
            namespace, name, *pairs = fields
            dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
            found.append((namespace, name, dimensions, options))
    return found


@needs_terraform
def test_every_graph_shows_the_contracts_metrics_in_this_region(with_cache: dict[str, Any]) -> None:
    shown: dict[str, set[str]] = {role: set() for role in OWN_METRICS}
    for widget in with_cache["widgets"]:
        assert widget["type"] == "metric"
        assert widget["properties"]["region"] == "eu-west-1"
        ids = set()
        expressions = []
        for row in widget["properties"]["metrics"]:
            options = row[-1] if isinstance(row[-1], dict) else {}
            if "id" in options:
                assert QUERY_ID.match(options["id"]), options
                ids.add(options["id"])
            if "expression" in options:
                expressions.append(options["expression"])
        for expression in expressions:
            assert expression_ids(expression) <= ids, expression
        for namespace, name, dimensions, _ in widget_metrics(widget):
            check_metric(namespace, name, dimensions)
            if namespace == NAMESPACE:
                role = next(r for r, f in FUNCTION_NAMES.items() if f == dimensions["service"])
                shown[role].add(name)
    # Every metric the functions emit is on the dashboard.
    assert shown == OWN_METRICS


@needs_terraform
def test_the_dashboard_shows_hit_ratio_scans_and_freshness(with_cache: dict[str, Any]) -> None:
    titles = [widget["properties"]["title"] for widget in with_cache["widgets"]]
    for wanted in ("Hit ratio", "Table reads", "Freshness"):
        assert any(title.startswith(wanted) for title in titles), wanted
    [ratio] = [w for w in with_cache["widgets"] if w["properties"]["title"].startswith("Hit ratio")]
    expressions = [row[0]["expression"] for row in ratio["properties"]["metrics"] if len(row) == 1]
    assert "100 * FILL(hits, 0) / (FILL(hits, 0) + FILL(misses, 0) + FILL(stale, 0))" in (
        expressions
    )


@needs_terraform
def test_the_graphs_fit_the_grid_below_the_alarms_without_overlapping(
    with_cache: dict[str, Any],
) -> None:
    widgets = with_cache["widgets"]
    for widget in widgets:
        assert widget["x"] + widget["width"] <= 24
        assert widget["y"] >= with_cache["graphs_top"]

    def cells(widget: dict[str, Any]) -> set[tuple[int, int]]:
        return {
            (x, y)
            for x in range(widget["x"], widget["x"] + widget["width"])
            for y in range(widget["y"], widget["y"] + widget["height"])
        }

    for first, second in combinations(widgets, 2):
        assert not cells(first) & cells(second), (first["properties"], second["properties"])


# --- the module's resources, read without Terraform -------------------------------------------


def test_the_root_module_monitors_by_default_and_can_be_switched_off() -> None:
    root = load(ROOT)
    assert variables(root)["create_monitoring"]["default"] is True
    calls = {name: body for block in root["module"] for name, body in block.items()}
    monitoring = calls["monitoring"]
    assert monitoring["count"] == "${var.create_monitoring ? 1 : 0}"
    assert monitoring["function_names"] == "${module.functions.function_names}"
    assert (
        monitoring["cache_cluster_id"] == "${var.create_cache ? module.cache[0].cluster_id : null}"
    )
    assert monitoring["cache_num_nodes"] == "${var.create_cache ? var.cache_num_nodes : 0}"
    assert {"dashboard_name", "alarm_topic_arn"} <= set(outputs(root))


THRESHOLDS = {
    # root alarm_thresholds attribute: the monitoring module's variable
    "iterator_age_seconds": "iterator_age_threshold_seconds",
    "failed_records": "failed_records_threshold",
    "stats_read_throttles": "stats_read_throttles_threshold",
    "api_server_errors": "api_server_errors_threshold",
    "busy_answers_percent": "busy_answers_threshold_percent",
    "refused_percent": "refused_share_threshold_percent",
    "function_errors": "function_errors_threshold",
    "function_throttles": "function_throttles_threshold",
    "cache_evictions": "cache_evictions_threshold",
    "cache_cpu_percent": "cache_cpu_threshold_percent",
    "cache_connections": "cache_connections_threshold",
    "evaluation_minutes": "evaluation_minutes",
    "breaching_minutes_to_alarm": "breaching_minutes_to_alarm",
    "inconsistent_checks": "inconsistent_checks_threshold",
    "inconsistency_period_minutes": "inconsistency_period_minutes",
}


def test_every_threshold_is_a_typed_validated_variable_with_a_justified_default() -> None:
    monitoring = variables(module("monitoring"))
    text = (MONITORING / "variables.tf").read_text()
    for name in THRESHOLDS.values():
        body = monitoring[name]
        assert body["type"] == "number", name
        assert body["description"], name
        assert body["validation"], name
        assert isinstance(body["default"], int | float), name
        # The root passes null for "keep the default".
        assert body["nullable"] is False, name
    # Each threshold's default says why it is what it is, in a comment beside it.
    for name in (
        n for n in THRESHOLDS.values() if n.endswith(("threshold", "_seconds", "_percent"))
    ):
        block = text[text.index(f'variable "{name}"') :]
        block = block[: block.index("\n}\n")]
        assert "# Why " in block, name


def test_the_root_passes_every_threshold_override_to_its_variable() -> None:
    root = load(ROOT)
    overrides = variables(root)["alarm_thresholds"]["type"]
    assert set(re.findall(r"(\w+) = optional\(number\)", overrides)) == set(THRESHOLDS)
    calls = {name: body for block in root["module"] for name, body in block.items()}
    for attribute, variable in THRESHOLDS.items():
        assert calls["monitoring"][variable] == f"${{var.alarm_thresholds.{attribute}}}"


def test_the_alarms_notify_the_topic_on_alarm_and_recovery_and_quiet_is_healthy() -> None:
    alarm = resources(module("monitoring"), "resource", "aws_cloudwatch_metric_alarm")["this"]
    assert alarm["for_each"] == "${local.alarms}"
    assert alarm["alarm_actions"] == alarm["ok_actions"] == ["${local.topic_arn}"]
    assert alarm["treat_missing_data"] == "notBreaching"
    assert alarm["comparison_operator"] == "GreaterThanThreshold"
    # "M out of N" minutes unless the alarm carries its own evaluation (the checker's).
    assert alarm["evaluation_periods"] == (
        "${try(each.value.evaluation.periods, var.evaluation_minutes)}"
    )
    assert alarm["datapoints_to_alarm"] == (
        "${try(each.value.evaluation.to_alarm, var.breaching_minutes_to_alarm)}"
    )
    [query] = [q for q in alarm["dynamic"] if "metric" in q["metric_query"]["content"][0]]
    period = query["metric_query"]["content"][0]["metric"][0]["period"]
    assert period == "${try(each.value.evaluation.period_seconds, 60)}"
    assert "Runbook: docs/operations.md#${each.value.anchor}" in alarm["alarm_description"]


def test_the_topic_it_creates_is_encrypted_with_a_key_cloudwatch_may_use() -> None:
    monitoring = module("monitoring")
    topic = resources(monitoring, "resource", "aws_sns_topic")["alarms"]
    assert topic["count"] == "${local.create_topic ? 1 : 0}"
    assert topic["kms_master_key_id"] == "${aws_kms_key.alarms[0].arn}"
    key = resources(monitoring, "resource", "aws_kms_key")["alarms"]
    assert key["enable_key_rotation"] is True
    assert key["policy"] == "${data.aws_iam_policy_document.alarms_key.json}"
    document = resources(monitoring, "data", "aws_iam_policy_document")["alarms_key"]
    [cloudwatch] = [s for s in document["statement"] if s["sid"] == "CloudWatchAlarmsPublish"]
    assert cloudwatch["principals"][0]["identifiers"] == ["cloudwatch.amazonaws.com"]
    assert set(cloudwatch["actions"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert cloudwatch["condition"][0]["variable"] == "aws:SourceAccount"
    assert locals_of(monitoring)["create_topic"] == "${var.alarm_topic_arn == null}"


def test_the_dashboard_puts_the_alarms_above_the_graphs() -> None:
    dashboard = resources(module("monitoring"), "resource", "aws_cloudwatch_dashboard")["this"]
    body = dashboard["dashboard_body"]
    assert 'type = "alarm", x = 0, y = 0, width = 24, height = local.graphs_top' in body
    assert "local.alarm_arns" in body
    assert "local.metric_widgets" in body


def test_the_monitoring_files_read_no_resource_so_terraform_alone_can_evaluate_them() -> None:
    for name in ("alarms.tf", "dashboard.tf"):
        text = (MONITORING / name).read_text()
        assert not re.search(r"\b(aws_\w+|data)\.\w+\.", text), name
        assert not re.search(r"^(resource|data|module) ", text, re.MULTILINE), name
