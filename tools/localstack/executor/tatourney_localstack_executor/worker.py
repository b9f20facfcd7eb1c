"""One Lambda execution environment: import the handler once, then answer invocations.

Run by executor.py as `python -S worker.py` with the function's environment; standard library
only, so that the function sees nothing but its code, its layers and the runtime's boto3.
Protocol: one JSON request a line on stdin, one JSON answer a line on the original stdout. What
the function prints during an invocation (print, Powertools' logger) is returned in the answer
as that invocation's logs, which LocalStack writes to the function's CloudWatch log group.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Context:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    aws_request_id: str
    invoked_function_arn: str
    deadline: float
    function_name: str = field(default_factory=lambda: os.environ["AWS_LAMBDA_FUNCTION_NAME"])
    function_version: str = field(default_factory=lambda: os.environ["AWS_LAMBDA_FUNCTION_VERSION"])
    memory_limit_in_mb: int = field(
        default_factory=lambda: int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
    )
    log_group_name: str = field(default_factory=lambda: os.environ["AWS_LAMBDA_LOG_GROUP_NAME"])
    log_stream_name: str = field(default_factory=lambda: os.environ["AWS_LAMBDA_LOG_STREAM_NAME"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def error_of(error: BaseException, error_type: str | None = None) -> str:
    return json.dumps(
        {
            "errorMessage": str(error),
            "errorType": error_type or type(error).__name__,
            "stackTrace": traceback.format_tb(error.__traceback__),
        }
    )


def invoke(handler: Any, event: Any, context: Context) -> dict[str, Any]:
    try:
        return {"error": False, "payload": json.dumps(handler(event, context))}
    except Exception as error:  # a function error, returned to the caller
        traceback.print_exc()
        return {"error": True, "payload": error_of(error)}


def main() -> None:
    answers = os.fdopen(os.dup(1), "w")
    log_stream = os.dup(2)  # LocalStack's log, for what is printed outside invocations
    os.dup2(log_stream, 1)
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        init_error = None
    except Exception as error:  # reported on every invocation, as Lambda does
        traceback.print_exc()
        init_error = error_of(error, "Runtime.ImportModuleError")
    for line in sys.stdin:
        request = json.loads(line)
        context = Context(
            request["invoke-id"],
            request["invoked-function-arn"],
            time.monotonic() + request["timeout-seconds"],
        )
        with tempfile.TemporaryFile() as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            try:
                if init_error is None:
                    answer = invoke(handler, json.loads(request["payload"]), context)
                else:
                    answer = {"error": True, "payload": init_error}
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(log_stream, 1)
                os.dup2(log_stream, 2)
            log.seek(0)
            answer["logs"] = log.read().decode(errors="replace")
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
