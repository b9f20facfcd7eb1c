"""LocalStack's `localstack.lambda.runtime_executor` plugin named `local` (see README.md)."""

from __future__ import annotations

from typing import Any

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class LocalExecutorPlugin(RuntimeExecutorPlugin):  # type: ignore[misc]
    name = "local"

    def load(self, *args: Any, **kwargs: Any) -> type:
        # Imported when LocalStack selects the plugin, as its own Docker executor is.
        from tatourney_localstack_executor.executor import LocalRuntimeExecutor  # noqa: PLC0415

        return LocalRuntimeExecutor
