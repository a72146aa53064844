"""Run the migrations from Python: at application start, from the `db` command and in tests."""

import asyncio
import hashlib
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import TextClause, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from . import timeouts
from .database import project_root

# PostgreSQL advisory locks are per database; this key is this project's.
POSTGRESQL_LOCK_KEY = zlib.crc32(f"{__package__}.migrations".encode())
LOCK_TIMEOUT_SECONDS = 3600
LOCK_POLL_SECONDS = 0.2


def alembic_config(**attributes: Any) -> Config:
    """The project's Alembic configuration: alembic.ini of the source checkout, or the copy
    that an installed wheel carries beside its migrations. attributes go to config.attributes.
    """
    checkout = project_root() / "alembic.ini"
    config = Config(checkout if checkout.is_file() else Path(__file__).with_name("alembic.ini"))
    config.attributes.update(attributes)
    return config


def upgrade_to_head() -> None:
    """Upgrade the database to the newest revision: call it when the application starts.

    Several processes may call it at once (replicas starting together): a database lock makes
    them take turns, and each revision runs once. Inside a running event loop (an async app's
    startup hook) it migrates in a worker thread and waits; `await asyncio.to_thread(
    upgrade_to_head)` keeps the loop free meanwhile. It leaves the app's logging alone.
    """
    config = alembic_config(configure_logger=False)
    if _event_loop_running():
        with ThreadPoolExecutor(max_workers=1) as worker:
            worker.submit(command.upgrade, config, "head").result()
    else:
        command.upgrade(config, "head")


def _event_loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@contextmanager
def migration_lock(connection: Connection) -> Iterator[None]:
    """Hold a session-level database lock, so that concurrent upgrades run one at a time.

    PostgreSQL: an advisory lock (session-level: it survives the commits inside the
    migrations). MySQL/MariaDB: a named lock (GET_LOCK). SQLite needs none: migrations there
    open their transaction with BEGIN IMMEDIATE, which waits for the write lock.
    """
    dialect = connection.dialect.name
    if dialect == "postgresql":
        key = {"key": POSTGRESQL_LOCK_KEY}
        attempt = text("SELECT pg_try_advisory_lock(:key)").bindparams(**key)
        release = text("SELECT pg_advisory_unlock(:key)").bindparams(**key)
    elif dialect in ("mysql", "mariadb"):
        # Named locks are per server: the name carries the database (64 characters at most).
        database = connection.engine.url.database or ""
        name = {"name": "migrations:" + hashlib.sha1(database.encode()).hexdigest()}
        attempt = text("SELECT GET_LOCK(:name, 0)").bindparams(**name)
        release = text("SELECT RELEASE_LOCK(:name)").bindparams(**name)
    else:
        yield
        return
    _take_lock(connection, attempt)
    try:
        yield
    finally:
        with suppress(SQLAlchemyError):  # closing the connection releases the lock anyway
            connection.execute(release)
            connection.commit()


def _take_lock(connection: Connection, attempt: TextClause) -> None:
    """Try to take the lock until it is ours, with no transaction open while waiting.

    A transaction that waits would block the holder's migrations where they wait for every
    open transaction (PostgreSQL's CREATE INDEX CONCURRENTLY): a deadlock. A transaction
    left open would make Alembic take it for the caller's and never commit the migrations.
    """
    deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
    while True:
        taken = connection.execute(attempt).scalar()
        connection.commit()
        if taken:
            return
        if time.monotonic() > deadline:
            raise CommandError(
                f"Another process has held the migration lock for {LOCK_TIMEOUT_SECONDS}"
                " seconds: wait for it to finish, or end its session, then run this again"
            )
        time.sleep(LOCK_POLL_SECONDS)


@contextmanager
def failures_explained(dialect: str) -> Iterator[None]:
    """Turn a migration that fails into one line that says which revision failed, why, and
    what it left behind (CommandError, which alembic and the `db` command print as one line).

    Errors that neither a revision nor the database raised (a bug in env.py, say) keep their
    traceback.
    """
    try:
        yield
    except CommandError:
        raise
    except Exception as error:
        explanation = explain_failure(error, dialect)
        if explanation is None:
            raise
        raise CommandError(explanation) from error


def explain_failure(error: BaseException, dialect: str) -> str | None:
    """One line for a failed migration, or None when neither a revision file nor the
    database raised the error."""
    revision = _failed_revision(error)
    if revision is None and not isinstance(error, DBAPIError):
        return None
    what = f"{type(error).__name__}: {first_line(error)}".rstrip(". ")
    what = timeouts.explain(error) or what
    retry = "(Run alembic with --raiseerr for the traceback.)"
    if revision is None:
        return f"Migrating failed: {what}. {retry}"
    where = f"Revision {revision['revision']} ({Path(revision['__file__']).name}) failed"
    if dialect in ("mysql", "mariadb"):
        state = (
            "MySQL commits each DDL statement at once, so the statements of this revision that"
            " ran before the failure stay applied, while `alembic current` still shows the"
            " revision before it; see 'When a migration fails on MySQL' in the README"
        )
    elif dialect == "sqlite":
        state = "It was rolled back: the database is as it was before this command"
    else:
        state = (
            "It was rolled back; the revisions before it in this command stay applied, so"
            " the database is at the last revision that succeeded (`alembic current`)"
        )
    return f"{where}: {what}. {state}. {retry}"


def first_line(error: BaseException) -> str:
    """The first line of what the driver said (a wrapped error's original), or of the error."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _failed_revision(error: BaseException) -> dict[str, Any] | None:
    """The globals of the innermost revision module in the traceback, if any."""
    found = None
    traceback = error.__traceback__
    while traceback is not None:
        module_globals = traceback.tb_frame.f_globals
        if {"revision", "down_revision", "upgrade", "downgrade"} <= module_globals.keys():
            found = module_globals
        traceback = traceback.tb_next
    return found
