"""`make up` wiring: the aggregate function stores its rejected records in the stack's failure
log, the file where the local mapping discards what it gives up on (aggregate's behaviour with
the mapping is tested in tests/core/test_aggregate.py)."""

from __future__ import annotations

from tatourney.rejections import FileDestination
from tatourney_local.stack import Stack


def test_aggregate_rejects_into_the_stacks_failure_log(stack: Stack) -> None:
    destination = stack.functions["aggregate"].module.failure_destination
    assert isinstance(destination, FileDestination)
    assert destination.path == stack.failure_log.path.resolve()
