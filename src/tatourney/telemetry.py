"""Logs, metrics and traces of the functions, through Powertools: one JSON log line per event,
CloudWatch embedded-metric-format lines (one namespace, one `service` dimension), and X-Ray traces
when tracing is switched on.

Both take the service name from POWERTOOLS_SERVICE_NAME (Terraform sets the function's name; the
alarms select on it), falling back to the function's default name; the namespace from
POWERTOOLS_METRICS_NAMESPACE, falling back to NAMESPACE.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

Handler = TypeVar("Handler", bound=Callable[..., object])

NAMESPACE = "Tatourney"


def service_name(default: str) -> str:
    return os.environ.get("POWERTOOLS_SERVICE_NAME") or default


def function_logger(default_service: str) -> Logger:
    """The function's logger; the library's `tatourney.*` loggers write through it too."""
    logger = Logger(service=service_name(default_service))
    copy_config_to_registered_loggers(source_logger=logger, include={"tatourney"})
    return logger


def function_metrics(default_service: str) -> Metrics:
    """The function's metrics, flushed as one EMF line at the end of each invocation."""
    return Metrics(
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or NAMESPACE,
        service=service_name(default_service),
    )


def traced(handler: Handler) -> Handler:
    """The handler traced by Powertools' Tracer (X-Ray) when tracing is on, as Terraform's
    `tracing_enabled` sets it (POWERTOOLS_TRACE_DISABLED=false); else the handler itself, and the
    X-Ray SDK is not even imported: tracing off costs a cold start nothing."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "true").strip().lower() != "false":
        return handler
    from aws_lambda_powertools import Tracer  # noqa: PLC0415 - only when tracing is on

    return cast("Handler", Tracer().capture_lambda_handler(handler))
