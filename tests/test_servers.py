"""PostgreSQL and MariaDB, sync and async: migrations against the real servers, hostile URLs,
failures halfway and concurrent upgrades."""

import re
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from .support import PASSWORD, Project, Server

pytestmark = pytest.mark.servers

SERVER_PROJECTS = [
    pytest.param(database, async_engine, id=f"{database}-{'async' if async_engine else 'sync'}")
    for database in ("postgresql", "mysql")
    for async_engine in (False, True)
]
DRIVERS = {
    ("postgresql", False): "psycopg",
    ("postgresql", True): "asyncpg",
    ("mysql", False): "pymysql",
    ("mysql", True): "aiomysql",
}
ESCAPED = urllib.parse.quote(PASSWORD, safe="")
# The answers of the projects whose tests run on the servers; FastAPI's also run the app.
PROJECT_TEST_ANSWERS = [
    {"async_engine": async_engine, **web}
    for web in ({}, {"web_framework": "fastapi"})
    for async_engine in (False, True)
]


@pytest.fixture
def server(request: pytest.FixtureRequest, database: str) -> Server:
    return request.getfixturevalue(database)


@pytest.fixture
def scratch(server: Server) -> Iterator[str]:
    with server.scratch_database() as name:
        yield name


@pytest.fixture
def project(
    rendered: Callable[..., Project],
    database: str,
    async_engine: bool,
    server: Server,
    scratch: str,
    tmp_path: Path,
) -> Project:
    """A copy of the project for this server, with DATABASE_URL naming a scratch database."""
    copy = rendered(database=database, async_engine=async_engine).copy(tmp_path / "p")
    copy.env["DATABASE_URL"] = server.url(scratch).render_as_string(hide_password=False)
    return copy


def inspect_database(server: Server, name: str) -> sa.Engine:
    """An engine of the test's own, to look at what the project did."""
    return sa.create_engine(server.admin.set(database=name), poolclass=sa.NullPool)


def tables(server: Server, name: str) -> set[str]:
    with inspect_database(server, name).connect() as connection:
        return set(sa.inspect(connection).get_table_names())


def query(server: Server, name: str, sql: str) -> list[tuple]:
    """Run sql in database name; the rows it returns, if any."""
    with inspect_database(server, name).begin() as connection:
        result = connection.exec_driver_sql(sql.replace("%", "%%"))  # % is a placeholder
        return [tuple(row) for row in result] if result.returns_rows else []


def output(result: object) -> str:
    return f"{result.stdout}{result.stderr}"


@pytest.mark.parametrize(("database", "async_engine"), SERVER_PROJECTS)
def test_migrations_round_trip_with_rows(project: Project, server: Server, scratch: str) -> None:
    project.alembic("upgrade", "head")
    assert tables(server, scratch) == {"alembic_version", "hero", "team"}
    assert "No new upgrade operations detected" in project.alembic("check").stdout
    query(server, scratch, "INSERT INTO team (name, headquarters) VALUES ('Z', 'Sharp Tower')")
    query(server, scratch, "INSERT INTO hero (name, secret_name, team_id) VALUES ('D', 'Dive', 1)")

    models = project.path / "src" / project.package / "models.py"
    models.write_text(
        models.read_text().replace(
            "    age: int | None = Field(default=None, index=True)\n",
            "    age: int | None = Field(default=None, index=True)\n"
            "    power: str | None = Field(default=None, max_length=50)\n",
        )
    )
    project.alembic("revision", "--autogenerate", "-m", "add power")
    project.alembic("upgrade", "head")
    assert "No new upgrade operations detected" in project.alembic("check").stdout
    select_heroes = "SELECT name, power FROM hero"
    assert query(server, scratch, select_heroes) == [("D", None)]
    project.alembic("downgrade", "-1")
    assert query(server, scratch, "SELECT name FROM hero") == [("D",)]
    project.alembic("upgrade", "head")
    assert query(server, scratch, select_heroes) == [("D", None)]
    project.alembic("downgrade", "base")
    assert tables(server, scratch) == {"alembic_version"}
    project.alembic("upgrade", "head")
    assert "No new upgrade operations detected" in project.alembic("check").stdout


@pytest.mark.parametrize(("database", "async_engine"), SERVER_PROJECTS)
def test_url_forms_with_a_password_that_needs_escaping(
    project: Project, server: Server, scratch: str, database: str, async_engine: bool
) -> None:
    driver = DRIVERS[database, async_engine]
    schemes = {
        "postgresql": ["postgresql", "postgres", "POSTGRES", f"postgresql+{driver}"],
        "mysql": ["mysql", "mariadb", "MySQL", f"mysql+{driver}", f"mariadb+{driver}"],
    }[database]
    # What hosting providers append; asyncpg calls it ssl (this server speaks no TLS).
    options = {"postgresql": "?sslmode=disable", "mysql": "?charset=utf8mb4"}[database]
    with server.scratch_user(scratch) as user:
        host = f"{server.admin.host}:{server.admin.port or ''}".rstrip(":")
        for number, scheme in enumerate(schemes):
            url = f"{scheme}://{user}:{ESCAPED}@{host}/{scratch}{options * (number % 2)}"
            command = ("upgrade", "head") if number == 0 else ("current",)
            result = project.alembic(*command, env={"DATABASE_URL": url})
            assert PASSWORD not in output(result) and ESCAPED not in output(result)
        (revision,) = query(server, scratch, "SELECT version_num FROM alembic_version")
        assert revision[0] in result.stdout


def bad_urls(database: str, async_engine: bool) -> list:
    """(DATABASE_URL, what the one line must say) for URLs a project cannot use."""
    other_driver = DRIVERS[database, not async_engine]
    cases = {
        "malformed": ("{scheme}//user:{pw}@host/db", "DATABASE_URL is not a database URL"),
        "bad port": ("{scheme}://user:{pw}@host:port/db", "DATABASE_URL is not a database URL"),
        "unknown scheme": ("oracle://user:{pw}@host/db", "DATABASE_URL starts with oracle://"),
        "driver not installed": (
            "{scheme}+{missing}://user:{pw}@{host}/db",
            "which is not installed: write {scheme}://",
        ),
        "engine kind": ("{scheme}+{other}://user:{pw}@{host}/db", "{scheme}://"),
        "unreachable": ("{scheme}://user:{pw}@127.0.0.1:1/db", "Cannot connect to the database"),
        "credentials": ("{scheme}://nobody:{pw}@{host}/db", "Cannot connect to the database"),
        # An @ left unescaped: the rest of the password would be taken for the host.
        "unescaped @": ("{scheme}://user:p@ss@{host}/db", "has an @ after the password's end"),
        "no database": ("{scheme}://user:{pw}@{host}", "names no database"),
        "port": ("{scheme}://user:{pw}@127.0.0.1:99999/db", "has port 99999"),
        "unknown option": ("{scheme}://user:{pw}@{host}/db?bogus=1", "Cannot connect to the"),
    }
    missing = {"postgresql": "psycopg2", "mysql": "mysqldb"}[database]
    return [
        pytest.param(
            database, async_engine, template, expected, missing, other_driver, id=f"{name}"
        )
        for name, (template, expected) in cases.items()
    ]


@pytest.mark.parametrize(
    ("database", "async_engine", "template", "expected", "missing", "other"),
    [case for database, async_engine in DRIVERS for case in bad_urls(database, async_engine)],
)
def test_a_bad_url_gets_one_line_without_the_password(
    rendered: Callable[..., Project],
    server: Server,
    database: str,
    async_engine: bool,
    template: str,
    expected: str,
    missing: str,
    other: str,
) -> None:
    project = rendered(database=database, async_engine=async_engine)
    host = f"{server.admin.host}:{server.admin.port}" if server.admin.port else server.admin.host
    fields = {"scheme": database, "pw": ESCAPED, "host": host, "missing": missing, "other": other}
    url = template.format(**fields)
    result = project.alembic("upgrade", "head", env={"DATABASE_URL": url}, check=False)
    lines = [line for line in output(result).splitlines() if line.strip()]
    assert result.returncode != 0
    assert len(lines) == 1, lines
    assert lines[0].startswith("FAILED: ")
    assert expected.format(**fields) in lines[0]
    assert PASSWORD not in lines[0] and ESCAPED not in lines[0]
    assert "p%40" not in lines[0] and "p@ss" not in lines[0] and "ss@" not in lines[0]


def accepts_any_password(server: Server, user: str, database: str) -> bool:
    probe = sa.create_engine(
        server.admin.set(username=user, password="wrong", database=database),
        poolclass=sa.NullPool,
    )
    try:
        probe.connect().close()
    except sa.exc.OperationalError:
        return False
    return True


@pytest.mark.parametrize(("database", "async_engine"), SERVER_PROJECTS)
def test_a_wrong_password_gets_one_line(
    project: Project, server: Server, scratch: str, database: str
) -> None:
    with server.scratch_user(scratch) as user:
        wrong = (
            f"{database}://{user}:not-{ESCAPED}@{server.admin.host}:{server.admin.port}/{scratch}"
        )
        if accepts_any_password(server, user, scratch):
            # Trust authentication (this machine's PostgreSQL): the server still refuses a role
            # that may not log in, through the same path as a wrong password.
            server.execute(f"ALTER ROLE {user} NOLOGIN")
        result = project.alembic("current", env={"DATABASE_URL": wrong}, check=False)
    lines = [line for line in output(result).splitlines() if line.strip()]
    assert result.returncode != 0 and len(lines) == 1, lines
    assert lines[0].startswith("FAILED: Cannot connect to the database")
    assert ESCAPED not in lines[0] and PASSWORD not in lines[0]


@pytest.mark.parametrize(("database", "async_engine"), SERVER_PROJECTS)
def test_a_migration_that_fails_halfway(
    project: Project, server: Server, scratch: str, database: str
) -> None:
    project.alembic("upgrade", "head")
    before = project.alembic("current").stdout.split()[0]
    failing = project.add_revision(
        "fails halfway",
        upgrade="""
            op.create_table("sidekick", sa.Column("id", sa.Integer, primary_key=True))
            op.add_column("hero", sa.Column("cape", sa.String(20)))
            op.execute("SELECT * FROM no_such_table")
        """,
    )
    result = project.alembic("upgrade", "head", check=False)
    assert result.returncode != 0
    message = output(result)
    assert "Traceback" not in message
    assert f"({failing.name}) failed" in message and "no_such_table" in message
    assert project.alembic("current").stdout.split()[0] == before
    if database == "postgresql":
        # Transactional DDL: the whole upgrade is rolled back.
        assert tables(server, scratch) == {"alembic_version", "hero", "team"}
        assert "rolled back" in message
    else:
        # MySQL commits each DDL statement: what ran before the failure stays, as the error says.
        assert "sidekick" in tables(server, scratch)
        assert "MySQL commits each DDL statement" in message


@pytest.mark.parametrize(("database", "async_engine"), SERVER_PROJECTS)
def test_concurrent_upgrades_apply_each_revision_once(
    project: Project, server: Server, scratch: str
) -> None:
    project.add_slow_counted_revision()
    results = project.concurrently("alembic", "upgrade", "head")
    assert [r.returncode for r in results] == [0] * 4, [r.stderr for r in results]
    (head,) = re.findall(r"-> (\w+), slow and counted", "".join(r.stderr for r in results))
    assert query(server, scratch, "SELECT version_num FROM alembic_version") == [(head,)]
    assert query(server, scratch, "SELECT count(*) FROM runs") == [(1,)]


@pytest.mark.parametrize("async_engine", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("database", ["postgresql"])
def test_concurrent_upgrades_with_an_index_built_concurrently(
    project: Project, server: Server, scratch: str
) -> None:
    """CREATE INDEX CONCURRENTLY waits for every open transaction: processes that waited for
    the lock inside one would deadlock with it."""
    project.add_revision(
        "index concurrently",
        upgrade="""
            op.create_table(
                "gizmo", sa.Column("id", sa.Integer, primary_key=True), sa.Column("n", sa.Integer)
            )
            with op.get_context().autocommit_block():
                op.execute("SELECT pg_sleep(1)")
                op.create_index("ix_gizmo_n", "gizmo", ["n"], postgresql_concurrently=True)
        """,
        downgrade='op.drop_table("gizmo")',
    )
    results = project.concurrently("alembic", "upgrade", "head")
    assert [r.returncode for r in results] == [0] * 4, [r.stderr for r in results]
    assert "".join(r.stderr for r in results).count("index concurrently") == 1
    assert query(
        server, scratch, "SELECT indexname FROM pg_indexes WHERE indexname = 'ix_gizmo_n'"
    )


@pytest.mark.parametrize("database", ["postgresql", "mysql"])
def test_the_project_tests_run_on_the_server(
    rendered: Callable[..., Project], server: Server, database: str
) -> None:
    """TEST_DATABASE_URL: the project's tests make and drop their own databases there.

    Sync and async, without and with FastAPI, run one after the other in this one test: each
    looks for scratch databases left on the server, which a concurrent run would make.
    (xdist_group cannot serialise them: pytest 9.2 ignores the node id that pytest-xdist 3.8
    rewrites for it.)"""
    list_scratch = {
        "postgresql": "SELECT datname FROM pg_database WHERE datname LIKE 'test\\_%'",
        "mysql": "SHOW DATABASES LIKE 'test\\_%'",
    }[database]
    admin = server.url(server.admin.database)
    for answers in PROJECT_TEST_ANSWERS:
        project = rendered(database=database, **answers)
        before = query(server, server.admin.database, list_scratch)
        result = project.run(
            "pytest",
            "-p",
            "no:cacheprovider",
            env={"TEST_DATABASE_URL": admin.render_as_string(hide_password=False)},
            check=False,
        )
        kind = f"{database}, {answers}"
        assert result.returncode == 0, f"{kind}\n{result.stdout}{result.stderr}"
        assert f"scratch databases on {admin.drivername}" in result.stdout, result.stdout
        assert "skipped" not in result.stdout and "error" not in result.stdout, result.stdout
        left = set(query(server, server.admin.database, list_scratch)) - set(before)
        assert not left, f"{kind}: the project's tests left {left} on the server"
