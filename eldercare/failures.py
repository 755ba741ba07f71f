"""Which failures are worth waiting out, and what is kept of a message that never succeeds.

Every service answers one question the same way when a handler fails: will trying again
later help? A database or broker that is away (a dropped connection, a refused connect, a
timeout) heals by itself, so the message must stay unacknowledged and be retried; dropping
it would lose an alert. Anything else (a bug, a payload no code path can handle) fails the
same way every time, so after a few tries the message is set aside as a ``DeadLetter``
that operators can read, instead of blocking every home's messages behind it.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

import aiomqtt
import asyncpg
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from ulid import ULID

from eldercare.logs import get_logger
from eldercare.models import DeadLetter

log = get_logger("failures")

#: Errors that mean "the database or the network is away", whatever wraps them.
#: ``OSError`` covers ConnectionError, a refused connect and ``TimeoutError``; asyncpg's
#: connection errors ("connection was closed in the middle of operation") and operator
#: interventions (server shutting down or starting up) reach us inside a plain DBAPIError.
_TRANSIENT = (
    OSError,
    OperationalError,
    InterfaceError,
    PoolTimeout,
    aiomqtt.MqttError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
)
#: Bytes of the payload kept in a dead letter: as large as the gateway lets a payload be.
DEAD_LETTER_PAYLOAD_BYTES = 65536
DEAD_LETTER_ERROR_CHARS = 2000
#: Waiting out a database outage (wall time: its recovery is real time, whatever the
#: service's clock does).
RETRY_MIN_S = 0.5
RETRY_MAX_S = 10.0

T = TypeVar("T")


def is_transient(error: BaseException) -> bool:
    """True when waiting and trying again can succeed: the failure is the infrastructure's.

    Follows the chain of causes (SQLAlchemy wraps the driver's error, the driver adapter
    wraps the protocol's), so the same outage is recognised however deep it arrives.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _TRANSIENT):
            return True
        if isinstance(current, DBAPIError):
            if current.connection_invalidated:
                return True
            current = current.orig
            continue
        current = current.__cause__
    return False


async def until_the_database_answers(
    step: Callable[[], Awaitable[T]], event: str, **fields: object
) -> T:
    """Run ``step`` until it gets through a transient failure, logging ``event`` (with
    ``fields``) once per failed attempt; any other failure is raised.

    For writes that must land (an alert, the record of a delivery) and for a service that
    starts before its database: dropping the work, or exiting, is never the answer.
    """
    delay, attempt = RETRY_MIN_S, 0
    while True:
        try:
            return await step()
        except Exception as error:
            if not is_transient(error):
                raise
            attempt += 1
            log.error(event, error=str(error)[:300], attempt=attempt, retry_s=delay, **fields)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)


def dead_letter(
    service: str,
    topic: str,
    payload: bytes,
    error: BaseException,
    *,
    first_failed_at: datetime,
    last_failed_at: datetime,
    attempts: int,
) -> DeadLetter:
    """The record of a message set aside: bounded, and lossless for any payload that fits
    (text as text for reading, anything else base64)."""
    kept = payload[:DEAD_LETTER_PAYLOAD_BYTES]
    try:
        text, encoding = kept.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(kept).decode("ascii"), "base64"
    return DeadLetter(
        dead_letter_id=str(ULID.from_datetime(first_failed_at)),
        service=service,
        topic=topic,
        payload=text,
        payload_encoding=encoding,
        payload_size=len(payload),
        error_type=f"{type(error).__module__}.{type(error).__qualname__}",
        error=str(error)[:DEAD_LETTER_ERROR_CHARS],
        first_failed_at=first_failed_at,
        last_failed_at=last_failed_at,
        attempts=attempts,
    )
