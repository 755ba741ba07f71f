"""Users and their logins: the only module that writes the ``users`` and ``user_sessions``
tables.

Passwords are hashed with Argon2id (argon2-cffi, its recommended parameters). A login is a
random token: the browser keeps it in an HttpOnly cookie (or an API client sends it as a
bearer token) and the table keeps only its SHA-256, so a leaked database holds no usable
session. Logging out or disabling a user ends the session at once.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from dashboards.principal import Principal, Role, principal_is_valid
from eldercare.db.models import UserRow, UserSessionRow
from eldercare.logs import get_logger
from gateway import registry_api

log = get_logger("dashboard.accounts")

#: A station shift and a bit; after that the screen asks for the password again.
SESSION_LIFETIME = timedelta(hours=14)
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the user does not exist, so a wrong name costs as long as a
    wrong password and response times do not tell which usernames exist."""
    return _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A user that cannot be created as asked; the message says why."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def principal_of(user: UserRow) -> Principal:
    return Principal(
        name=user.display_name,
        role=Role(user.role),
        station_id=user.station_id,
        home_id=user.home_id,
        language=user.language,
        user_id=user.id,
    )


async def add_user(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: Role,
    now: datetime,
    display_name: str | None = None,
    station_id: str | None = None,
    home_id: str | None = None,
    language: str = "zh-CN",
) -> UserRow:
    """Create a user after checking that their station or home exists."""
    if reason := principal_is_valid(role, station_id, home_id):
        raise AccountError(reason)
    if await session.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
        raise AccountError(f"user {username!r} exists")
    if station_id is not None:
        station = await registry_api.station(session, station_id)
        if station is None:
            raise AccountError(f"no station {station_id!r}")
        if role is Role.SUPERVISOR and station.kind != "centre":
            raise AccountError(f"{station_id!r} is a station, a supervisor needs a centre")
    if home_id is not None and await registry_api.home(session, home_id) is None:
        raise AccountError(f"no home {home_id!r}")
    user = UserRow(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role.value,
        station_id=station_id,
        home_id=home_id,
        language=language,
        active=True,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    log.info("user_added", user_id=user.id, role=role.value, station=station_id, home=home_id)
    return user


async def authenticate(session: AsyncSession, username: str, password: str) -> UserRow | None:
    """The active user with this password, or None (same answer for unknown and wrong)."""
    user = await session.scalar(select(UserRow).where(UserRow.username == username))
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


async def open_session(session: AsyncSession, user: UserRow, now: datetime) -> str:
    """A new login for ``user``; returns the token (the only time it exists in clear)."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSessionRow(
            token_hash=_token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    # Expired logins of this user go while we are here: the table stays small without a job.
    await session.execute(
        delete(UserSessionRow).where(
            UserSessionRow.user_id == user.id, UserSessionRow.expires_at <= now
        )
    )
    return token


async def principal_for_token(session: AsyncSession, token: str, now: datetime) -> Principal | None:
    row = (
        await session.execute(
            select(UserRow)
            .join(UserSessionRow, UserSessionRow.user_id == UserRow.id)
            .where(
                UserSessionRow.token_hash == _token_hash(token),
                UserSessionRow.expires_at > now,
                UserRow.active.is_(True),
            )
        )
    ).scalar_one_or_none()
    return principal_of(row) if row else None


async def close_session(session: AsyncSession, token: str) -> None:
    await session.execute(
        delete(UserSessionRow).where(UserSessionRow.token_hash == _token_hash(token))
    )


async def ensure_demo_admin(session: AsyncSession, now: datetime) -> tuple[str, str]:
    """For ``eldercare demo`` only: the ``demo`` admin with a fresh random password on every
    start, printed to the console, so no password is ever fixed in code or docs."""
    username, password = "demo", secrets.token_urlsafe(12)
    user = await session.scalar(select(UserRow).where(UserRow.username == username))
    if user is None:
        await add_user(
            session,
            username=username,
            password=password,
            role=Role.ADMIN,
            now=now,
            display_name="Demo admin",
        )
    else:
        user.password_hash, user.active = hash_password(password), True
    return username, password
