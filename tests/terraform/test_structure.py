"""The Terraform's invariants, read with python-hcl2 (no provider needed): what the design needs.

Beside the LocalStack apply (tests/terraform_apply), these guard what only AWS would enforce:
each test names the property it guards and reads it straight from the modules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from tatourney.config import FUNCTION_VARIABLES, ConfigError, LeaderboardConfig
from tatourney_local import tables
from tatourney_local.http_api import API_ROUTE
from tatourney_local.stack import AGGREGATE_MAPPING, CHECKER_MAPPING, INVALIDATE_MAPPING
from tests.terraform.hcl import (
    ALL_DIRS,
    MODULES,
    ROOT,
    all_tf_text,
    blocks,
    default,
    load,
    locals_of,
    module,
    outputs,
    resources,
    variables,
)
from tests.terraform.terraform_cli import needs_terraform, plan

FUNCTIONS = ("leaderboard", "aggregate", "invalidate", "checker")


# --- network ---------------------------------------------------------------------------------


def test_the_cache_admits_only_the_functions_group_on_the_cache_port() -> None:
    network = module("network")
    ingress = resources(network, "resource", "aws_vpc_security_group_ingress_rule")
    assert list(ingress) == ["cache_from_functions"]
    rule = ingress["cache_from_functions"]
    assert rule["security_group_id"] == "${aws_security_group.cache.id}"
    assert rule["referenced_security_group_id"] == "${aws_security_group.functions.id}"
    assert rule["ip_protocol"] == "tcp"
    assert default(network, rule["from_port"]) == default(network, rule["to_port"]) == 11211
    assert "cidr_ipv4" not in rule
    assert "cidr_ipv6" not in rule


def test_no_security_group_rule_anywhere_is_open_to_the_internet() -> None:
    for path, text in all_tf_text().items():
        assert "0.0.0.0/0" not in text, path
        assert '"::/0"' not in text, path
    for directory in ALL_DIRS:
        for body in resources(load(directory), "resource", "aws_security_group").values():
            # Rules live in their own resources, where the tests above can see them.
            assert "ingress" not in body
            assert "egress" not in body


def test_private_subnets_in_two_zones_reach_dynamodb_through_a_gateway_endpoint_not_a_nat() -> None:
    network = module("network")
    subnets = resources(network, "resource", "aws_subnet")["private"]
    assert subnets["count"] == "${var.create_vpc ? 2 : 0}"
    assert subnets["availability_zone"] == "${local.azs[count.index]}"
    assert "map_public_ip_on_launch" not in subnets
    endpoint = resources(network, "resource", "aws_vpc_endpoint")["dynamodb"]
    assert endpoint["vpc_endpoint_type"] == "Gateway"
    service = resources(network, "data", "aws_vpc_endpoint_service")["dynamodb"]
    assert (service["service"], service["service_type"]) == ("dynamodb", "Gateway")
    assert endpoint["service_name"] == "${data.aws_vpc_endpoint_service.dynamodb.service_name}"
    for kind in ("aws_nat_gateway", "aws_internet_gateway", "aws_eip"):
        assert not resources(network, "resource", kind)


def test_functions_egress_is_the_cache_port_and_dynamodb_https_only() -> None:
    network = module("network")
    egress = resources(network, "resource", "aws_vpc_security_group_egress_rule")
    assert {name: rule["from_port"] for name, rule in egress.items()} == {
        "functions_to_cache": "${var.cache_port}",
        "functions_to_dynamodb": 443,
    }
    assert egress["functions_to_cache"]["referenced_security_group_id"] == (
        "${aws_security_group.cache.id}"
    )
    assert egress["functions_to_dynamodb"]["prefix_list_id"] == (
        "${data.aws_ec2_managed_prefix_list.dynamodb.id}"
    )


# --- tables ----------------------------------------------------------------------------------


def _attributes(body: dict[str, Any]) -> dict[str, str]:
    return {attribute["name"]: attribute["type"] for attribute in body["attribute"]}


@pytest.mark.parametrize(
    ("resource", "request_factory"),
    [("games", tables.games_table), ("stats", tables.stats_table)],
)
def test_tables_agree_with_the_local_definitions_the_tests_create(
    resource: str, request_factory: Any
) -> None:
    table = module("table")
    body = resources(table, "resource", "aws_dynamodb_table")[resource]
    request = request_factory(f"tatourney-{resource}")
    assert body["name"] == f"${{var.name}}-{resource}"
    keys = {key["KeyType"]: key["AttributeName"] for key in request["KeySchema"]}
    assert body["hash_key"] == keys["HASH"]
    assert body.get("range_key") == keys.get("RANGE")
    assert _attributes(body) == {
        a["AttributeName"]: a["AttributeType"] for a in request["AttributeDefinitions"]
    }
    assert body["billing_mode"] == request["BillingMode"]
    assert body["stream_enabled"] is True
    assert body["stream_view_type"] == request["StreamSpecification"]["StreamViewType"]
    assert body["stream_view_type"] == "NEW_AND_OLD_IMAGES"
    if "ProvisionedThroughput" in request:
        throughput = request["ProvisionedThroughput"]
        assert default(table, body["read_capacity"]) == throughput["ReadCapacityUnits"]
        assert default(table, body["write_capacity"]) == throughput["WriteCapacityUnits"]


def test_stats_is_provisioned_at_one_read_unit_by_default_everywhere() -> None:
    assert tables.STATS_READ_CAPACITY == 1
    assert variables(module("table"))["stats_read_capacity"]["default"] == 1
    assert variables(load(ROOT))["stats_read_capacity"]["default"] == 1
    autoscaling = resources(module("table"), "resource", "aws_appautoscaling_target")
    assert not autoscaling


def test_tables_are_encrypted_recoverable_and_protected_by_default() -> None:
    table = module("table")
    for body in resources(table, "resource", "aws_dynamodb_table").values():
        assert body["server_side_encryption"][0]["enabled"] is True
        assert default(table, body["point_in_time_recovery"][0]["enabled"]) is True
        assert default(table, body["deletion_protection_enabled"]) is True


# --- cache -----------------------------------------------------------------------------------


def test_the_cache_is_memcached_on_a_current_node_type_with_its_item_limit_set() -> None:
    cache_module = module("cache")
    cluster = resources(cache_module, "resource", "aws_elasticache_cluster")["this"]
    assert cluster["engine"] == "memcached"
    node_type = default(cache_module, cluster["node_type"])
    assert re.fullmatch(r"cache\.(t4g|m7g|r7g)\.\w+", node_type), node_type
    assert default(cache_module, cluster["port"]) == 11211
    assert cluster["subnet_group_name"] == "${aws_elasticache_subnet_group.this.name}"
    assert cluster["parameter_group_name"] == "${aws_elasticache_parameter_group.this.name}"
    for setting in ("num_cache_nodes", "az_mode", "transit_encryption_enabled"):
        assert cluster[setting].startswith("${var."), setting
    group = resources(cache_module, "resource", "aws_elasticache_parameter_group")["this"]
    assert group["family"] == "memcached1.6"
    assert [p["name"] for p in group["parameter"]] == ["max_item_size"]


def test_the_functions_are_told_the_cache_item_limit_and_tls_the_cache_enforces() -> None:
    calls = {name: body for block in load(ROOT)["module"] for name, body in block.items()}
    assert calls["cache"]["max_item_size_bytes"] == "${var.cache_max_item_size_bytes}"
    assert calls["functions"]["cache_item_limit_bytes"] == "${var.cache_max_item_size_bytes}"
    assert calls["cache"]["transit_encryption_enabled"] == (
        "${var.cache_transit_encryption_enabled}"
    )
    assert calls["functions"]["cache_tls"] == "${var.cache_transit_encryption_enabled}"


# --- functions -------------------------------------------------------------------------------


def _function_environment(function: str) -> set[str]:
    functions = module("functions")
    local_values = locals_of(functions)
    definition = local_values["functions"][function]
    names = set(definition["environment"])
    if definition["uses_cache"]:
        names |= set(local_values["cache_environment"])
    return names


def _not_powertools(names: Iterable[str]) -> set[str]:
    """Powertools' own settings are checked on their own, below."""
    return {name for name in names if not name.startswith("POWERTOOLS_")}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_variable_a_handler_reads_is_set_and_nothing_else(function: str) -> None:
    assert _function_environment(function) == _not_powertools(FUNCTION_VARIABLES[function])


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_gets_powertools_service_namespace_log_level_and_tracing(
    function: str,
) -> None:
    # The metric contract: namespace from one variable, the service dimension = the function's
    # name, on every function; tracing follows the one switch.
    functions = module("functions")
    powertools = locals_of(functions)["powertools_environment"]
    assert powertools.startswith("${{for function in keys(local.functions) : function => {")
    expected = {
        "POWERTOOLS_SERVICE_NAME": '"${var.name}-${function}"',
        "POWERTOOLS_METRICS_NAMESPACE": "var.metrics_namespace",
        "POWERTOOLS_LOG_LEVEL": "var.log_level",
        "POWERTOOLS_TRACE_DISABLED": "tostring(!var.tracing_enabled)",
    }
    for name, value in expected.items():
        assert f"{name} = {value}" in powertools, name
    assert set(re.findall(r"\b(POWERTOOLS_\w+) =", powertools)) == set(expected)
    assert function in locals_of(functions)["functions"]
    assert variables(functions)["metrics_namespace"]["default"] == "Tatourney"
    root_calls = {name: body for block in load(ROOT)["module"] for name, body in block.items()}
    assert root_calls["functions"]["metrics_namespace"] == "${var.metrics_namespace}"
    assert root_calls["monitoring"]["metrics_namespace"] == "${var.metrics_namespace}"
    assert variables(load(ROOT))["metrics_namespace"]["default"] == "Tatourney"


def test_the_deployed_environment_is_built_from_those_definitions() -> None:
    lambda_function = resources(module("functions"), "resource", "aws_lambda_function")
    environment = lambda_function["functions"]["environment"][0]["variables"]
    assert "local.cache_environment" in environment
    assert "if each.value.uses_cache" in environment
    assert "each.value.environment" in environment
    assert "local.powertools_environment[each.key]" in environment
    # Nothing else sets a Powertools variable beside the one map.
    assert "POWERTOOLS_" not in environment


def test_tracing_is_one_opt_in_switch_and_x_ray_is_granted_only_with_it() -> None:
    functions = module("functions")
    assert "tracing_mode" not in variables(functions)
    assert variables(functions)["tracing_enabled"]["default"] is False
    assert variables(load(ROOT))["tracing_enabled"]["default"] is False
    root_calls = {name: body for block in load(ROOT)["module"] for name, body in block.items()}
    assert root_calls["functions"]["tracing_enabled"] == "${var.tracing_enabled}"
    body = resources(functions, "resource", "aws_lambda_function")["functions"]
    assert body["tracing_config"][0]["mode"] == '${var.tracing_enabled ? "Active" : "PassThrough"}'
    document = resources(functions, "data", "aws_iam_policy_document")["functions"]
    [tracing] = [
        entry["statement"]
        for entry in document["dynamic"]
        if entry["statement"].get("content", [{}])[0].get("sid") == "Tracing"
    ]
    assert tracing["for_each"] == "${var.tracing_enabled ? [1] : []}"


def test_functions_run_python312_from_the_manifest_on_arm64_by_default() -> None:
    functions = module("functions")
    body = resources(functions, "resource", "aws_lambda_function")["functions"]
    assert body["runtime"] == "python3.12"
    assert body["architectures"] == ["${var.architecture}"]
    assert variables(functions)["architecture"]["default"] == "arm64"
    assert "local.manifest.functions[each.key].source_code_hash" in body["source_code_hash"]
    assert body["filename"] == "${var.dist_dir}/${each.key}.zip"
    conditions = " ".join(c["condition"] for c in body["lifecycle"][0]["precondition"])
    assert "local.manifest.architecture" in conditions


def test_only_the_functions_that_use_the_cache_are_in_the_vpc() -> None:
    functions = module("functions")
    definitions = locals_of(functions)["functions"]
    assert {name: d["uses_cache"] for name, d in definitions.items()} == {
        "leaderboard": True,
        "aggregate": False,
        "invalidate": True,
        "checker": True,
    }
    body = resources(functions, "resource", "aws_lambda_function")["functions"]
    vpc = body["dynamic"][0]["vpc_config"]
    assert vpc["for_each"] == "${each.value.uses_cache && local.in_vpc ? [1] : []}"


def test_each_function_has_its_own_role_and_log_group_with_retention() -> None:
    functions = module("functions")
    assert resources(functions, "resource", "aws_iam_role")["functions"]["for_each"] == (
        "${local.deployed_functions}"
    )
    log_group = resources(functions, "resource", "aws_cloudwatch_log_group")["functions"]
    assert log_group["retention_in_days"] == "${var.log_retention_days}"
    assert variables(functions)["log_retention_days"]["default"] == 14


# The exact data grants: an action added or widened anywhere fails here.
EXPECTED_DATA_PERMISSIONS = {
    "leaderboard": {
        "dynamodb:Scan": {"${var.stats_table.arn}"},
        "dynamodb:BatchGetItem": {"${var.stats_table.arn}"},
    },
    "aggregate": {
        "dynamodb:UpdateItem": {"${var.games_table.arn}", "${var.stats_table.arn}"},
        "dynamodb:DescribeStream": {"${var.games_table.stream_arn}"},
        "dynamodb:GetRecords": {"${var.games_table.stream_arn}"},
        "dynamodb:GetShardIterator": {"${var.games_table.stream_arn}"},
        "dynamodb:ListStreams": {"${var.games_table.arn}/stream/*"},
        "sqs:SendMessage": {"${aws_sqs_queue.stream_failures.arn}"},
    },
    "invalidate": {
        "dynamodb:DescribeStream": {"${var.stats_table.stream_arn}"},
        "dynamodb:GetRecords": {"${var.stats_table.stream_arn}"},
        "dynamodb:GetShardIterator": {"${var.stats_table.stream_arn}"},
        "dynamodb:ListStreams": {"${var.stats_table.arn}/stream/*"},
        "sqs:SendMessage": {"${aws_sqs_queue.stream_failures.arn}"},
    },
    # The same as invalidate's: the stream and the queue, never the table.
    "checker": {
        "dynamodb:DescribeStream": {"${var.stats_table.stream_arn}"},
        "dynamodb:GetRecords": {"${var.stats_table.stream_arn}"},
        "dynamodb:GetShardIterator": {"${var.stats_table.stream_arn}"},
        "dynamodb:ListStreams": {"${var.stats_table.arn}/stream/*"},
        "sqs:SendMessage": {"${aws_sqs_queue.stream_failures.arn}"},
    },
}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_role_gets_exactly_its_data_permissions(function: str) -> None:
    local_values = locals_of(module("functions"))
    granted: dict[str, set[str]] = {}
    for statement in local_values["data_permissions"][function]:
        actions = statement["actions"]
        if actions == "${local.stream_read_actions}":
            actions = local_values["stream_read_actions"]
        for action in actions:
            granted.setdefault(action, set()).update(statement["resources"])
    assert granted == EXPECTED_DATA_PERMISSIONS[function]


def _key_policies(tf: dict[str, list[Any]]) -> set[str]:
    """Names of the policy documents used as a KMS key's policy."""
    return {
        match
        for key in resources(tf, "resource", "aws_kms_key").values()
        for match in re.findall(r"data\.aws_iam_policy_document\.(\w+)\.json", key["policy"])
    }


def test_no_policy_anywhere_grants_wildcard_actions_or_data_on_every_resource() -> None:
    statements: list[dict[str, Any]] = []
    key_policy_statements: list[dict[str, Any]] = []
    for directory in ALL_DIRS:
        tf = load(directory)
        key_policies = _key_policies(tf)
        for name, document in resources(tf, "data", "aws_iam_policy_document").items():
            found = blocks(document, "statement")
            (key_policy_statements if name in key_policies else statements).extend(found)
        for granted in locals_of(tf).get("data_permissions", {}).values():
            statements.extend(granted)
    assert len(statements) > 10
    assert key_policy_statements
    # A Deny may name a service's every action (sqs:*, when not over TLS); an Allow never.
    allows = [s for s in statements + key_policy_statements if s.get("effect") != "Deny"]
    for statement in allows:
        actions = statement["actions"]
        actions = [actions] if isinstance(actions, str) else actions
        for action in actions:
            assert "*" not in action, statement
    for statement in statements:
        if statement.get("resources") == ["*"] and statement.get("effect") != "Deny":
            assert all(a.startswith(("ec2:Describe", "xray:Put")) for a in statement["actions"])
    # In a key policy "*" is the key itself; what matters there is who is named.
    for statement in key_policy_statements:
        for principal in statement["principals"]:
            assert "*" not in principal["identifiers"], statement


def test_stream_mappings_report_partial_failures_bisect_and_give_up_into_a_queue() -> None:
    functions = module("functions")
    mapping = resources(functions, "resource", "aws_lambda_event_source_mapping")["streams"]
    assert mapping["for_each"] == "${local.deployed_streams}"
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["bisect_batch_on_function_error"] is True
    assert mapping["starting_position"] == "TRIM_HORIZON"
    on_failure = mapping["destination_config"][0]["on_failure"][0]
    assert on_failure["destination_arn"] == "${aws_sqs_queue.stream_failures.arn}"
    assert mapping["maximum_retry_attempts"] == "${each.value.maximum_retry_attempts}"
    streams = locals_of(functions)["streams"]
    assert set(streams) == {"aggregate", "invalidate", "checker"}
    assert 0 <= default(functions, streams["aggregate"]["maximum_retry_attempts"]) <= 100
    # An invalidation is retried as long as its record is young enough (no count limit).
    assert streams["invalidate"]["maximum_retry_attempts"] == -1
    for stream in streams.values():
        age = default(functions, stream["maximum_record_age"])
        assert 60 <= age <= 86400  # bounded: -1 would retry a poison record for the stream's life


def test_only_aggregate_is_filtered_to_inserts() -> None:
    functions = module("functions")
    mapping = resources(functions, "resource", "aws_lambda_event_source_mapping")["streams"]
    criteria = mapping["dynamic"][0]["filter_criteria"]
    assert criteria["for_each"] == "${each.value.inserts_only ? [1] : []}"
    pattern = criteria["content"][0]["filter"][0]["pattern"]
    assert pattern == '${jsonencode({eventName = ["INSERT"]})}'
    streams = locals_of(functions)["streams"]
    assert {name: s["inserts_only"] for name, s in streams.items()} == {
        "aggregate": True,
        "invalidate": False,
        "checker": False,
    }


@pytest.mark.parametrize(
    ("function", "local_mapping"),
    [
        ("aggregate", AGGREGATE_MAPPING),
        ("invalidate", INVALIDATE_MAPPING),
        ("checker", CHECKER_MAPPING),
    ],
)
def test_the_local_runner_polls_streams_as_the_deployed_mappings_do(
    function: str, local_mapping: Any
) -> None:
    functions = module("functions")
    mapping = resources(functions, "resource", "aws_lambda_event_source_mapping")["streams"]
    stream = locals_of(functions)["streams"][function]
    assert local_mapping.batch_size == default(functions, mapping["batch_size"])
    assert mapping["maximum_batching_window_in_seconds"] == "${each.value.batching_window_seconds}"
    assert local_mapping.batching_window_seconds == default(
        functions, stream["batching_window_seconds"]
    )
    assert local_mapping.bisect_on_error is mapping["bisect_batch_on_function_error"]
    assert local_mapping.maximum_retry_attempts == default(
        functions, stream["maximum_retry_attempts"]
    )
    assert local_mapping.maximum_record_age_seconds == default(
        functions, stream["maximum_record_age"]
    )
    assert local_mapping.starting_position == mapping["starting_position"]
    assert local_mapping.report_batch_item_failures
    assert (local_mapping.record_filter is not None) is stream["inserts_only"]


def test_the_failure_queue_is_encrypted_and_keeps_messages_two_weeks() -> None:
    queue = resources(module("functions"), "resource", "aws_sqs_queue")["stream_failures"]
    assert queue["sqs_managed_sse_enabled"] is True
    assert queue["message_retention_seconds"] == 14 * 86400


def test_the_api_routes_every_stats_method_to_the_function_with_cors_and_throttling() -> None:
    functions = module("functions")
    route = resources(functions, "resource", "aws_apigatewayv2_route")["stats"]
    assert route["route_key"] == "ANY /stats" == API_ROUTE  # the local HTTP API routes the same
    integration = resources(functions, "resource", "aws_apigatewayv2_integration")["leaderboard"]
    assert integration["payload_format_version"] == "2.0"
    assert integration["integration_type"] == "AWS_PROXY"
    api = resources(functions, "resource", "aws_apigatewayv2_api")["this"]
    cors = api["cors_configuration"][0]
    assert cors["allow_origins"] == "${var.cors_allow_origins}"
    assert locals_of(functions)["cors"]["allow_methods"] == ["GET"]
    url_cors = resources(functions, "resource", "aws_lambda_function_url")["leaderboard"]["cors"]
    for front_door in (cors, url_cors[0]):
        assert front_door["allow_methods"] == "${local.cors.allow_methods}"
        assert front_door["allow_headers"] == "${local.cors.allow_headers}"
        assert front_door["expose_headers"] == "${local.cors.expose_headers}"
    # Exactly the headers the site's script reads, and the one it sends that is not
    # CORS-safelisted (Accept is).
    script = (ROOT / "site" / "app.js").read_text()
    read = set(re.findall(r'headers\.get\("([^"]+)"\)', script))
    sent = set(re.findall(r'headers\["([^"]+)"\] =', script))
    assert read == {"X-Cache", "Retry-After", "ETag"}
    assert set(locals_of(functions)["cors"]["expose_headers"]) == read
    assert sent == {"If-None-Match"}
    assert set(locals_of(functions)["cors"]["allow_headers"]) == sent
    stage = resources(functions, "resource", "aws_apigatewayv2_stage")["default"]
    settings = stage["default_route_settings"][0]
    assert default(functions, settings["throttling_rate_limit"]) > 0
    assert default(functions, settings["throttling_burst_limit"]) > 0
    permission = resources(functions, "resource", "aws_lambda_permission")["api"]
    assert permission["source_arn"].endswith("/*/*/stats")
    root_calls = {name: body for block in load(ROOT)["module"] for name, body in block.items()}
    assert "module.site.cross_origin_site_url" in root_calls["functions"]["cors_allow_origins"]


# --- site ------------------------------------------------------------------------------------


def test_every_site_file_is_uploaded_with_a_known_content_type() -> None:
    site = module("site")
    content_types = locals_of(site)["content_types"]
    for path in (ROOT / "site").rglob("*"):
        if path.is_file():
            assert path.suffix.lstrip(".").lower() in content_types, path
    objects = resources(site, "resource", "aws_s3_object")
    assert objects["site_files"]["for_each"] == "${local.site_files}"
    assert "fileset(var.site_dir" in locals_of(site)["site_files"]


def test_the_generated_config_holds_the_key_the_page_reads() -> None:
    config = resources(module("site"), "resource", "aws_s3_object")["config"]
    assert config["key"] == "config.json"
    assert config["content"] == "${jsonencode({api_base_url = local.api_base_url})}"
    assert "config.api_base_url" in (ROOT / "site" / "app.js").read_text()


def test_only_the_sites_objects_are_public_and_acls_stay_blocked() -> None:
    site = module("site")
    block = resources(site, "resource", "aws_s3_bucket_public_access_block")["site"]
    assert block["block_public_acls"] is True
    assert block["ignore_public_acls"] is True
    policy = resources(site, "data", "aws_iam_policy_document")["site"]
    [statement] = policy["statement"]
    assert statement["actions"] == ["s3:GetObject"]
    assert statement["resources"] == ["${aws_s3_bucket.site.arn}/*"]
    # With CloudFront, only this distribution may read.
    condition = statement["dynamic"][0]["condition"]
    assert condition["content"][0]["variable"] == "AWS:SourceArn"


# --- every module ----------------------------------------------------------------------------


@pytest.mark.parametrize("directory", ALL_DIRS, ids=lambda d: str(d.relative_to(ROOT)) or ".")
def test_every_variable_is_typed_and_described_and_every_output_described(
    directory: Path,
) -> None:
    tf = load(directory)
    for name, body in variables(tf).items():
        assert body.get("type"), f"{directory}: variable {name} has no type"
        assert body.get("description"), f"{directory}: variable {name} has no description"
    for name, body in outputs(tf).items():
        assert body.get("description"), f"{directory}: output {name} has no description"


@pytest.mark.parametrize("name", ["", *(f"modules/{name}" for name in MODULES)], ids=str)
def test_every_module_has_its_files(name: str) -> None:
    # What the READMEs list of the inputs and outputs: tests/terraform/test_module_docs.py.
    directory = ROOT / name
    for file in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (directory / file).is_file(), f"{name}/{file}"


def test_every_module_pins_terraform_and_the_aws_provider_from_5_100_through_6x() -> None:
    for directory in ALL_DIRS:
        [settings] = load(directory)["terraform"]
        assert settings["required_version"] == ">= 1.9", directory
        aws = settings["required_providers"][0]["aws"]
        assert aws["source"] == "hashicorp/aws"
        assert aws["version"] == ">= 5.100, < 7.0", directory
        # data.aws_region's attribute is `name` in 5.x and `region` in 6.x: neither works in both.
        assert not resources(load(directory), "data", "aws_region"), directory


def test_root_outputs_what_a_user_needs_after_apply() -> None:
    assert {
        "site_url",
        "api_url",
        "games_table_name",
        "stats_table_name",
        "cache_endpoint",
    } <= set(outputs(load(ROOT)))


def test_manifest_keys_the_functions_module_reads_are_what_build_py_writes() -> None:
    manifest_text = (ROOT / "build.py").read_text()
    for key in ('"runtime"', '"architecture"', '"functions"', '"source_code_hash"', '"handler"'):
        assert key in manifest_text
    assert json.dumps("python3.12") in manifest_text or "python3.12" in manifest_text


# --- issue 13: the Terraform review's nine findings ------------------------------------------
# Each test guards one finding's fix. The ones marked needs_terraform run Terraform itself on the
# provider-free part (the variables' validation rules), where a terraform binary is installed.


def _root_calls() -> dict[str, dict[str, Any]]:
    return {name: body for block in load(ROOT)["module"] for name, body in block.items()}


def test_finding_1_the_site_is_served_over_https_from_a_private_bucket_by_default() -> None:
    assert variables(load(ROOT))["use_cloudfront"]["default"] is True
    assert variables(module("site"))["use_cloudfront"]["default"] is True
    assert _root_calls()["site"]["use_cloudfront"] == "${var.use_cloudfront}"
    # Private unless website hosting is asked for: the public policy is never the default.
    block = resources(module("site"), "resource", "aws_s3_bucket_public_access_block")["site"]
    assert (
        block["block_public_policy"]
        == block["restrict_public_buckets"]
        == ("${var.use_cloudfront}")
    )
    # The CORS origin and config.json follow whichever URL the site has.
    assert "https://" in locals_of(module("site"))["site_url"]
    assert "module.site.cross_origin_site_url" in _root_calls()["functions"]["cors_allow_origins"]
    # Only the LocalStack example (no CloudFront in LocalStack's free edition) turns it off.
    for example in ROOT.glob("examples/*"):
        calls = {name: body for block in load(example)["module"] for name, body in block.items()}
        assert calls["tatourney"].get("use_cloudfront", True) is (example.name != "localstack")


def test_finding_2_the_dynamodb_endpoint_admits_only_the_leaderboards_reads_of_stats() -> None:
    network = module("network")
    endpoint = resources(network, "resource", "aws_vpc_endpoint")["dynamodb"]
    assert endpoint["policy"] == "${data.aws_iam_policy_document.dynamodb_endpoint.json}"
    document = resources(network, "data", "aws_iam_policy_document")["dynamodb_endpoint"]
    [statement] = blocks(document, "statement")
    assert statement.get("effect", "Allow") == "Allow"
    assert set(statement["actions"]) == {"dynamodb:Scan", "dynamodb:BatchGetItem"}
    assert statement["resources"] == ["${var.stats_table_arn}"]
    [principal] = statement["principals"]
    assert principal["identifiers"] == ["${var.leaderboard_role_arn}"]
    assert _root_calls()["network"]["stats_table_arn"] == "${module.table.stats_table_arn}"
    assert _root_calls()["network"]["leaderboard_role_arn"] == (
        '${module.functions.role_arns["leaderboard"]}'
    )


def test_finding_2_the_endpoint_is_created_on_a_vpc_you_bring_only_on_request() -> None:
    network = module("network")
    endpoint = resources(network, "resource", "aws_vpc_endpoint")["dynamodb"]
    assert endpoint["count"] == "${local.create_dynamodb_endpoint ? 1 : 0}"
    assert locals_of(network)["create_dynamodb_endpoint"] == (
        "${coalesce(var.create_dynamodb_endpoint, var.create_vpc)}"
    )
    for tf in (network, load(ROOT)):
        assert variables(tf)["create_dynamodb_endpoint"]["default"] is None
    assert _root_calls()["network"]["create_dynamodb_endpoint"] == "${var.create_dynamodb_endpoint}"


def test_finding_3_traffic_to_memcached_is_encrypted_by_default() -> None:
    assert variables(load(ROOT))["cache_transit_encryption_enabled"]["default"] is True
    cache_variables = variables(module("cache"))
    assert cache_variables["transit_encryption_enabled"]["default"] is True
    # In-transit encryption needs Memcached 1.6.12 or later.
    major, minor, patch = map(int, cache_variables["engine_version"]["default"].split("."))
    assert (major, minor, patch) >= (1, 6, 12)
    # The functions connect with TLS exactly when the cache expects it (checked above too).
    assert _root_calls()["functions"]["cache_tls"] == "${var.cache_transit_encryption_enabled}"


def test_finding_4_security_groups_are_created_before_the_old_ones_are_destroyed() -> None:
    groups = {
        f"{directory.name}/{name}": body
        for directory in ALL_DIRS
        for name, body in resources(load(directory), "resource", "aws_security_group").items()
    }
    assert set(groups) == {"network/functions", "network/cache"}
    for address, body in groups.items():
        # A fixed name would clash with the replacement created first.
        assert "name" not in body, address
        assert body["name_prefix"].startswith("${var.name}-"), address
        assert body["lifecycle"][0]["create_before_destroy"] is True, address


def test_finding_5_the_powertools_layer_is_taken_from_the_partitions_publisher() -> None:
    functions = module("functions")
    local_values = locals_of(functions)
    # The publishers the Powertools docs list (docs/getting-started/install.md).
    assert local_values["powertools_layer_publishers"] == {
        "aws": {"*": "017000801446"},
        "aws-cn": {"cn-north-1": "498634801083"},
        "aws-us-gov": {"us-gov-east-1": "165087284144", "us-gov-west-1": "165093116878"},
    }
    assert (
        "local.powertools_layer_publishers, local.partition"
        in (local_values["powertools_publishers_here"])
    )
    built = local_values["powertools_layer_arn"]
    assert "arn:${local.partition}:lambda:${local.region}:${local.powertools_layer_publisher}:" in (
        built
    )
    # No account hard-coded anywhere but in the publishers' map.
    text = (ROOT / "modules" / "functions" / "main.tf").read_text()
    for account in ("017000801446", "498634801083", "165087284144", "165093116878"):
        assert text.count(account) == 1, account
    body = resources(functions, "resource", "aws_lambda_function")["functions"]
    assert body["layers"] == ["${local.powertools_layer_arn}"]
    [missing] = [
        check
        for check in body["lifecycle"][0]["precondition"]
        if check["condition"] == "${local.powertools_layer_arn != null}"
    ]
    assert "set powertools_layer_arn" in missing["error_message"]


def test_finding_6_the_item_size_is_checked_against_elasticaches_rules() -> None:
    rules = variables(module("cache"))["max_item_size_bytes"]["validation"]
    conditions = " ".join(rule["condition"] for rule in rules)
    assert "var.max_item_size_bytes % 524288 == 0" in conditions
    assert "var.max_item_size_bytes <= 134217728" in conditions
    assert '"cache.t4g.micro" = 512' in conditions
    assert "var.node_type" in conditions


CACHE_REQUIRED = {"name": "tatourney", "subnet_ids": ["subnet-1"], "security_group_ids": ["sg-1"]}


@needs_terraform
@pytest.mark.parametrize(
    ("item_size", "node_type", "accepted"),
    [
        pytest.param(1048576, "cache.t4g.micro", True, id="1MiB-default"),
        pytest.param(524288, "cache.t4g.micro", True, id="512KiB-one-slab-chunk"),
        pytest.param(1572864, "cache.t4g.micro", True, id="1.5MiB-three-chunks"),
        pytest.param(1049600, "cache.t4g.micro", False, id="1MiB+1KiB-not-a-chunk-multiple"),
        pytest.param(262144, "cache.t4g.micro", False, id="256KiB-below-the-chunk-size"),
        # (512 MiB - 100 MiB) / 4 = 103 MiB on the 0.5 GiB node types...
        pytest.param(103 << 20, "cache.t4g.micro", True, id="103MiB-on-t4g.micro"),
        pytest.param((103 << 20) + 524288, "cache.t4g.micro", False, id="103.5MiB-on-t4g.micro"),
        # ...while every larger node allows memcached's own maximum.
        pytest.param(128 << 20, "cache.t4g.small", True, id="128MiB-on-t4g.small"),
        pytest.param((128 << 20) + 524288, "cache.m7g.large", False, id="over-128MiB"),
    ],
)
def test_finding_6_terraform_accepts_exactly_the_item_sizes_elasticache_accepts(
    tmp_path: Path, item_size: int, node_type: str, accepted: bool
) -> None:
    values = {**CACHE_REQUIRED, "max_item_size_bytes": item_size, "node_type": node_type}
    result = plan(tmp_path, [ROOT / "modules" / "cache" / "variables.tf"], values)
    assert result.ok is accepted, result.output
    if not accepted:
        assert "max_item_size_bytes" in result.output


def test_finding_7_changing_the_item_size_replaces_the_cluster_with_the_parameter() -> None:
    cache_module = module("cache")
    tracker = resources(cache_module, "resource", "terraform_data")["max_item_size"]
    group = resources(cache_module, "resource", "aws_elasticache_parameter_group")["this"]
    [parameter] = group["parameter"]
    # The value the nodes are told and the value that triggers their replacement are one.
    assert tracker["input"] == "${var.max_item_size_bytes}"
    assert parameter["value"] == "${tostring(var.max_item_size_bytes)}"
    cluster = resources(cache_module, "resource", "aws_elasticache_cluster")["this"]
    assert cluster["lifecycle"][0]["replace_triggered_by"] == ["${terraform_data.max_item_size}"]


def test_finding_8_subnet_zones_are_given_or_offer_the_cache_node_type() -> None:
    network = module("network")
    local_values = locals_of(network)
    subnet = resources(network, "resource", "aws_subnet")["private"]
    assert subnet["availability_zone"] == "${local.azs[count.index]}"
    given_first = "${length(var.availability_zones) > 0 ? var.availability_zones :"
    assert local_values["azs"].startswith(given_first)
    assert "local.candidate_zones" in local_values["azs"]
    assert (
        "setintersection(data.aws_availability_zones.available.names, "
        in (local_values["candidate_zones"])
    )
    offerings = resources(network, "data", "aws_ec2_instance_type_offerings")["cache_node_type"]
    [node_type_filter] = offerings["filter"]
    assert node_type_filter["name"] == "instance-type"
    assert node_type_filter["values"] == ['${trimprefix(var.cache_node_type, "cache.")}']
    assert offerings["location_type"] == "availability-zone"
    [enough] = subnet["lifecycle"][0]["precondition"]
    assert enough["condition"] == "${length(local.azs) == 2}"
    assert "set availability_zones" in enough["error_message"]
    calls = _root_calls()
    assert calls["network"]["availability_zones"] == "${var.availability_zones}"
    assert calls["network"]["cache_node_type"] == "${var.create_cache ? var.cache_node_type : null}"


def test_finding_9_the_root_name_rule_rejects_what_the_cache_module_rejects() -> None:
    [rule] = variables(load(ROOT))["name"]["validation"]
    assert '!strcontains(var.name, "--")' in rule["condition"]


# Each module's own variables besides name, so that only the name rule can fail.
MODULE_REQUIRED: dict[str, dict[str, Any]] = {
    "network": {
        "stats_table_arn": "arn:aws:dynamodb:us-east-1:123456789012:table/t",
        "leaderboard_role_arn": "arn:aws:iam::123456789012:role/r",
    },
    "table": {},
    "cache": {key: value for key, value in CACHE_REQUIRED.items() if key != "name"},
    "functions": {
        "dist_dir": "dist",
        "games_table": {"name": "g", "arn": "a", "stream_arn": "s"},
        "stats_table": {"name": "s", "arn": "a", "stream_arn": "s"},
        "cache_endpoints": ["127.0.0.1:11211"],
        "cors_allow_origins": [],
    },
    "site": {"site_dir": "site", "api_url": "https://example.com"},
    "monitoring": {
        "function_names": {"leaderboard": "l", "aggregate": "a", "invalidate": "i"},
        "api_id": "api",
        "stats_table_name": "s",
        "failure_queue_name": "q",
    },
}
NAMES = ["tatourney", "ab", "a1-b2", "a--b", "ab-", "-ab", "Ab", "1ab", "a" * 24, "a" * 25]


@needs_terraform
def test_finding_9_every_name_the_root_accepts_every_module_accepts(tmp_path: Path) -> None:
    assert set(MODULE_REQUIRED) == set(MODULES)
    root = ROOT / "variables.tf"
    accepted_by_root = {
        name for name in NAMES if plan(tmp_path / "root" / name, [root], {"name": name}).ok
    }
    assert accepted_by_root == {"tatourney", "ab", "a1-b2", "a" * 24}
    for module_name, required in MODULE_REQUIRED.items():
        rules = ROOT / "modules" / module_name / "variables.tf"
        for name in accepted_by_root:
            result = plan(tmp_path / module_name / name, [rules], {**required, "name": name})
            assert result.ok, f"modules/{module_name} refuses {name!r}: {result.output}"


@needs_terraform
@pytest.mark.parametrize("seconds", [1, 2, 60, 61])
def test_the_functions_module_accepts_exactly_the_lease_lifetimes_the_leaderboard_accepts(
    tmp_path: Path, seconds: int
) -> None:
    rules = ROOT / "modules" / "functions" / "variables.tf"
    values = {**MODULE_REQUIRED["functions"], "name": "tatourney", "lease_ttl_seconds": seconds}
    planned = plan(tmp_path, [rules], values)
    env = {"STATS_TABLE": "stats", "CACHE_ENDPOINTS": "127.0.0.1:11211"}
    try:
        LeaderboardConfig.from_env({**env, "LEASE_TTL_SECONDS": str(seconds)})
    except ConfigError:
        accepted_by_function = False
    else:
        accepted_by_function = True
    assert planned.ok is accepted_by_function, planned.output
    assert accepted_by_function is (2 <= seconds <= 60)
