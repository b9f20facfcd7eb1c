"""Deploy the stack into LocalStack with boto3 as examples/localstack describes it: the zips of
`make package`, Powertools as a layer, the two stream mappings with the Terraform's settings, the
leaderboard behind a function URL, and the site in an S3 bucket with website hosting."""

from __future__ import annotations

import json
import mimetypes
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localstack_client.session import Session

from build import RUNTIME_PYTHON_VERSION, WHEEL_PLATFORMS, zip_bytes
from tatourney.config import FUNCTION_VARIABLES
from tatourney_local.services import REPO_ROOT
from tatourney_local.stack import AGGREGATE_MAPPING, INVALIDATE_MAPPING
from tatourney_local.streams import MappingSettings
from tatourney_local.tables import TableNames, create_tables

NAME = "tatourney"
ROLE_ARN = "arn:aws:iam::000000000000:role/tatourney-function"  # LocalStack checks no IAM
SITE_DIR = REPO_ROOT / "site"
WAIT_SECONDS = 60.0
# modules/functions/variables.tf's defaults, which examples/localstack keeps.
TERRAFORM_DEFAULTS = {
    "CACHE_KEY_PREFIX": NAME,
    "CACHE_TIMEOUT_MS": "250",
    "CACHE_TLS": "false",
    "CACHE_TTL_SECONDS": "300",
    "STALE_TTL_SECONDS": "86400",
    "LEASE_TTL_SECONDS": "5",
    "LEASE_WAIT_MS": "1500",
    "RETRY_AFTER_SECONDS": "5",
    "CACHE_ITEM_LIMIT_BYTES": "1048576",
    "TABLE_MAX_ATTEMPTS": "3",
}
TIMEOUTS = {"leaderboard": 10, "aggregate": 60, "invalidate": 10}
# The site reads these from the API's answers (site/app.js); a browser sees only exposed headers.
# The site's script reads these and sends If-None-Match (modules/functions `local.cors`).
EXPOSED_HEADERS = ["X-Cache", "ETag", "Retry-After"]
ALLOWED_HEADERS = ["If-None-Match"]


@dataclass(frozen=True)
class Deployment:
    tables: TableNames
    functions: dict[str, str]  # role -> function name
    layer_arn: str
    mappings: dict[str, str]  # role -> event source mapping UUID
    failure_queue_url: str
    stats_url: str
    site_url: str


def powertools_layer(architecture: str) -> bytes:
    """The Powertools layer zip: requirements/powertools-layer.txt installed under python/ for
    the functions' platform, as AWS's public layer lays it out (Lambda puts /opt/python on the
    path), the way a layer is built: pip install --target."""
    requirements = REPO_ROOT / "requirements" / "powertools-layer.txt"
    with tempfile.TemporaryDirectory(prefix="powertools-layer-") as layer:
        target = Path(layer) / "python"
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
                *("--only-binary=:all:", "--platform", WHEEL_PLATFORMS[architecture]),
                *("--python-version", RUNTIME_PYTHON_VERSION, "--implementation", "cp"),
                *("--no-deps", "--require-hashes", "--requirement", str(requirements)),
                *("--target", str(target), "--no-compile"),
            ],
            check=True,
            capture_output=True,
        )
        files = {
            path.relative_to(layer).as_posix(): path.read_bytes()
            for path in target.rglob("*")
            if path.is_file()
        }
    return zip_bytes(files)


def environment(
    function: str, tables: TableNames, cache_endpoint: str, failure_queue_url: str
) -> dict[str, str]:
    """What Terraform sets on `function` (modules/functions `local.functions`)."""
    values = {
        **TERRAFORM_DEFAULTS,
        "GAMES_TABLE": tables.games,
        "STATS_TABLE": tables.stats,
        "CACHE_ENDPOINTS": cache_endpoint,
        "FAILURE_DESTINATION": failure_queue_url,
    }
    variables = {name: values[name] for name in FUNCTION_VARIABLES[function]}
    return {**variables, "POWERTOOLS_LOG_LEVEL": "INFO"}


def wait_for(what: str, check: Any, timeout: float = WAIT_SECONDS) -> Any:
    """Poll `check()` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout:.0f}s")
        time.sleep(0.2)
    return result


def mapping_arguments(settings: MappingSettings, inserts_only: bool) -> dict[str, Any]:
    """The Terraform's aws_lambda_event_source_mapping settings (tests/terraform proves the
    runner's MappingSettings equal them)."""
    arguments: dict[str, Any] = {
        "StartingPosition": settings.starting_position,
        "BatchSize": settings.batch_size,
        "MaximumBatchingWindowInSeconds": int(settings.batching_window_seconds),
        "BisectBatchOnFunctionError": settings.bisect_on_error,
        "MaximumRetryAttempts": settings.maximum_retry_attempts,
        "MaximumRecordAgeInSeconds": settings.maximum_record_age_seconds,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }
    if inserts_only:
        pattern = json.dumps({"eventName": ["INSERT"]})
        arguments["FilterCriteria"] = {"Filters": [{"Pattern": pattern}]}
    return arguments


def deploy(session: Session, dist: Path, cache_endpoint: str, endpoint_port: int) -> Deployment:
    dynamodb = session.client("dynamodb")
    lambda_ = session.client("lambda")
    sqs = session.client("sqs")
    s3 = session.client("s3")

    tables = TableNames(games=f"{NAME}-games", stats=f"{NAME}-stats")
    create_tables(dynamodb, tables)

    # The mappings' on-failure queue, where aggregate also sends the games it rejects.
    queue_url = sqs.create_queue(QueueName=f"{NAME}-stream-failures")["QueueUrl"]
    manifest = json.loads((dist / "manifest.json").read_text())
    layer = lambda_.publish_layer_version(
        LayerName=f"{NAME}-powertools",
        Content={"ZipFile": powertools_layer(manifest["architecture"])},
        CompatibleRuntimes=[manifest["runtime"]],
        CompatibleArchitectures=[manifest["architecture"]],
    )
    functions: dict[str, str] = {}
    for role, entry in manifest["functions"].items():
        name = f"{NAME}-{role}"
        lambda_.create_function(
            FunctionName=name,
            Runtime=manifest["runtime"],
            Architectures=[manifest["architecture"]],
            Role=ROLE_ARN,
            Handler=entry["handler"],
            Code={"ZipFile": (dist / entry["filename"]).read_bytes()},
            Timeout=TIMEOUTS[role],
            MemorySize=256,
            Layers=[layer["LayerVersionArn"]],
            Environment={"Variables": environment(role, tables, cache_endpoint, queue_url)},
        )
        functions[role] = name
    for name in functions.values():
        lambda_.get_waiter("function_active_v2").wait(FunctionName=name)

    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    destination = {"OnFailure": {"Destination": queue_arn["Attributes"]["QueueArn"]}}
    mappings: dict[str, str] = {}
    for role, table, settings, inserts_only in (
        ("aggregate", tables.games, AGGREGATE_MAPPING, True),
        ("invalidate", tables.stats, INVALIDATE_MAPPING, False),
    ):
        stream = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        mapping = lambda_.create_event_source_mapping(
            FunctionName=functions[role],
            EventSourceArn=stream,
            DestinationConfig=destination,
            **mapping_arguments(settings, inserts_only),
        )
        mappings[role] = mapping["UUID"]
    for role, uuid in mappings.items():
        wait_for(
            f"the {role} mapping enabled",
            lambda uuid=uuid: lambda_.get_event_source_mapping(UUID=uuid)["State"] == "Enabled",
        )

    bucket = f"{NAME}-site"
    site_origin = f"http://{bucket}.s3-website.localhost:{endpoint_port}"
    url = lambda_.create_function_url_config(
        FunctionName=functions["leaderboard"],
        AuthType="NONE",
        Cors={
            "AllowOrigins": [site_origin],
            "AllowMethods": ["GET"],
            "AllowHeaders": ALLOWED_HEADERS,
            "ExposeHeaders": EXPOSED_HEADERS,
            "MaxAge": 3600,
        },
    )
    lambda_.add_permission(
        FunctionName=functions["leaderboard"],
        StatementId="FunctionUrlAllowPublicAccess",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    api_base_url = url["FunctionUrl"].rstrip("/")

    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_website(
        Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}}
    )
    public_read = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadsObjects",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_read))
    for path in sorted(SITE_DIR.rglob("*")):
        key = path.relative_to(SITE_DIR).as_posix()
        if path.is_file() and key != "config.json":
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=content_type)
    config = json.dumps({"api_base_url": api_base_url})
    s3.put_object(Bucket=bucket, Key="config.json", Body=config, ContentType="application/json")

    return Deployment(
        tables=tables,
        functions=functions,
        layer_arn=layer["LayerVersionArn"],
        mappings=mappings,
        failure_queue_url=queue_url,
        stats_url=f"{api_base_url}/stats",
        site_url=f"{site_origin}/",
    )
