"""Each LocalStack execution environment is one worker process (worker.py) running the handler.

The worker is a warm container: it imports the handler once and serves invocations one at a time,
a JSON line in on stdin, a JSON line out on stdout. It runs under LOCAL_EXECUTOR_PYTHON with
`-S`, so it sees no site-packages: only the function's unzipped code, its layers' `python/`
folders (as /opt/python) and LOCAL_EXECUTOR_RUNTIME_DIR (what Lambda's runtime provides: boto3).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
from pathlib import Path
from typing import Any

from localstack import config
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import RuntimeExecutor

WORKER = Path(__file__).with_name("worker.py")
LOOPBACK = "127.0.0.1"
STOP_GRACE_SECONDS = 5


def _error(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


class LocalRuntimeExecutor(RuntimeExecutor):  # type: ignore[misc]
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id, function_version)
        self.worker: subprocess.Popen[bytes] | None = None
        self.environment: dict[str, str] = {}

    def start(self, env_vars: dict[str, Any]) -> None:
        code = self.function_version.config.code.get_unzipped_code_location()
        layers = self.function_version.config.layers
        # Lambda's order: the task root, each layer's python/ (as /opt/python), then the runtime.
        path = [str(code)]
        path += [str(layer.code.get_unzipped_code_location() / "python") for layer in layers]
        path.append(os.environ["LOCAL_EXECUTOR_RUNTIME_DIR"])
        self.environment = {name: str(value) for name, value in env_vars.items()}
        self.environment |= {"LAMBDA_TASK_ROOT": str(code), "PYTHONPATH": os.pathsep.join(path)}
        self.environment["PATH"] = os.environ["PATH"]
        self._spawn()

    def _spawn(self) -> None:
        # -S: no site-packages; -P: not the worker's own folder either.
        command = [os.environ["LOCAL_EXECUTOR_PYTHON"], "-S", "-P", "-u", str(WORKER)]
        cwd = self.environment["LAMBDA_TASK_ROOT"]
        self.worker = subprocess.Popen(
            command, cwd=cwd, env=self.environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def stop(self) -> None:
        if self.worker is None or self.worker.poll() is not None:
            return
        self.worker.terminate()
        try:
            self.worker.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.worker.kill()
            self.worker.wait()

    def invoke(self, payload: dict[str, Any]) -> InvocationResult:
        request_id = payload["invoke-id"]
        if self.worker is None or self.worker.poll() is not None:
            self._spawn()  # the last invocation timed out or crashed the worker: a new container
        assert self.worker is not None
        assert self.worker.stdin is not None
        assert self.worker.stdout is not None
        timeout = self.function_version.config.timeout
        request = {**payload, "timeout-seconds": timeout}
        self.worker.stdin.write(json.dumps(request).encode() + b"\n")
        self.worker.stdin.flush()
        ready, _, _ = select.select([self.worker.stdout], [], [], timeout)
        line = self.worker.stdout.readline() if ready else b""
        if not line:
            self.stop()
            error = (
                _error("Runtime.ExitError", "the function's process exited")
                if ready
                else _error("Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds")
            )
            return InvocationResult(request_id, error, True, "")
        answer = json.loads(line)
        payload = answer["payload"].encode()
        return InvocationResult(request_id, payload, answer["error"], answer["logs"])

    def get_address(self) -> str:
        return LOOPBACK

    def get_endpoint_from_executor(self) -> str:
        return LOOPBACK

    def get_runtime_endpoint(self) -> str:
        return f"http://{LOOPBACK}:{config.GATEWAY_LISTEN[0].port}/_localstack_lambda/{self.id}"

    def get_logs(self) -> str:
        return ""  # each invocation's output comes back with its result (worker.py)

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        function_version.config.code.prepare_for_execution()
        for layer in function_version.config.layers:
            layer.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        """The unzipped code is LocalStack's to delete with the function."""
