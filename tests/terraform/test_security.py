"""The security controls of the Terraform, read with python-hcl2 and, where an expression
decides, evaluated by Terraform offline: the leaderboard behind the CDN, per-client limits, the
function URL's cap, least privilege down to the condition keys, the site's headers and TLS, and
the TLS-only resource policies. Each test names what it guards."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tatourney import responses
from tatourney_local.http_api import CONTENT_SECURITY_POLICY
from tests.terraform.hcl import (
    ROOT,
    blocks,
    load,
    locals_of,
    module,
    resources,
    variables,
)
from tests.terraform.terraform_cli import evaluate, needs_terraform, plan

NETWORK_INTERFACE_ACTIONS = {
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}
STREAM_ACTIONS = {
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
}


def _root_calls() -> dict[str, dict[str, Any]]:
    return {name: body for block in load(ROOT)["module"] for name, body in block.items()}


def _distribution() -> dict[str, Any]:
    return resources(module("site"), "resource", "aws_cloudfront_distribution")["site"]


def _behaviours() -> dict[str, dict[str, Any]]:
    ordered = _distribution()["ordered_cache_behavior"]
    return {
        "default": _distribution()["default_cache_behavior"][0],
        **{behaviour["path_pattern"]: behaviour for behaviour in ordered},
    }


def _statements(tf: dict[str, list[Any]], document: str) -> dict[str, dict[str, Any]]:
    found = blocks(resources(tf, "data", "aws_iam_policy_document")[document], "statement")
    return {statement.get("sid", ""): statement for statement in found}


def _insecure_transport_denied(statement: dict[str, Any]) -> bool:
    [condition] = statement["condition"]
    return (
        statement["effect"] == "Deny"
        and statement["principals"] == [{"type": "*", "identifiers": ["*"]}]
        and (condition["test"], condition["variable"], condition["values"])
        == ("Bool", "aws:SecureTransport", ["false"])
    )


# --- 1. the leaderboard behind the CDN ----------------------------------------------------------


def test_stats_is_served_by_the_distribution_from_the_api_on_the_sites_origin() -> None:
    site = module("site")
    origins = {origin["origin_id"]: origin for origin in _distribution()["origin"]}
    assert origins["api"]["domain_name"] == "${local.api_domain}"
    assert locals_of(site)["api_domain"] == '${regex("^https?://([^/]+)", var.api_url)[0]}'
    [custom] = origins["api"]["custom_origin_config"]
    assert custom["origin_protocol_policy"] == "https-only"
    assert custom["origin_ssl_protocols"] == ["TLSv1.2"]
    stats = _behaviours()["/stats"]
    assert stats["target_origin_id"] == "api"
    assert stats["allowed_methods"] == stats["cached_methods"] == ["GET", "HEAD"]
    # The page reads /stats from its own origin behind CloudFront (no CORS there).
    assert locals_of(site)["api_base_url"] == "${var.use_cloudfront ? local.site_url : var.api_url}"
    config = resources(site, "resource", "aws_s3_object")["config"]
    assert "local.api_base_url" in config["content"]


def test_the_stats_cache_is_keyed_on_limit_and_offset_only_for_the_edge_ttl() -> None:
    site = module("site")
    policy = resources(site, "resource", "aws_cloudfront_cache_policy")["stats"]
    assert policy["min_ttl"] == 0
    assert policy["default_ttl"] == policy["max_ttl"] == "${var.stats_edge_ttl_seconds}"
    [key] = policy["parameters_in_cache_key_and_forwarded_to_origin"]
    [query] = key["query_strings_config"]
    assert query["query_string_behavior"] == "whitelist"
    assert locals_of(site)["stats_query_parameters"] == list(responses.PARAMETERS)
    assert query["query_strings"][0]["items"] == "${local.stats_query_parameters}"
    assert key["headers_config"] == [{"header_behavior": "none"}]
    assert key["cookies_config"] == [{"cookie_behavior": "none"}]
    # Only the key's parameters reach the API: a request with another parameter cannot store the
    # handler's 400 under a page's key.
    request = resources(site, "resource", "aws_cloudfront_origin_request_policy")["stats"]
    assert request["query_strings_config"][0]["query_strings"][0]["items"] == (
        "${local.stats_query_parameters}"
    )
    assert request["headers_config"] == [{"header_behavior": "none"}]
    assert request["cookies_config"] == [{"cookie_behavior": "none"}]
    stats = _behaviours()["/stats"]
    assert (
        stats["origin_request_policy_id"] == "${aws_cloudfront_origin_request_policy.stats[0].id}"
    )
    # 0 turns caching off: AWS's managed CachingDisabled policy instead.
    assert stats["cache_policy_id"] == (
        "${var.stats_edge_ttl_seconds > 0 ? aws_cloudfront_cache_policy.stats[0].id"
        " : local.caching_disabled_policy_id}"
    )
    assert policy["count"] == "${var.use_cloudfront && var.stats_edge_ttl_seconds > 0 ? 1 : 0}"
    assert locals_of(site)["caching_disabled_policy_id"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def test_the_edge_ttl_defaults_to_two_seconds_and_never_exceeds_the_handlers_s_maxage() -> None:
    assert variables(load(ROOT))["stats_edge_ttl_seconds"]["default"] == 2
    assert variables(module("site"))["stats_edge_ttl_seconds"]["default"] == 2
    assert _root_calls()["site"]["stats_edge_ttl_seconds"] == "${var.stats_edge_ttl_seconds}"
    [rule] = variables(module("site"))["stats_edge_ttl_seconds"]["validation"]
    bound = re.search(r"var\.stats_edge_ttl_seconds <= (\d+)", rule["condition"])
    assert bound is not None
    assert int(bound.group(1)) == responses.SHARED_CACHE_SECONDS
    assert f"s-maxage={responses.SHARED_CACHE_SECONDS}" in responses.BOARD_CACHE_CONTROL


@needs_terraform
@pytest.mark.parametrize(("ttl", "accepted"), [(0, True), (2, True), (5, True), (6, False)])
def test_terraform_refuses_an_edge_ttl_longer_than_the_handler_allows(
    tmp_path: Path, ttl: int, accepted: bool
) -> None:
    values = {"name": "demo", "site_dir": "site", "api_url": "https://a.example/"}
    result = plan(
        tmp_path,
        [ROOT / "modules" / "site" / "variables.tf"],
        values | {"stats_edge_ttl_seconds": ttl},
    )
    assert result.ok is accepted, result.output
    if not accepted:
        assert "s-maxage=5" in result.output


# --- 2. per-client limits ------------------------------------------------------------------------


def test_the_waf_rate_rule_is_optional_blocks_per_ip_and_states_its_cost() -> None:
    site = module("site")
    for tf in (site, load(ROOT)):
        variable = variables(tf)["waf_rate_limit_per_5_minutes"]
        assert variable["default"] is None
        assert "USD" in variable["description"]
    acl = resources(site, "resource", "aws_wafv2_web_acl")["site"]
    assert (
        acl["count"] == "${var.use_cloudfront && var.waf_rate_limit_per_5_minutes != null ? 1 : 0}"
    )
    assert acl["scope"] == "CLOUDFRONT"
    assert acl["default_action"] == [{"allow": [{}]}]
    [rule] = acl["rule"]
    assert rule["action"] == [{"block": [{}]}]
    [rate] = rule["statement"][0]["rate_based_statement"]
    assert rate["limit"] == "${var.waf_rate_limit_per_5_minutes}"
    assert rate["aggregate_key_type"] == "IP"
    assert _distribution()["web_acl_id"] == "${one(aws_wafv2_web_acl.site[*].arn)}"
    assert (
        _root_calls()["site"]["waf_rate_limit_per_5_minutes"]
        == "${var.waf_rate_limit_per_5_minutes}"
    )


# --- 3. the function URL only with a cap ----------------------------------------------------------

FUNCTIONS_REQUIRED = {
    "name": "demo",
    "dist_dir": "dist",
    "games_table": {"name": "g", "arn": "a", "stream_arn": "s"},
    "stats_table": {"name": "s", "arn": "a", "stream_arn": "s"},
    "cache_endpoints": ["127.0.0.1:11211"],
    "cors_allow_origins": [],
}


@needs_terraform
@pytest.mark.parametrize(
    ("settings", "accepted"),
    [
        ({"leaderboard_endpoint": "http_api"}, True),
        ({"leaderboard_endpoint": "function_url"}, False),
        ({"leaderboard_endpoint": "function_url", "leaderboard_reserved_concurrency": 20}, True),
        ({"leaderboard_endpoint": "function_url", "on_localstack": True}, True),
    ],
    ids=["http-api", "url-uncapped", "url-capped", "url-on-localstack"],
)
def test_a_function_url_is_refused_without_reserved_concurrency_outside_localstack(
    tmp_path: Path, settings: dict[str, Any], accepted: bool
) -> None:
    files = [ROOT / "modules" / "functions" / "variables.tf"]
    result = plan(tmp_path, files, FUNCTIONS_REQUIRED | settings)
    assert result.ok is accepted, result.output
    if not accepted:
        assert "needs leaderboard_reserved_concurrency" in result.output
        assert "starving aggregate and invalidate" in result.output


def test_the_reserved_concurrency_caps_the_leaderboard_only_and_localstack_is_the_exception() -> (
    None
):
    function = resources(module("functions"), "resource", "aws_lambda_function")["functions"]
    assert function["reserved_concurrent_executions"] == (
        '${each.key == "leaderboard" && var.leaderboard_reserved_concurrency != null'
        " ? var.leaderboard_reserved_concurrency : -1}"
    )
    calls = _root_calls()["functions"]
    assert calls["leaderboard_reserved_concurrency"] == "${var.leaderboard_reserved_concurrency}"
    assert calls["on_localstack"] == "${var.on_localstack}"
    assert variables(load(ROOT))["on_localstack"]["default"] is False
    for example in ROOT.glob("examples/*"):
        settings = {n: b for block in load(example)["module"] for n, b in block.items()}
        assert settings["tatourney"].get("on_localstack", False) is (example.name == "localstack")


# --- 4. least privilege down to the condition keys ------------------------------------------------


def _functions_text() -> str:
    return (ROOT / "modules" / "functions" / "main.tf").read_text()


def _local_expression(name: str) -> str:
    """The source of a map-valued local of modules/functions/main.tf (`  name = {...}`)."""
    text = _functions_text()
    start = text.index(f"\n  {name} = {{")
    return text[start : text.index("\n  }\n", start) + 4]


@pytest.fixture(scope="module")
def service_only_actions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """local.service_only_actions, evaluated by Terraform from the module's own expression, for a
    stack in a VPC and one outside any."""
    functions = locals_of(module("functions"))
    uses_cache = {name: body["uses_cache"] for name, body in functions["functions"].items()}
    streams = ", ".join(f"{name} = {{}}" for name in functions["streams"])
    caches = ", ".join(f"{k} = {{ uses_cache = {str(v).lower()} }}" for k, v in uses_cache.items())
    evaluated: dict[str, Any] = {}
    for in_vpc in (True, False):
        extra = f"""
locals {{
  functions = {{ {caches} }}
  streams = {{ {streams} }}
  in_vpc = {str(in_vpc).lower()}
  stream_read_actions = {_functions_text().split("stream_read_actions = ")[1].split(chr(10))[0]}
  network_interface_actions = {sorted(NETWORK_INTERFACE_ACTIONS)!r}
{_local_expression("service_only_actions")}
}}
output "actions" {{
  value = local.service_only_actions
}}
""".replace("'", '"')
        directory = tmp_path_factory.mktemp(f"service-only-{in_vpc}")
        evaluated[str(in_vpc)] = evaluate(directory, [], extra, {})["actions"]
    return evaluated


@needs_terraform
def test_the_grants_meant_for_lambda_itself_are_exactly_those_the_code_never_uses(
    service_only_actions: dict[str, Any],
) -> None:
    in_vpc = {name: set(actions) for name, actions in service_only_actions["True"].items()}
    assert in_vpc == {
        "leaderboard": NETWORK_INTERFACE_ACTIONS,
        # aggregate sends its rejected records itself: its SendMessage is the code's.
        "aggregate": STREAM_ACTIONS,
        "invalidate": NETWORK_INTERFACE_ACTIONS | STREAM_ACTIONS | {"sqs:SendMessage"},
        "checker": NETWORK_INTERFACE_ACTIONS | STREAM_ACTIONS | {"sqs:SendMessage"},
    }
    outside = {name: set(actions) for name, actions in service_only_actions["False"].items()}
    assert outside == {
        "leaderboard": set(),
        "aggregate": STREAM_ACTIONS,
        "invalidate": STREAM_ACTIONS | {"sqs:SendMessage"},
        "checker": STREAM_ACTIONS | {"sqs:SendMessage"},
    }


def test_the_function_code_is_denied_what_only_lambda_does_with_its_role() -> None:
    statement = _statements(module("functions"), "functions")[
        "OnlyLambdaItselfMayUseTheServiceGrants"
    ]
    assert statement["effect"] == "Deny"
    assert statement["actions"] == "${local.service_only_actions[each.key]}"
    [condition] = statement["condition"]
    assert (condition["test"], condition["variable"]) == ("ArnEquals", "lambda:SourceFunctionArn")
    # The function's own ARN, built from its name (the function's resource depends on the policy).
    assert condition["values"] == [
        "arn:${local.partition}:lambda:${local.region}:${local.account_id}"
        ":function:${var.name}-${each.key}"
    ]
    function = resources(module("functions"), "resource", "aws_lambda_function")["functions"]
    assert function["function_name"] == "${var.name}-${each.key}"


def test_network_interface_grants_are_limited_to_the_functions_vpc() -> None:
    statement = _statements(module("functions"), "functions")["ManageNetworkInterfaces"]
    assert statement["actions"] == "${local.network_interface_actions}"
    [condition] = statement["condition"]
    assert (condition["test"], condition["variable"]) == ("ArnEquals", "ec2:Vpc")
    assert condition["values"] == [
        "arn:${local.partition}:ec2:${local.region}:${local.account_id}:vpc/${var.vpc_id}"
    ]
    assert _root_calls()["functions"]["vpc_id"] == (
        "${var.create_network ? module.network[0].vpc_id : null}"
    )


def test_the_table_key_is_usable_only_through_dynamodb_for_the_functions_own_tables() -> None:
    functions = module("functions")
    statements = _statements(functions, "functions")
    use = statements["UseTableKey"]
    conditions = {c["variable"]: c for c in use["condition"]}
    assert conditions["kms:ViaService"]["values"] == ["dynamodb.${local.region}.amazonaws.com"]
    context = conditions["kms:EncryptionContext:aws:dynamodb:tableName"]
    assert context["test"] == "StringEquals"
    assert context["values"] == "${local.table_key_users[each.key].tables}"
    users = locals_of(functions)["table_key_users"]
    # Every function's policy looks itself up here when the tables have a key of their own.
    assert set(users) == set(locals_of(functions)["functions"])
    assert (
        users["leaderboard"]["tables"]
        == users["invalidate"]["tables"]
        == users["checker"]["tables"]
        == ["${var.stats_table.name}"]
    )
    assert users["aggregate"]["tables"] == ["${var.games_table.name}", "${var.stats_table.name}"]
    # Only aggregate writes: it alone may encrypt.
    for reader in ("leaderboard", "invalidate", "checker"):
        assert users[reader]["actions"] == ["kms:Decrypt"]
    describe = statements["DescribeTableKey"]
    assert describe["actions"] == ["kms:DescribeKey"]
    assert describe["condition"][0]["variable"] == "kms:ViaService"


def test_aggregate_may_update_only_the_attributes_its_transaction_names() -> None:
    functions = module("functions")
    [fold] = [
        s
        for s in locals_of(functions)["data_permissions"]["aggregate"]
        if s["sid"] == "FoldGameIntoStats"
    ]
    [condition] = fold["conditions"]
    assert (condition["test"], condition["variable"]) == (
        "ForAllValues:StringEquals",
        "dynamodb:Attributes",
    )
    assert condition["values"] == "${local.aggregate_written_attributes}"
    # Every attribute the transaction's keys and update expressions name, and no other.
    source = (ROOT / "src" / "tatourney" / "aggregation.py").read_text()
    transaction = source[source.index("transact_write_items(") : source.index("except ClientError")]
    named = set(re.findall(r'"(\w+)": \{"[SN]"', transaction))  # the keys' attributes
    for expression in re.findall(r'"UpdateExpression": ((?:"[^"]*"\s*)+)', transaction):
        text = "".join(re.findall(r'"([^"]*)"', expression))
        named |= set(re.findall(r"(?:SET|ADD|,)\s+(\w+)", text))
    assert set(locals_of(functions)["aggregate_written_attributes"]) == named


def test_roles_take_a_path_a_boundary_and_a_name_unique_per_region() -> None:
    functions = module("functions")
    role = resources(functions, "resource", "aws_iam_role")["functions"]
    assert role["name"] == "${local.role_names[each.key]}"
    assert locals_of(functions)["role_names"] == (
        "${{for function in keys(local.functions) : function => "
        '"${var.name}-${function}-${local.region}"}}'
    )
    assert role["path"] == "${var.iam_role_path}"
    assert role["permissions_boundary"] == "${var.permissions_boundary_arn}"
    [check] = role["lifecycle"][0]["precondition"]
    assert "<= 64" in check["condition"]
    calls = _root_calls()["functions"]
    assert calls["iam_role_path"] == "${var.iam_role_path}"
    assert calls["permissions_boundary_arn"] == "${var.permissions_boundary_arn}"


@needs_terraform
@pytest.mark.parametrize(
    ("settings", "accepted"),
    [
        ({"iam_role_path": "/tatourney/"}, True),
        ({"iam_role_path": "tatourney"}, False),
        ({"permissions_boundary_arn": "arn:aws:iam::123456789012:policy/boundary"}, True),
        ({"permissions_boundary_arn": "boundary"}, False),
    ],
)
def test_terraform_checks_the_role_path_and_boundary(
    tmp_path: Path, settings: dict[str, Any], accepted: bool
) -> None:
    files = [ROOT / "modules" / "functions" / "variables.tf"]
    result = plan(tmp_path, files, FUNCTIONS_REQUIRED | settings)
    assert result.ok is accepted, result.output


def test_the_failure_queue_admits_the_mapping_roles_over_tls_only() -> None:
    functions = module("functions")
    statements = _statements(functions, "stream_failures")
    send = statements["MappingsSendFailures"]
    assert send["actions"] == ["sqs:SendMessage"]
    assert send["principals"][0]["identifiers"] == (
        "${[for function in keys(local.streams) : aws_iam_role.functions[function].arn]}"
    )
    assert set(locals_of(functions)["streams"]) == {"aggregate", "invalidate", "checker"}
    assert _insecure_transport_denied(statements["DenyInsecureTransport"])
    policy = resources(functions, "resource", "aws_sqs_queue_policy")["stream_failures"]
    assert policy["policy"] == "${data.aws_iam_policy_document.stream_failures.json}"


def test_the_bucket_and_the_topic_refuse_requests_without_tls() -> None:
    site_statements = _statements(module("site"), "site")
    assert _insecure_transport_denied(site_statements["DenyInsecureTransport"])
    assert site_statements["DenyInsecureTransport"]["resources"] == [
        "${aws_s3_bucket.site.arn}",
        "${aws_s3_bucket.site.arn}/*",
    ]
    monitoring = module("monitoring")
    topic_statements = _statements(monitoring, "alarms_topic")
    assert _insecure_transport_denied(topic_statements["DenyInsecureTransport"])
    publish = topic_statements["CloudWatchAlarmsPublish"]
    assert publish["principals"][0]["identifiers"] == ["cloudwatch.amazonaws.com"]
    topic_policy = resources(monitoring, "resource", "aws_sns_topic_policy")["alarms"]
    assert topic_policy["policy"] == "${data.aws_iam_policy_document.alarms_topic[0].json}"


# --- 5. the site's headers and TLS ----------------------------------------------------------------


def test_every_behaviour_sends_the_content_security_policy() -> None:
    # The policy the local server sends (make up; the browser tests run under it).
    site = module("site")
    assert locals_of(site)["content_security_policy"] == CONTENT_SECURITY_POLICY
    policy = resources(site, "resource", "aws_cloudfront_response_headers_policy")["site"]
    [headers] = policy["security_headers_config"]
    [csp] = headers["content_security_policy"]
    assert csp == {"content_security_policy": "${local.content_security_policy}", "override": True}
    assert headers["frame_options"][0]["frame_option"] == "DENY"
    assert headers["strict_transport_security"][0]["access_control_max_age_sec"] >= 31536000
    for path, behaviour in _behaviours().items():
        assert behaviour["response_headers_policy_id"] == (
            "${aws_cloudfront_response_headers_policy.site[0].id}"
        ), path


def test_the_csp_lets_the_page_run_from_its_own_files_only() -> None:
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    page = (ROOT / "site" / "index.html").read_text()
    # No inline script or style the policy would block: scripts and styles are files.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert "<style" not in page
    assert " style=" not in page


def test_your_certificate_is_served_with_tls_1_2_2021_and_comes_with_its_names() -> None:
    [certificate] = _distribution()["viewer_certificate"]
    assert certificate["acm_certificate_arn"] == "${var.acm_certificate_arn}"
    assert certificate["minimum_protocol_version"] == (
        '${local.custom_certificate ? "TLSv1.2_2021" : "TLSv1"}'
    )
    assert certificate["ssl_support_method"] == '${local.custom_certificate ? "sni-only" : null}'
    assert _distribution()["aliases"] == "${var.domain_names}"
    calls = _root_calls()["site"]
    assert calls["domain_names"] == "${var.site_domain_names}"
    assert calls["acm_certificate_arn"] == "${var.site_acm_certificate_arn}"


@needs_terraform
@pytest.mark.parametrize(
    ("settings", "accepted"),
    [
        ({}, True),
        (
            {
                "domain_names": ["leaderboard.example.com"],
                "acm_certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/abc-123",
            },
            True,
        ),
        ({"domain_names": ["leaderboard.example.com"]}, False),
        (
            {
                "domain_names": ["leaderboard.example.com"],
                "acm_certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123",
            },
            False,
        ),
    ],
    ids=["default-certificate", "own-certificate", "names-without-certificate", "not-us-east-1"],
)
def test_terraform_checks_the_certificate_and_its_names(
    tmp_path: Path, settings: dict[str, Any], accepted: bool
) -> None:
    values = {"name": "demo", "site_dir": "site", "api_url": "https://a.example/"} | settings
    result = plan(tmp_path, [ROOT / "modules" / "site" / "variables.tf"], values)
    assert result.ok is accepted, result.output
