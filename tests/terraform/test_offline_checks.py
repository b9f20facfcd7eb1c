"""The offline Terraform checks catch what they claim to: each breaks one thing in a copy of a small
valid module (fixtures/good) and runs the real checker on it, as `make tf-check` does."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tools.terraform.check import check, load_schema

ROOT = Path(__file__).resolve().parents[2]
GOOD = Path(__file__).resolve().parent / "fixtures" / "good"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


@pytest.fixture(scope="module")
def schema() -> dict[str, object]:
    return load_schema()


@pytest.fixture
def module_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "module"
    shutil.copytree(GOOD, copy)
    return copy


def broken(directory: Path, file: str, old: str, new: str) -> Path:
    path = directory / file
    text = path.read_text()
    assert old in text, f"fixture {file} lacks {old!r}"
    path.write_text(text.replace(old, new, 1))
    return directory


def test_the_schema_says_where_it_came_from(schema: dict[str, object]) -> None:
    provenance = schema["provenance"]
    assert isinstance(provenance, dict)
    assert provenance["package"].startswith("cdktn-provider-aws==")
    assert provenance["provider"].startswith("hashicorp/aws 6.")
    assert provenance["resources"] > 1000


def test_the_good_fixture_and_the_project_pass(schema: dict[str, object]) -> None:
    assert check([GOOD, GOOD / "child"], schema) == []
    project = [ROOT, *sorted(ROOT.glob("modules/*")), *sorted(ROOT.glob("examples/*"))]
    assert check(project, schema) == []


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        pytest.param(
            "main.tf",
            'resource "aws_sqs_queue" "jobs"',
            'resource "aws_sqs_queues" "jobs"',
            "unknown resource type 'aws_sqs_queues'",
            id="unknown-resource-type",
        ),
        pytest.param(
            "main.tf",
            'data "aws_iam_policy_document" "send"',
            'data "aws_iam_policy_documents" "send"',
            "unknown data source 'aws_iam_policy_documents'",
            id="unknown-data-source",
        ),
        pytest.param(
            "main.tf",
            "sqs_managed_sse_enabled = true",
            "sqs_managed_sse         = true",
            "unknown argument or block 'sqs_managed_sse'",
            id="unknown-argument",
        ),
        pytest.param(
            "main.tf",
            "maximum_concurrency = scaling_config.value",
            "max_concurrency = scaling_config.value",
            "scaling_config: unknown argument or block 'max_concurrency'",
            id="unknown-argument-in-dynamic-block",
        ),
        pytest.param(
            "main.tf",
            "    actions   = [",
            "    action    = [",
            "statement: unknown argument or block 'action'",
            id="unknown-argument-in-nested-block",
        ),
        pytest.param(
            "main.tf",
            "  function_name    = var.function_name\n",
            "",
            "missing required argument 'function_name'",
            id="missing-required-argument",
        ),
        pytest.param(
            "outputs.tf",
            "aws_sqs_queue.jobs.url",
            "aws_sqs_queue.jobs.endpoint",
            "aws_sqs_queue has no 'endpoint'",
            id="unknown-attribute",
        ),
        pytest.param(
            "outputs.tf",
            "aws_sqs_queue.jobs.url",
            "aws_sqs_queue.work.url",
            "reference to undeclared aws_sqs_queue.work",
            id="undeclared-resource",
        ),
        pytest.param(
            "main.tf",
            "function_name    = var.function_name",
            "function_name    = var.function",
            "var.function is not declared",
            id="undeclared-variable",
        ),
        pytest.param(
            "main.tf",
            "name                    = local.queue_name",
            "name                    = local.queue",
            "local.queue is not defined",
            id="undefined-local",
        ),
        pytest.param(
            "main.tf",
            "  queue_arn = aws_sqs_queue.jobs.arn\n",
            "  queue_arn = aws_sqs_queue.jobs.arn\n  limit     = 5\n",
            "has no variable 'limit'",
            id="module-call-with-unknown-variable",
        ),
        pytest.param(
            "main.tf",
            "  queue_arn = aws_sqs_queue.jobs.arn\n",
            "",
            "required variable 'queue_arn' not set",
            id="module-call-missing-required-variable",
        ),
        pytest.param(
            "outputs.tf",
            "module.child.alarm_arn",
            "module.child.alarm_name",
            "module.child has no output 'alarm_name'",
            id="unknown-module-output",
        ),
    ],
)
def test_the_schema_check_reports(
    module_copy: Path,
    schema: dict[str, object],
    file: str,
    old: str,
    new: str,
    expected: str,
) -> None:
    problems = check([broken(module_copy, file, old, new)], schema)
    assert any(expected in problem for problem in problems), problems


FORMATTED = (GOOD / "main.tf").read_text()
UNFORMATTED = FORMATTED.replace("  batch_size       = 10", "    batch_size=10")


def hcl_tools_fmt(path: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "node is needed (make install)"
    script = ROOT / "tools" / "terraform" / "fmt.mjs"
    return subprocess.run(
        [node, str(script), str(path)], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_hcl_tools_formatter_passes_formatted_and_fails_unformatted_files(tmp_path: Path) -> None:
    assert UNFORMATTED != FORMATTED
    good, bad = tmp_path / "good.tf", tmp_path / "bad.tf"
    good.write_text(FORMATTED)
    bad.write_text(UNFORMATTED)
    assert hcl_tools_fmt(good).returncode == 0
    result = hcl_tools_fmt(bad)
    assert result.returncode == 1
    assert f"not formatted: {bad}" in result.stderr


@pytest.mark.skipif(shutil.which("terraform") is None, reason="compared only where terraform is")
def test_hcl_tools_and_terraform_fmt_agree(tmp_path: Path) -> None:
    for name, text in (("good.tf", FORMATTED), ("bad.tf", UNFORMATTED)):
        path = tmp_path / name
        path.write_text(text)
        terraform = subprocess.run(
            ["terraform", "fmt", "-check", str(path)], capture_output=True, check=False
        )
        assert (terraform.returncode == 0) == (hcl_tools_fmt(path).returncode == 0), name


OPEN_SSH = """
resource "aws_security_group" "open" {
  name        = "open"
  description = "open ssh"
  vpc_id      = "vpc-123"
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  security_group_id = aws_security_group.open.id
  description       = "ssh from anywhere"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = "0.0.0.0/0"
}
"""


def checkov_failures(directory: Path, main_tf: str) -> set[str]:
    """The checks checkov fails, with the project's config, on a module made of main_tf."""
    assert CHECKOV.exists(), "checkov's venv is missing: run `make tf-checkov`"
    (directory / "main.tf").write_text(main_tf)
    result = subprocess.run(
        [str(CHECKOV), "--config-file", ".checkov.yaml", "-d", str(directory), "-o", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    return {check["check_id"] for check in json.loads(result.stdout)["results"]["failed_checks"]}


def test_checkov_with_the_project_config_fails_an_open_ssh_ingress(tmp_path: Path) -> None:
    assert "CKV_AWS_24" in checkov_failures(tmp_path, OPEN_SSH)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "  datapoints_to_alarm = var.breaching_minutes_to_alarm",
            "  datapoints_to_alarms = var.breaching_minutes_to_alarm",
            "aws_cloudwatch_metric_alarm.this: unknown argument or block 'datapoints_to_alarms'",
            id="alarm-argument",
        ),
        pytest.param(
            "        metric_name = metric_query.value.name",
            "        name        = metric_query.value.name",
            "metric_query.metric: unknown argument or block 'name'",
            id="alarm-metric-in-dynamic-block",
        ),
        pytest.param(
            "  kms_master_key_id = aws_kms_key.alarms[0].arn",
            "  kms_master_key_id = aws_kms_key.alarms[0].key_arn",
            "aws_kms_key has no 'key_arn'",
            id="kms-key-attribute",
        ),
        pytest.param(
            "  dashboard_name = var.name\n",
            "",
            "aws_cloudwatch_dashboard.this: missing required argument 'dashboard_name'",
            id="dashboard-required-argument",
        ),
    ],
)
def test_the_schema_check_covers_the_monitoring_module(
    tmp_path: Path, schema: dict[str, object], old: str, new: str, expected: str
) -> None:
    copy = tmp_path / "monitoring"
    shutil.copytree(ROOT / "modules" / "monitoring", copy)
    assert check([copy], schema) == []
    problems = check([broken(copy, "main.tf", old, new)], schema)
    assert any(expected in problem for problem in problems), problems


def test_the_schema_check_covers_the_zone_offerings_the_network_module_reads(
    tmp_path: Path, schema: dict[str, object]
) -> None:
    copy = tmp_path / "network"
    shutil.copytree(ROOT / "modules" / "network", copy)
    old = "one(data.aws_ec2_instance_type_offerings.cache_node_type[*].locations)"
    new = "one(data.aws_ec2_instance_type_offerings.cache_node_type[*].zones)"
    problems = check([broken(copy, "main.tf", old, new)], schema)
    assert any("aws_ec2_instance_type_offerings has no 'zones'" in p for p in problems), problems


UNENCRYPTED_ALARM_TOPIC = """
resource "aws_kms_key" "alarms" {
  description = "alarm notifications"
}

resource "aws_sns_topic" "alarms" {
  name = "alarms"
}
"""


def test_checkov_with_the_project_config_fails_an_unencrypted_topic_and_an_unrotated_key(
    tmp_path: Path,
) -> None:
    assert {"CKV_AWS_26", "CKV_AWS_7"} <= checkov_failures(tmp_path, UNENCRYPTED_ALARM_TOPIC)


def test_an_override_file_is_merged_into_the_block_it_overrides(
    module_copy: Path, schema: dict[str, object]
) -> None:
    # Partial blocks, as Terraform merges them: checked on their own they would lack `name` and
    # `source`, the required arguments of the originals.
    (module_copy / "queue_override.tf").write_text(
        'resource "aws_sqs_queue" "jobs" {\n  delay_seconds = 5\n}\n\n'
        'module "child" {\n  queue_arn = "arn:aws:sqs:eu-west-1:123456789012:other"\n}\n\n'
        'locals {\n  queue_name = "renamed"\n}\n'
    )
    assert check([module_copy], schema) == []
    (module_copy / "override.tf").write_text(
        'resource "aws_sqs_queue" "jobs" {\n  delay_secondz = 5\n}\n'
    )
    [problem] = check([module_copy], schema)
    assert "unknown argument or block 'delay_secondz'" in problem


def test_an_override_of_a_block_that_does_not_exist_is_named(
    module_copy: Path, schema: dict[str, object]
) -> None:
    (module_copy / "extra_override.tf").write_text(
        'resource "aws_sqs_queue" "other" {\n  delay_seconds = 5\n}\n'
    )
    [problem] = check([module_copy], schema)
    assert "extra_override.tf: resource 'aws_sqs_queue' overrides nothing" in problem


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        pytest.param(
            'module "remote" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n',
            "module.remote: source 'terraform-aws-modules/vpc/aws' is not a local folder",
            id="registry-source",
        ),
        pytest.param(
            'module "nowhere" {\n  count = 0\n}\n',
            "module.nowhere: source None is not a local folder",
            id="no-source",
        ),
    ],
)
def test_a_module_block_the_check_cannot_read_is_named_not_a_crash(
    module_copy: Path, schema: dict[str, object], block: str, expected: str
) -> None:
    (module_copy / "extra.tf").write_text(block)
    assert any(expected in problem for problem in check([module_copy], schema)), expected
