"""Run the migrations from Python: at application start, from the `db` command and in tests."""

import asyncio
import hashlib
import math
import os
import sys
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
LOCK_TIMEOUT_VARIABLE = "MIGRATION_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT_SECONDS = 3600
LOCK_POLL_SECONDS = 0.2
# Who holds the lock, where the database tells: the session's pid, application, user, host.
POSTGRESQL_LOCK_HOLDER = """
SELECT a.pid AS pid, a.application_name AS application, a.usename AS user,
       host(a.client_addr) AS host
FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objsubid = 1
  AND l.objid::bigint = :key
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
MYSQL_LOCK_HOLDER = """
SELECT held.id AS connection, p.USER AS user, p.HOST AS host
FROM (SELECT IS_USED_LOCK(:name) AS id) AS held
LEFT JOIN information_schema.PROCESSLIST AS p ON p.ID = held.id
"""
# The hint of a failed command; the `db` command shows its own spelling of it.
RETRY_HINT = "(Run `alembic --raiseerr <command> ...` for the traceback.)"
README_FAILURES = 'see "When a migration fails" in README.md'


def alembic_config(**attributes: Any) -> Config:
    """The project's Alembic configuration: alembic.ini of the source checkout, or the copy
    that an installed wheel carries beside its migrations. attributes go to config.attributes.
    """
    checkout = project_root() / "alembic.ini"
    config = Config(checkout if checkout.is_file() else Path(__file__).parents[1] / "alembic.ini")
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
    timeout = lock_timeout()
    if dialect == "postgresql":
        key = {"key": POSTGRESQL_LOCK_KEY}
        attempt = text("SELECT pg_try_advisory_lock(:key)").bindparams(**key)
        release = text("SELECT pg_advisory_unlock(:key)").bindparams(**key)
        holder = text(POSTGRESQL_LOCK_HOLDER).bindparams(**key)
    elif dialect in ("mysql", "mariadb"):
        # Named locks are per server: the name carries the database (64 characters at most).
        database = connection.engine.url.database or ""
        name = {"name": "migrations:" + hashlib.sha1(database.encode()).hexdigest()}
        attempt = text("SELECT GET_LOCK(:name, 0)").bindparams(**name)
        release = text("SELECT RELEASE_LOCK(:name)").bindparams(**name)
        holder = text(MYSQL_LOCK_HOLDER).bindparams(**name)
    else:
        yield
        return
    _take_lock(connection, attempt, holder, timeout)
    try:
        yield
    finally:
        with suppress(SQLAlchemyError):  # closing the connection releases the lock anyway
            connection.execute(release)
            connection.commit()


def lock_timeout() -> float:
    """How long to wait for another process's migration lock: MIGRATION_LOCK_TIMEOUT seconds."""
    raw = (os.environ.get(LOCK_TIMEOUT_VARIABLE) or "").strip()
    if not raw:
        return DEFAULT_LOCK_TIMEOUT_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds < math.inf:
        raise CommandError(
            f"{LOCK_TIMEOUT_VARIABLE} is {raw[:40]!r}: set it to the number of seconds to wait"
            f" for another migration, e.g. 600 (unset, it is {DEFAULT_LOCK_TIMEOUT_SECONDS})"
        )
    return seconds


def _take_lock(
    connection: Connection, attempt: TextClause, holder: TextClause, timeout: float
) -> None:
    """Try to take the lock until it is ours, with no transaction open while waiting.

    A transaction that waits would block the holder's migrations where they wait for every
    open transaction (PostgreSQL's CREATE INDEX CONCURRENTLY): a deadlock. A transaction
    left open would make Alembic take it for the caller's and never commit the migrations.
    """
    deadline = time.monotonic() + timeout
    waiting = False
    while True:
        taken = connection.execute(attempt).scalar()
        connection.commit()
        if taken:
            return
        if not waiting:
            waiting = True
            _say_who_holds_the_lock(connection, holder, timeout)
        if time.monotonic() >= deadline:
            raise CommandError(
                f"Waited {timeout:g} seconds ({LOCK_TIMEOUT_VARIABLE}) for another process's"
                " migration lock: wait for it to finish, or end its session, then run this again"
            )
        time.sleep(max(0, min(LOCK_POLL_SECONDS, deadline - time.monotonic())))


def _say_who_holds_the_lock(connection: Connection, holder: TextClause, timeout: float) -> None:
    """One line on stderr: this process waits, for whom (where the database says), how long."""
    try:
        row = connection.execute(holder).mappings().first()
        connection.commit()
    except SQLAlchemyError:  # a database that will not say: wait all the same
        connection.rollback()
        row = None
    who = ", ".join(f"{name} {value}" for name, value in (row or {}).items() if value)
    print(
        f"Waiting for another migration to finish (the lock is held by"
        f" {who or 'another session'}); giving up after {timeout:g} s ({LOCK_TIMEOUT_VARIABLE})",
        file=sys.stderr,
        flush=True,
    )


# What a failed revision leaves behind: one transaction per revision on PostgreSQL and MySQL,
# one for the whole command on SQLite.
WHAT_SURVIVES = {
    "postgresql": (
        "It was rolled back whole; the revisions before it stay applied, and `alembic current`"
        f" shows the one before it ({README_FAILURES})"
    ),
    "mysql": (
        "On MySQL the revisions before it stay applied; in this one, each DDL statement"
        " committed itself and the data changes made before it, and the data changes after"
        " its last DDL statement were rolled back; `alembic current` shows the revision"
        f" before it ({README_FAILURES})"
    ),
    "sqlite": "It was rolled back: the database is as it was before this command",
}
WHAT_SURVIVES["mariadb"] = WHAT_SURVIVES["mysql"]


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
    if revision is None:
        return f"Migrating failed: {what}. {RETRY_HINT}"
    where = f"Revision {revision['revision']} ({Path(revision['__file__']).name}) failed"
    return f"{where}: {what}. {WHAT_SURVIVES.get(dialect, WHAT_SURVIVES['sqlite'])}. {RETRY_HINT}"


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
