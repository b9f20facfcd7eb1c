"""Lambda emulation for the local stack: a function's handler module cold-started with the
environment Terraform gives it, invoked one at a time with a context like Lambda's."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from aws_lambda_powertools.metrics.provider.cold_start import reset_cold_start_flag

from tatourney.telemetry import service_name
from tatourney_local.metrics import METRIC_LINES, RecentEvents
from tatourney_local.services import REPO_ROOT
from tatourney_local.streams import local_function_arn


@dataclass(frozen=True)
class LocalContext:
    """The parts of Lambda's context object that Powertools and the handlers read."""

    function_name: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    timeout_seconds: float = 30.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return local_function_arn(self.function_name)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self.started
        return max(int((self.timeout_seconds - elapsed) * 1000), 0)


class LocalFunction:
    """One function's handler module, cold-started with its environment, invoked one at a time
    (like a single warm container: the module's globals are not shared between invocations)."""

    def __init__(
        self,
        name: str,
        environment: Mapping[str, str],
        metrics: Callable[[dict[str, Any]], None] = lambda document: None,
    ) -> None:
        self.name = f"tatourney-{name}"
        self.module = cold_start(name, {**environment, "POWERTOOLS_SERVICE_NAME": self.name})
        self.errors = RecentEvents()  # invocations that raised: Lambda's Errors metric
        self._metrics = metrics  # takes the metric documents the function prints
        self._lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> Any:
        with self.invoking(), METRIC_LINES.captured_by(self._metrics):
            try:
                return self.module.handler(event, LocalContext(self.name))
            except Exception:
                self.errors.add()
                raise

    @contextlib.contextmanager
    def invoking(self) -> Iterator[None]:
        """The container to oneself: no invocation runs meanwhile."""
        with self._lock:
            yield


def cold_start(name: str, environment: Mapping[str, str]) -> ModuleType:
    """Import functions/<name>/<name>_handler.py afresh with `environment` set.

    The handlers read their configuration at import, as on a Lambda cold start; the process's
    own environment is restored afterwards, so several stacks (or tests) can share a process.
    What Powertools keeps per process is reset as a new process would have it: the function's
    logger is configured anew (its level from this environment), and its first invocation
    reports a cold start.
    """
    directory = str(REPO_ROOT / "functions" / name)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    module_name = f"{name}_handler"
    saved = dict(os.environ)
    os.environ.update(environment)
    try:
        service = logging.getLogger(service_name(f"tatourney-{name}"))
        for handler in list(service.handlers):
            service.removeHandler(handler)
        service.init = False  # type: ignore[attr-defined]  # Powertools' "configured" mark
        vars(service).pop("powertools_handler", None)
        reset_cold_start_flag()  # type: ignore[no-untyped-call]
        sys.modules.pop(module_name, None)
        return importlib.import_module(module_name)
    finally:
        os.environ.clear()
        os.environ.update(saved)
