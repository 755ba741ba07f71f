"""Waiting out a database outage: for writes that must land, dropping them is never the answer.

An alert that is not stored would be acknowledged to the broker and lost; a delivery that
is not recorded as sent would be sent again once its lease lapses. Retry times are wall
time: the database's recovery is real time, whatever the escalation clock does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from eldercare.failures import is_transient
from eldercare.logs import get_logger

log = get_logger("alerting.retry")

RETRY_MIN_S = 0.5
RETRY_MAX_S = 10.0
T = TypeVar("T")


async def until_the_database_answers(
    step: Callable[[], Awaitable[T]], event: str, **fields: object
) -> T:
    """Run ``step`` until it gets through, logging ``event`` (with ``fields``) per failure."""
    delay = RETRY_MIN_S
    while True:
        try:
            return await step()
        except Exception as error:
            # "The database is away" (whatever wraps it), as opposed to a bug in this step.
            if not is_transient(error):
                raise
            log.error(event, error=str(error)[:300], retry_s=delay, **fields)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)
