"""One JSON log line per event, through Powertools' Logger, for the handlers and the library."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers


def function_logger(service: str) -> Logger:
    """The function's logger; the library's `tatourney.*` loggers write through it too."""
    logger = Logger(service=service)
    copy_config_to_registered_loggers(source_logger=logger, include={"tatourney"})
    return logger
