"""Timeouts for migrations on a live database: a revision that waits for a table lock, or runs
too long, fails instead of stalling every query of the app that queues behind it.

DB_LOCK_TIMEOUT (seconds a statement waits for a lock, default 10) and DB_STATEMENT_TIMEOUT
(seconds a statement may run, default 3600) are read from the environment; 0 turns one off.
They are not MIGRATION_LOCK_TIMEOUT, the wait for another process's migrations.
"""

import math
import os
import re

from alembic.util import CommandError
from sqlalchemy.engine import Connection

LOCK_TIMEOUT_VARIABLE = "DB_LOCK_TIMEOUT"
STATEMENT_TIMEOUT_VARIABLE = "DB_STATEMENT_TIMEOUT"
DEFAULTS = {LOCK_TIMEOUT_VARIABLE: 10.0, STATEMENT_TIMEOUT_VARIABLE: 3600.0}
_MYSQL = ("mysql", "mariadb")
# What the drivers say: PostgreSQL's SQLSTATE 55P03 and 57014, MySQL's error numbers.
_LOCK_TIMED_OUT = re.compile(r"lock timeout|Lock wait timeout exceeded", re.IGNORECASE)
_STATEMENT_TIMED_OUT = re.compile(
    r"statement timeout|max_statement_time exceeded|maximum statement execution time exceeded",
    re.IGNORECASE,
)


def seconds(variable: str) -> float:
    """The timeout that variable sets, in seconds; a value that is no number is one line."""
    raw = (os.environ.get(variable) or "").strip()
    if not raw:
        return DEFAULTS[variable]
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (math.isfinite(value) and value >= 0):
        raise CommandError(
            f"{variable} is {raw[:40]!r}: set it to a number of seconds, e.g. 30, or 0 for no"
            f" limit (unset, it is {DEFAULTS[variable]:g})"
        )
    return value


def statements(dialect: str, mariadb: bool) -> list[str]:
    """The session settings that put both timeouts in force on this backend."""
    lock, statement = seconds(LOCK_TIMEOUT_VARIABLE), seconds(STATEMENT_TIMEOUT_VARIABLE)
    if dialect == "postgresql":
        return [
            f"SET lock_timeout = '{round(lock * 1000)}ms'",
            f"SET statement_timeout = '{round(statement * 1000)}ms'",
        ]
    if dialect not in _MYSQL:
        return []  # SQLite has one writer: migrations wait for its write lock (database.py)
    # lock_wait_timeout: metadata locks (DDL); innodb_lock_wait_timeout: row locks (DML).
    settings = (
        []
        if not lock
        else [
            f"SET SESSION lock_wait_timeout = {math.ceil(lock)}",
            f"SET SESSION innodb_lock_wait_timeout = {math.ceil(lock)}",
        ]
    )
    if mariadb:  # MariaDB limits every statement; MySQL's max_execution_time only SELECTs
        settings.append(f"SET SESSION max_statement_time = {statement:g}")
    else:
        settings.append(f"SET SESSION max_execution_time = {round(statement * 1000)}")
    return settings


def apply(connection: Connection) -> None:
    """Set the timeouts for this session, committed: no transaction is left open."""
    mariadb = bool(getattr(connection.dialect, "is_mariadb", False))
    for statement in statements(connection.dialect.name, mariadb):
        connection.exec_driver_sql(statement)
    connection.commit()


def explain(error: BaseException) -> str | None:
    """One line for a statement that a timeout stopped: what blocked it and how to retry."""
    said = str(getattr(error, "orig", None) or error)
    if _LOCK_TIMED_OUT.search(said):
        waited = seconds(LOCK_TIMEOUT_VARIABLE)
        return (
            f"it waited {waited:g} s ({LOCK_TIMEOUT_VARIABLE}) for a lock on a table it changes,"
            " which another session holds (an open transaction or a long query on that table)."
            " Nothing was retried: let that session finish or end it, then run the upgrade"
            f" again, or set {LOCK_TIMEOUT_VARIABLE} higher to wait longer"
        )
    if _STATEMENT_TIMED_OUT.search(said):
        limit = seconds(STATEMENT_TIMEOUT_VARIABLE)
        return (
            f"a statement ran longer than {limit:g} s ({STATEMENT_TIMEOUT_VARIABLE})."
            " Nothing was retried: make it do less per statement (batches), or set"
            f" {STATEMENT_TIMEOUT_VARIABLE} higher for this run"
        )
    return None
