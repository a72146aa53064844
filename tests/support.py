"""Render the template as a user would and run what it renders.

Projects are rendered from this checkout with vcs_ref="HEAD" (Copier renders the latest tag
otherwise), synced with uv into their own .venv, and driven through `uv run`.
"""

import os
import shutil
import subprocess
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from copier import run_copy
from sqlalchemy.engine import URL

TEMPLATE = Path(__file__).resolve().parents[1]
PASSWORD = "p@ss%w:rd/x"  # needs percent-escaping in a URL: %40 %25 %3A %2F
SERVERS = {
    "postgresql": ("TEST_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    "mysql": ("TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/mysql"),
}
# The template's environment must not leak into the rendered project's commands.
LEAKY_VARIABLES = {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "DATABASE_URL"}
LEAKY_VARIABLES |= {"TEST_DATABASE_URL", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER"}
# Python caches bytecode on a user's machine; without it every command recompiles SQLAlchemy.
LEAKY_VARIABLES |= {"PYTHONDONTWRITEBYTECODE"}
# CI=true asks the template's tests for every server; a rendered project's own tests read it
# as their CI's, so the tests that mean it (the project on its CI) set it themselves.
LEAKY_VARIABLES |= {"CI"}
# Who commits in the repositories that the tests make.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def render(destination: Path, **answers: object) -> Path:
    """Copy the template's work tree to destination; unanswered questions take their defaults."""
    run_copy(str(TEMPLATE), destination, data=answers, defaults=True, vcs_ref="HEAD", quiet=True)
    return destination


def project_environment(**extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in LEAKY_VARIABLES}
    environment.update(NO_COLOR="1", UV_NO_PROGRESS="1", COLUMNS="200", **extra)
    return environment


@dataclass
class Project:
    """A rendered project, run through `uv run` in its own environment."""

    path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def package(self) -> str:
        return next(p.name for p in (self.path / "src").iterdir() if p.is_dir())

    def sync(self) -> None:
        self.command("uv", "sync", "--quiet")

    def run(self, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return self.command("uv", "run", "--quiet", *args, **kwargs)

    def alembic(self, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return self.run("alembic", *args, **kwargs)

    def command(
        self,
        *args: str,
        check: bool = True,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 600,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            args,
            cwd=cwd or self.path,
            env=project_environment(**{**self.env, **(env or {})}),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
        return result

    def copy(self, destination: Path) -> "Project":
        """An independent copy (its own .venv, synced from the same lock file)."""
        ignore = shutil.ignore_patterns(".venv", "*.db", "__pycache__", ".pytest_cache")
        shutil.copytree(self.path, destination, ignore=ignore)
        copied = Project(destination, dict(self.env))
        copied.sync()
        return copied

    def concurrently(
        self, *args: str, processes: int = 4, env: dict[str, str] | None = None
    ) -> list[subprocess.CompletedProcess[str]]:
        """Start the same command in several processes at once (replicas starting together)."""
        executable = self.path / ".venv" / "bin" / args[0]
        started = [
            subprocess.Popen(
                [str(executable), *args[1:]],
                cwd=self.path,
                env=project_environment(**{**self.env, **(env or {})}),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(processes)
        ]
        results = []
        for process in started:
            stdout, stderr = process.communicate(timeout=600)
            results.append(
                subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
            )
        return results

    def add_revision(self, message: str, upgrade: str, downgrade: str = "pass") -> Path:
        """Write a hand-made revision (`alembic revision -m`) with these function bodies."""
        before = set(self.revisions())
        self.alembic("revision", "-m", message)
        (name,) = set(self.revisions()) - before
        path = self.path / "migrations" / "versions" / name
        source = path.read_text()
        for function, body in (("upgrade", upgrade), ("downgrade", downgrade)):
            source = source.replace(
                f"def {function}() -> None:\n    pass",
                f"def {function}() -> None:\n"
                + textwrap.indent(textwrap.dedent(body).strip(), "    "),
            )
        path.write_text(source)
        return path

    def add_slow_counted_revision(self) -> Path:
        """A revision that takes a second and records each run in table runs: concurrent
        upgrades that were not serialised would overlap in it and record it twice."""
        return self.add_revision(
            "slow and counted",
            upgrade="""
                import time

                op.create_table("runs", sa.Column("id", sa.Integer, primary_key=True))
                time.sleep(1)
                op.execute("INSERT INTO runs (id) VALUES (1)")
            """,
            downgrade='op.drop_table("runs")',
        )

    def revisions(self) -> list[str]:
        return sorted(p.name for p in (self.path / "migrations" / "versions").glob("*.py"))


# Database servers -------------------------------------------------------------------------


@dataclass
class Server:
    """A database server reachable with an admin URL, on which tests make scratch databases."""

    kind: str
    admin: URL

    def execute(self, *statements: str) -> None:
        engine = sa.create_engine(self.admin, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
        with engine.connect() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement.replace("%", "%%"))  # % is a placeholder
        engine.dispose()

    def url(self, database: str, user: str | None = None, password: str | None = None) -> URL:
        """A bare-scheme URL, as users write it (the project picks its driver)."""
        url = self.admin.set(drivername=self.kind, database=database)
        return url.set(username=user, password=password) if user else url

    @contextmanager
    def scratch_database(self) -> Iterator[str]:
        name = f"tpl_{uuid.uuid4().hex[:12]}"
        self.execute(f"CREATE DATABASE {name}")
        try:
            yield name
        finally:
            force = " WITH (FORCE)" if self.kind == "postgresql" else ""
            self.execute(f"DROP DATABASE IF EXISTS {name}{force}")

    @contextmanager
    def scratch_user(self, database: str, password: str = PASSWORD) -> Iterator[str]:
        """A user that owns database and logs in with a password that needs escaping."""
        user = f"tpl_user_{uuid.uuid4().hex[:8]}"
        quoted = password.replace("'", "''")
        if self.kind == "postgresql":
            self.execute(
                f"CREATE ROLE {user} LOGIN PASSWORD '{quoted}'",
                f"ALTER DATABASE {database} OWNER TO {user}",
            )
            drop = [f"REASSIGN OWNED BY {user} TO CURRENT_USER", f"DROP OWNED BY {user}"]
        else:
            self.execute(
                f"CREATE USER '{user}'@'%' IDENTIFIED BY '{quoted}'",
                f"GRANT ALL ON {database}.* TO '{user}'@'%'",
            )
            drop = []
        try:
            yield user
        finally:
            if (
                drop
            ):  # ownership goes back to the admin, in the database where the user owns things
                Server(self.kind, self.admin.set(database=database)).execute(*drop)
            role = user if self.kind == "postgresql" else f"'{user}'@'%'"
            self.execute(
                f"DROP {'ROLE' if self.kind == 'postgresql' else 'USER'} IF EXISTS {role}"
            )


def connect_server(kind: str) -> Server:
    """The server named by TEST_<KIND>_URL (default: this machine's); skip or, in CI, fail."""
    variable, default = SERVERS[kind]
    url = sa.make_url(os.environ.get(variable) or default)
    driver = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}[kind]
    server = Server(kind, url.set(drivername=driver))
    try:
        timeout = {"connect_timeout": 5}
        engine = sa.create_engine(server.admin, connect_args=timeout, poolclass=sa.NullPool)
        with engine.connect():
            pass
    except Exception as error:
        message = (
            f"no {kind} server at {url} ({type(error).__name__}): set {variable} to an"
            " admin URL of a running server"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs every server: {message}")
        pytest.skip(message)
    return server


def without_migration_steps(copier_yml: str) -> str:
    """copier.yml without its `_migrations:` block (the key, and its indented lines): for
    made-up release histories, in which this work tree's own release steps do not belong."""
    lines = copier_yml.splitlines(keepends=True)
    if "_migrations:\n" not in lines:
        return copier_yml
    start = lines.index("_migrations:\n")
    end = start + 1
    while end < len(lines) and (lines[end].startswith(" ") or not lines[end].strip()):
        end += 1
    return "".join(lines[:start] + lines[end:])
