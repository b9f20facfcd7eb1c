"""examples/localstack applied to LocalStack with pytest-terraform: the resources it creates are
the deployment the end-to-end test makes with boto3 (tests/localstack). Runs where Terraform can
install the AWS provider (the GitHub Actions workflow); skipped, with the reason, elsewhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from localstack_client.session import Session
from pytest_terraform import terraform

from tatourney_local.localstack import LocalStack
from tatourney_local.services import REPO_ROOT, Memcached
from tatourney_local.stack import AGGREGATE_MAPPING, INVALIDATE_MAPPING
from tests.localstack.deployment import powertools_layer
from tests.packaging.building import run_build


@pytest.fixture(scope="session", autouse=True)
def applied_variables(
    aws_provider_installable: None,
    localstack: LocalStack,
    memcached: Memcached,
    monkeypatch_session: pytest.MonkeyPatch,
) -> None:
    """What the apply needs before pytest-terraform runs it: dist/ (`make package`), the
    Powertools layer published into LocalStack, and the example's variables."""
    built = run_build()
    assert built.returncode == 0, built.stderr
    manifest = json.loads((REPO_ROOT / "dist" / "manifest.json").read_text())
    layer = (
        localstack.session()
        .client("lambda")
        .publish_layer_version(
            LayerName="tatourney-powertools",
            Content={"ZipFile": powertools_layer(manifest["architecture"])},
            CompatibleRuntimes=[manifest["runtime"]],
        )
    )
    monkeypatch_session.setenv("TF_VAR_localstack_endpoint", localstack.endpoint_url)
    monkeypatch_session.setenv("TF_VAR_cache_endpoints", json.dumps([memcached.endpoint]))
    monkeypatch_session.setenv("TF_VAR_powertools_layer_arn", layer["LayerVersionArn"])


@pytest.fixture(scope="session")
def monkeypatch_session() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def output(example: Any, name: str) -> Any:
    return example.outputs[name]["value"]


# The fixture `example` is pytest-terraform's apply of examples/localstack (terraform-mod-dir in
# pyproject.toml), destroyed after the session.
@terraform("localstack", scope="session", name="example")
def test_the_example_creates_the_three_functions_and_their_stream_mappings(
    example: Any, localstack: LocalStack
) -> None:
    session: Session = localstack.session()
    functions = output(example, "function_names")
    lambda_ = session.client("lambda")
    settings = {"aggregate": AGGREGATE_MAPPING, "invalidate": INVALIDATE_MAPPING}
    for role, expected in settings.items():
        [mapping] = lambda_.list_event_source_mappings(FunctionName=functions[role])[
            "EventSourceMappings"
        ]
        assert mapping["BatchSize"] == expected.batch_size
        assert mapping["BisectBatchOnFunctionError"] is expected.bisect_on_error
        assert mapping["MaximumRetryAttempts"] == expected.maximum_retry_attempts
        assert mapping["MaximumRecordAgeInSeconds"] == expected.maximum_record_age_seconds
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert ("FilterCriteria" in mapping) is (role == "aggregate")


@terraform("localstack", scope="session", name="example")
def test_the_example_serves_the_leaderboard_from_a_function_url_named_in_the_site_config(
    example: Any, localstack: LocalStack
) -> None:
    session: Session = localstack.session()
    functions = output(example, "function_names")
    url = session.client("lambda").get_function_url_config(FunctionName=functions["leaderboard"])
    api_base_url = url["FunctionUrl"].rstrip("/")
    assert output(example, "stats_url") == f"{api_base_url}/stats"
    s3 = session.client("s3")
    [bucket] = [
        b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("tatourney-site-")
    ]
    config = s3.get_object(Bucket=bucket, Key="config.json")["Body"].read()
    assert json.loads(config) == {"api_base_url": api_base_url}
