"""The Terraform itself, applied for real: examples/localstack as tests/localstack/stack.py applied
it (with network and monitoring on) and the end-to-end tests drove it, then planned again (no
changes but LocalStack's own drift, below) and destroyed (nothing left); and a plan of
examples/complete, the whole AWS stack, with every endpoint at LocalStack.

The last one destroys the stack; it runs after every other test, whatever the order
(conftest.py)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from localstack_client.session import Session

from tatourney_local.localstack import LocalStack
from tatourney_local.stack import AGGREGATE_MAPPING, CHECKER_MAPPING, INVALIDATE_MAPPING
from tests.localstack.stack import TerraformStack
from tools.terraform.workspace import Terraform

ACCOUNT = "000000000000"  # LocalStack's


def test_the_example_creates_the_functions_and_their_stream_mappings(
    terraform_stack: TerraformStack, localstack_session: Session
) -> None:
    lambda_ = localstack_session.client("lambda")
    settings = {
        "aggregate": AGGREGATE_MAPPING,
        "invalidate": INVALIDATE_MAPPING,
        "checker": CHECKER_MAPPING,
    }
    for role, expected in settings.items():
        function = terraform_stack.deployment.functions[role]
        [mapping] = lambda_.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
        assert mapping["BatchSize"] == expected.batch_size
        assert mapping["BisectBatchOnFunctionError"] is expected.bisect_on_error
        assert mapping["MaximumRetryAttempts"] == expected.maximum_retry_attempts
        assert mapping["MaximumRecordAgeInSeconds"] == expected.maximum_record_age_seconds
        assert mapping["MaximumBatchingWindowInSeconds"] == expected.batching_window_seconds
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert ("FilterCriteria" in mapping) is (role == "aggregate")


def test_the_example_serves_the_leaderboard_from_a_function_url_named_in_the_site_config(
    terraform_stack: TerraformStack, localstack_session: Session
) -> None:
    deployment = terraform_stack.deployment
    url_config = localstack_session.client("lambda").get_function_url_config(
        FunctionName=deployment.functions["leaderboard"]
    )
    url = url_config["FunctionUrl"]
    # The site's origin as LocalStack serves it, which examples/localstack adds for CORS.
    assert deployment.site_url.rstrip("/") in url_config["Cors"]["AllowOrigins"]
    assert deployment.stats_url == f"{url.rstrip('/')}/stats"
    bucket = deployment.site_url.removeprefix("http://").split(".s3-website.")[0]
    assert bucket.startswith(f"{deployment.name}-site-")
    config = localstack_session.client("s3").get_object(Bucket=bucket, Key="config.json")
    # The function URL as Lambda gives it, with its "/": the site trims it (site/app.js).
    assert json.loads(config["Body"].read()) == {"api_base_url": url}


def localstack_drift(change: dict[str, Any]) -> bool:
    """Whether a planned update is only what LocalStack reports differently from AWS, after an
    apply of examples/localstack with network on (docs/deploy.md lists it):
    - a security group rule's referenced group comes back as "<account>/sg-..." and its
      description empty;
    - the DynamoDB endpoint's policy comes back without its "Version"."""
    before, after = change["change"]["before"], change["change"]["after"]
    differing = {key for key in after if before.get(key) != after[key]}
    if change["type"] in {
        "aws_vpc_security_group_egress_rule",
        "aws_vpc_security_group_ingress_rule",
    }:
        referenced = after.get("referenced_security_group_id")
        return differing <= {"description", "referenced_security_group_id"} and (
            referenced is None
            or before["referenced_security_group_id"] in {referenced, f"{ACCOUNT}/{referenced}"}
        )
    if change["type"] == "aws_vpc_endpoint":
        policy_before, policy_after = json.loads(before["policy"]), json.loads(after["policy"])
        return differing == {"policy"} and policy_before == {
            key: value for key, value in policy_after.items() if key != "Version"
        }
    return False


def rule_change(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "aws_vpc_security_group_egress_rule",
        "change": {"before": before, "after": after},
    }


def test_the_drift_accepted_is_localstacks_and_nothing_else() -> None:
    group = "sg-0a1b2c3d"
    rule = {"description": "Memcached", "referenced_security_group_id": group, "from_port": 11211}
    reported = {**rule, "description": None, "referenced_security_group_id": f"{ACCOUNT}/{group}"}
    assert localstack_drift(rule_change(reported, rule))
    assert not localstack_drift(rule_change({**reported, "from_port": 22}, rule))
    other_group = {**reported, "referenced_security_group_id": f"{ACCOUNT}/sg-other"}
    assert not localstack_drift(rule_change(other_group, rule))
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}
    after = {"policy": json.dumps(policy)}
    unversioned = {"policy": json.dumps({"Statement": policy["Statement"]})}
    denied = {"policy": json.dumps({"Statement": [{"Effect": "Deny"}]})}
    for before, accepted in ((unversioned, True), (denied, False)):
        endpoint = {"type": "aws_vpc_endpoint", "change": {"before": before, "after": after}}
        assert localstack_drift(endpoint) is accepted
    table = {"type": "aws_dynamodb_table", "change": {"before": {"a": 1}, "after": {"a": 2}}}
    assert not localstack_drift(table)


def test_a_second_plan_changes_nothing_but_localstacks_own_drift(
    terraform_stack: TerraformStack,
) -> None:
    plan = terraform_stack.plan()
    changes = [
        change
        for change in plan.get("resource_changes", [])
        if change["change"]["actions"] not in (["no-op"], ["read"])
    ]
    assert all(change["change"]["actions"] == ["update"] for change in changes), [
        (change["address"], change["change"]["actions"]) for change in changes
    ]
    unexplained = [change["address"] for change in changes if not localstack_drift(change)]
    assert unexplained == [], unexplained
    # The drift is where the tests expect it: the network is there, and LocalStack still drifts.
    assert {change["type"] for change in changes} <= {
        "aws_vpc_endpoint",
        "aws_vpc_security_group_egress_rule",
        "aws_vpc_security_group_ingress_rule",
    }


# examples/localstack's provider, every endpoint at LocalStack, over examples/complete's own.
LOCALSTACK_PROVIDER = Path("examples", "localstack", "provider.tf")
LOCALSTACK_ENDPOINT_VARIABLE = 'variable "localstack_endpoint" {\n  type = string\n}\n'


def test_examples_complete_plans_the_whole_aws_stack_against_localstack(
    terraform_found: Terraform,
    terraform_stack: TerraformStack,
    localstack: LocalStack,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A plan, not an apply: ElastiCache, API Gateway HTTP APIs and CloudFront are paid LocalStack
    features. The plan reads every data source (zones, node type offerings, the account)."""
    sources = terraform_stack.sources
    module_dir = sources / "examples" / "complete"
    added = [module_dir / "localstack_override.tf", module_dir / "localstack_endpoint.tf"]
    shutil.copy(sources / LOCALSTACK_PROVIDER, added[0])
    added[1].write_text(LOCALSTACK_ENDPOINT_VARIABLE)
    data_dir = tmp_path_factory.mktemp("complete-data")
    variables = {"localstack_endpoint": localstack.endpoint_url}
    try:
        for command in (["init", "-input=false"], ["plan", "-input=false", "-out=complete.tfplan"]):
            done = terraform_found.run(command, module_dir, data_dir, variables)
            assert done.returncode == 0, f"terraform {command[0]}:\n{done.stdout}\n{done.stderr}"
        shown = terraform_found.run(["show", "-json", "complete.tfplan"], module_dir, data_dir)
    finally:
        for path in added:
            path.unlink()
    plan = json.loads(shown.stdout)
    created = {
        change["type"]
        for change in plan["resource_changes"]
        if change["change"]["actions"] == ["create"]
    }
    assert {
        "aws_elasticache_cluster",
        "aws_apigatewayv2_api",
        "aws_cloudfront_distribution",
        "aws_vpc",
        "aws_lambda_function",
        "aws_cloudwatch_metric_alarm",
    } <= created
    assert all(
        change["change"]["actions"] in (["create"], ["read"]) for change in plan["resource_changes"]
    )
    assert_the_distribution_serves_stats_from_the_edge(plan)
    shutil.rmtree(data_dir)


def assert_the_distribution_serves_stats_from_the_edge(plan: dict[str, Any]) -> None:
    """The plan's distribution routes /stats to the API, cached per limit and offset for the
    default edge TTL, with the site's Content-Security-Policy."""
    planned = {
        change["type"]: change["change"]["after"]
        for change in plan["resource_changes"]
        if change["type"].startswith("aws_cloudfront_")
    }
    behaviours = planned["aws_cloudfront_distribution"]["ordered_cache_behavior"]
    [stats] = [b for b in behaviours if b["path_pattern"] == "/stats"]
    assert stats["target_origin_id"] == "api"
    assert stats["viewer_protocol_policy"] == "redirect-to-https"
    origins = {o["origin_id"]: o for o in planned["aws_cloudfront_distribution"]["origin"]}
    assert origins["api"]["custom_origin_config"][0]["origin_protocol_policy"] == "https-only"
    policy = planned["aws_cloudfront_cache_policy"]
    assert policy["default_ttl"] == policy["max_ttl"] == 2
    [key] = policy["parameters_in_cache_key_and_forwarded_to_origin"]
    assert key["query_strings_config"][0]["query_strings"][0]["items"] == ["limit", "offset"]
    headers = planned["aws_cloudfront_response_headers_policy"]["security_headers_config"][0]
    assert (
        "frame-ancestors 'none'"
        in (headers["content_security_policy"][0]["content_security_policy"])
    )


def leftovers(session: Session, name: str) -> dict[str, list[str]]:
    """What LocalStack still has of the stack named `name`, by kind."""
    prefix = f"{name}-"
    lambda_, ec2, iam = session.client("lambda"), session.client("ec2"), session.client("iam")
    cloudwatch, logs = session.client("cloudwatch"), session.client("logs")
    by_name: dict[str, Callable[[], list[str]]] = {
        "tables": lambda: session.client("dynamodb").list_tables()["TableNames"],
        "functions": lambda: [f["FunctionName"] for f in lambda_.list_functions()["Functions"]],
        "mappings": lambda: [
            m["FunctionArn"].rsplit(":", 1)[-1]
            for m in lambda_.list_event_source_mappings()["EventSourceMappings"]
        ],
        "queues": lambda: [
            url.rsplit("/", 1)[-1]
            for url in session.client("sqs").list_queues().get("QueueUrls", [])
        ],
        "buckets": lambda: [b["Name"] for b in session.client("s3").list_buckets()["Buckets"]],
        "roles": lambda: [r["RoleName"] for r in iam.list_roles()["Roles"]],
        "policies": lambda: [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]],
        "log groups": lambda: [
            g["logGroupName"].removeprefix("/aws/lambda/")
            for g in logs.describe_log_groups()["logGroups"]
        ],
        "alarms": lambda: [a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]],
        "dashboards": lambda: [
            d["DashboardName"] + "-" for d in cloudwatch.list_dashboards()["DashboardEntries"]
        ],
        "topics": lambda: [
            t["TopicArn"].rsplit(":", 1)[-1] for t in session.client("sns").list_topics()["Topics"]
        ],
        "key aliases": lambda: [
            a["AliasName"].removeprefix("alias/")
            for a in session.client("kms").list_aliases()["Aliases"]
        ],
        "security groups": lambda: [
            g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]
        ],
        "vpcs and endpoints": lambda: [
            tag["Value"]
            for resource in [
                *ec2.describe_vpcs()["Vpcs"],
                *ec2.describe_vpc_endpoints()["VpcEndpoints"],
            ]
            # A deleted endpoint stays listed a while, as in AWS, in state "deleted".
            if resource["State"].lower() != "deleted"
            for tag in resource.get("Tags", [])
            if tag["Key"] == "Name"
        ],
    }
    found = {kind: [n for n in names() if n.startswith(prefix)] for kind, names in by_name.items()}
    return {kind: names for kind, names in found.items() if names}


@pytest.mark.destroys_terraform_stack
def test_destroy_leaves_nothing_of_the_stack(
    terraform_stack: TerraformStack, localstack_session: Session
) -> None:
    name = terraform_stack.deployment.name
    before = leftovers(localstack_session, name)
    # What the check looks for is there to be found before the destroy.
    assert {"tables", "functions", "mappings", "queues", "buckets", "roles", "alarms"} <= set(
        before
    )
    assert {"dashboards", "topics", "security groups", "vpcs and endpoints"} <= set(before)

    terraform_stack.destroy()

    assert leftovers(localstack_session, name) == {}
    state = json.loads(terraform_stack.run("show", "-json", terraform_stack.runner.state_path))
    assert "values" not in state or not state["values"].get("root_module", {}).get("resources")
