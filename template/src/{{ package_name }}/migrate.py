"""Run the migrations from Python: at application start, from the `db` command and in tests."""

import asyncio
import hashlib
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from .database import project_root

# PostgreSQL advisory locks are per database; this key is this project's.
POSTGRESQL_LOCK_KEY = zlib.crc32(f"{__package__}.migrations".encode())
# MySQL named locks are per server: the name carries the database (64 characters at most).
MYSQL_LOCK_TIMEOUT_SECONDS = 3600


def alembic_config(**attributes: Any) -> Config:
    """The project's Alembic configuration: alembic.ini of the source checkout, or, in an
    installed wheel, the migrations packaged inside it. attributes go to config.attributes."""
    ini = project_root() / "alembic.ini"
    if ini.is_file():
        config = Config(ini)
    else:
        config = Config()
        config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
        config.set_main_option("path_separator", "os")
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

    PostgreSQL: pg_advisory_lock (it survives the commits inside the migrations, unlike the
    transaction-level lock). MySQL/MariaDB: GET_LOCK with a timeout (MariaDB does not wait
    on -1). SQLite needs none: migrations there open their transaction with BEGIN IMMEDIATE.
    """
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": POSTGRESQL_LOCK_KEY})
        release = text("SELECT pg_advisory_unlock(:key)").bindparams(key=POSTGRESQL_LOCK_KEY)
    elif dialect in ("mysql", "mariadb"):
        database = connection.engine.url.database or ""
        name = "migrations:" + hashlib.sha1(database.encode()).hexdigest()
        taken = connection.execute(
            text("SELECT GET_LOCK(:name, :timeout)"),
            {"name": name, "timeout": MYSQL_LOCK_TIMEOUT_SECONDS},
        ).scalar()
        if taken != 1:
            raise CommandError(
                f"Another process has held the migration lock for {MYSQL_LOCK_TIMEOUT_SECONDS}"
                " seconds: wait for it to finish, or end its session, then run this again"
            )
        release = text("SELECT RELEASE_LOCK(:name)").bindparams(name=name)
    else:
        yield
        return
    # End the transaction that the lock query began, or Alembic would take it for the
    # caller's and never commit the migrations.
    connection.commit()
    try:
        yield
    finally:
        with suppress(SQLAlchemyError):  # closing the connection releases the lock anyway
            connection.execute(release)
            connection.commit()


def explain_failure(error: BaseException, dialect: str) -> str | None:
    """One line for a revision that raised: which one, why, and what state it left behind.

    None when no revision file raised (an error in Alembic or env.py keeps its traceback).
    """
    revision = _failed_revision(error)
    if revision is None:
        return None
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()
    where = f"Revision {revision['revision']} ({Path(revision['__file__']).name}) failed"
    what = f"{type(error).__name__}: {reason[0] if reason else ''}"
    if dialect in ("mysql", "mariadb"):
        state = (
            "MySQL commits each DDL statement at once, so the statements of this revision that"
            " ran before the failure stay applied, while `alembic current` still shows the"
            " revision before it; see 'When a migration fails on MySQL' in the README"
        )
    else:
        state = "it was rolled back: the database is as it was before this command"
    return f"{where}: {what}. {state}. (Run alembic with --raiseerr for the traceback.)"


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
