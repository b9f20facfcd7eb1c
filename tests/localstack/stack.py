"""The stack the LocalStack tests drive: examples/localstack applied by Terraform
(pytest-terraform's runner) into the session's LocalStack once per session, with network and
monitoring on, under a name of its own; destroyed at the end (tests/terraform_apply destroys it
itself and checks that nothing is left). Terraform runs on a copy of the sources in a temporary
folder, so its lock file, `.terraform/`, plans and state never land in the checkout.

Where Terraform or an AWS provider 5.100-6.x cannot be found, or LocalStack runs in Docker mode,
the tests that use it are skipped with the reason (on this project's machines they run)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from localstack_client.session import Session
from pytest_terraform.tf import TerraformRunner

from tatourney_local.localstack import LocalStack
from tatourney_local.services import Memcached
from tatourney_local.tables import TableNames
from tests.localstack.deployment import Deployment, powertools_layer
from tests.packaging.building import build_into
from tools.terraform.workspace import Terraform, TerraformUnavailable, copy_sources

EXAMPLE = Path("examples", "localstack")


@dataclass
class TerraformStack:
    """examples/localstack as applied: how to run Terraform on it again, and what it made."""

    terraform: Terraform
    runner: TerraformRunner
    module_dir: Path
    data_dir: Path
    sources: Path
    dist: Path
    variables: dict[str, str]
    deployment: Deployment
    destroyed: bool = False

    def run(self, *arguments: str) -> str:
        done = self.terraform.run(arguments, self.module_dir, self.data_dir, self.variables)
        assert done.returncode == 0, f"terraform {arguments[0]}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def plan(self) -> dict[str, Any]:
        """`terraform plan` of the applied example against its state, as `terraform show -json`
        prints it."""
        plan_file = self.data_dir / "replan.tfplan"
        self.run("plan", "-input=false", f"-state={self.runner.state_path}", f"-out={plan_file}")
        plan: dict[str, Any] = json.loads(self.run("show", "-json", str(plan_file)))
        return plan

    def destroy(self) -> None:
        if not self.destroyed:
            self.destroyed = True
            with environment(self.terraform.environment(self.data_dir, self.variables)):
                self.runner.destroy()


@contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """pytest-terraform's runner passes the process's environment on to terraform: set it for
    one command and no longer (other tests run terraform with their own)."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in variables.items():
            if os.environ.get(key) != value:
                patch.setenv(key, value)
        yield


@pytest.fixture(scope="session")
def localstack_session(localstack: LocalStack) -> Session:
    if localstack.mode != "host":
        pytest.skip(
            f"LocalStack runs in {localstack.mode} mode: the deployed functions need host mode's "
            "local executor (the community Docker executor does not apply layers, so no Powertools)"
        )
    return localstack.session()


@pytest.fixture(scope="session")
def terraform_found() -> Terraform:
    try:
        return Terraform.find()
    except TerraformUnavailable as unavailable:
        pytest.skip(f"Terraform NOT RUN: {unavailable}")


@pytest.fixture(scope="session")
def terraform_stack(
    terraform_found: Terraform,
    localstack: LocalStack,
    localstack_session: Session,
    memcached: Memcached,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[TerraformStack]:
    """`terraform apply` of examples/localstack: the zips `make package` builds (in a temporary
    dist/), the Powertools layer published first (LocalStack's community edition has none of
    AWS's public layers: the one thing Terraform is not given here)."""
    terraform = terraform_found
    scratch = tmp_path_factory.mktemp("terraform")
    dist = build_into(scratch / "dist", tmp_path_factory.mktemp("pip-cache"))
    manifest = json.loads((dist / "manifest.json").read_text())
    name = f"tt{uuid.uuid4().hex[:8]}"  # names of its own: tests never meet another stack
    lambda_ = localstack_session.client("lambda")
    layer = lambda_.publish_layer_version(
        LayerName=f"{name}-powertools",
        Content={"ZipFile": powertools_layer(manifest["architecture"])},
        CompatibleRuntimes=[manifest["runtime"]],
        CompatibleArchitectures=[manifest["architecture"]],
    )
    sources = copy_sources(scratch / "sources", dist)
    module_dir = sources / EXAMPLE
    data_dir = scratch / "data" / "work"
    variables = {
        "name": name,
        "localstack_endpoint": localstack.endpoint_url,
        "cache_endpoints": json.dumps([memcached.endpoint]),
        "powertools_layer_arn": layer["LayerVersionArn"],
    }
    runner = TerraformRunner(str(data_dir), module_dir=str(module_dir), tf_bin=terraform.binary)
    with environment(terraform.environment(data_dir, variables)):
        runner.init()
        outputs = {key: value["value"] for key, value in runner.apply().outputs.items()}
    stack = TerraformStack(
        terraform=terraform,
        runner=runner,
        module_dir=module_dir,
        data_dir=data_dir,
        sources=sources,
        dist=dist,
        variables=variables,
        deployment=Deployment(
            name=name,
            tables=TableNames(games=outputs["games_table_name"], stats=outputs["stats_table_name"]),
            functions=outputs["function_names"],
            layer_arn=layer["LayerVersionArn"],
            failure_queue_url=outputs["stream_failures_queue_url"],
            stats_url=outputs["stats_url"],
            site_url=outputs["site_url"],
        ),
    )
    yield stack
    stack.destroy()
    lambda_.delete_layer_version(LayerName=f"{name}-powertools", VersionNumber=layer["Version"])
