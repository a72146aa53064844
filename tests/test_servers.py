"""PostgreSQL and MariaDB, sync and async: migrations against the real servers, hostile URLs,
failures halfway and concurrent upgrades."""

import os
import re
import shlex
import shutil
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from .support import PASSWORD, Project, Server, project_environment

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
        assert "each DDL statement committed itself" in message


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
        left = scratch_databases_left(server, list_scratch, set(before))
        assert not left, f"{kind}: the project's tests left {left} on the server"


def scratch_databases_left(server: Server, list_scratch: str, before: set) -> set:
    """The scratch databases made since before that are still there: other tests that run the
    project's tests on this server at the same time drop theirs when they end, so a database
    is left behind only if it is still there once they are done (a bounded wait)."""
    deadline = time.monotonic() + 180
    while True:
        left = set(query(server, server.admin.database, list_scratch)) - before
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(2)


# Secrets: no password in any output, whatever the URL form and whatever goes wrong.

# Every form in which the password can be written: escaped in the user part, in the query
# (escaped, raw, any case of the key), and read from .env instead of the environment.
USERINFO = "{scheme}://{user}:{escaped}@{host}/{database}{query}"
QUERY = "{scheme}://{user}@{host}/{database}?password={escaped}{query_more}"
URL_FORMS = {
    "userinfo": (USERINFO, False),
    "query": (QUERY, False),
    "query raw": ("{scheme}://{user}@{host}/{database}?password={raw}{query_more}", False),
    "query key in capitals": (QUERY.replace("?password=", "?PassWord="), False),
    "dotenv userinfo": (USERINFO, True),
    "dotenv query": (QUERY, True),
}
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
PASSWORD_FORMS = {
    PASSWORD,
    ESCAPED,
    urllib.parse.quote_plus(PASSWORD),
    "ss%w:rd",  # a part of the password, as a half-done masking would leave it
    "ss%25w%3Ard",
}


def leaks(text: str) -> list[str]:
    return [form for form in PASSWORD_FORMS if form in text]


def files_with_the_password(root: Path, written_by_the_test: Path | None) -> list[str]:
    """Files under root (the project; not its .venv) that hold a form of the password."""
    found = []
    for path in root.rglob("*"):
        if ".venv" in path.parts or not path.is_file() or path == written_by_the_test:
            continue
        if leaks(path.read_bytes().decode(errors="replace")):
            found.append(str(path.relative_to(root)))
    return found


@pytest.mark.parametrize("form", list(URL_FORMS))
@pytest.mark.parametrize(("database", "async_engine"), SERVER_PROJECTS)
def test_no_password_in_any_output(
    project: Project, server: Server, scratch: str, database: str, form: str
) -> None:
    """Every error path, and the paths that work, with the password in this form."""
    template, in_dotenv = URL_FORMS[form]
    del project.env["DATABASE_URL"]
    dotenv = project.path / ".env"
    host = f"{server.admin.host}:{server.admin.port or DEFAULT_PORTS[database]}"
    fields = {"raw": PASSWORD, "escaped": ESCAPED, "scheme": database, "database": scratch}

    def url(**changes: str) -> str:
        query = changes.pop("query", "")
        values = {**fields, "host": host, "query": f"?{query}" if query else ""}
        values = {**values, "query_more": f"&{query}" if query else "", **changes}
        return template.format(**values)

    outputs = []

    def run(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
        if in_dotenv:
            dotenv.write_text(f"DATABASE_URL={database_url}\n")
            environment = {}
        else:
            environment = {"DATABASE_URL": database_url}
        args = ("my-project", *args) if args[0] == "db" else ("alembic", *args)
        result = project.run(*args, env=environment, check=False)
        outputs.append((args, output(result)))
        return result

    with server.scratch_user(scratch) as user:
        fields["user"] = user
        # The drivers take only password=, and an @ left raw ends the user part early.
        works = form not in ("query key in capitals", "query raw")
        upgrade = run("upgrade", "head", database_url=url())
        assert (upgrade.returncode == 0) == works, output(upgrade)
        run("current", "-v", database_url=url())
        run("db", "current", "-v", database_url=url())
        run("upgrade", "head", "--sql", database_url=url())
        run("db", "upgrade", "--sqll", database_url=url())  # a mistyped option
        run("current", database_url=url(query="bogus=1"))  # an option the driver refuses
        run("db", "current", database_url=url(query="bogus=1"))
        run("db", "upgrade", database_url=url(host="127.0.0.1:1"))  # nothing listens there
        run("current", database_url=url(user="nobody"))  # credentials the server refuses
        run("current", database_url=url(scheme=f"{database}+nosuchdriver"))
        run("db", "current", database_url=url(database=""))
        project.add_revision("fails", upgrade='op.execute("SELECT * FROM no_such_table")')
        failing = run("upgrade", "head", database_url=url())
        assert failing.returncode != 0
        run("db", "upgrade", database_url=url())
        run("--raiseerr", "upgrade", "head", database_url=url())  # the traceback too
        run("db", "--raiseerr", "upgrade", database_url=url())
        if not in_dotenv:  # the project's own tests read TEST_DATABASE_URL from the environment
            # A server URL on which the user cannot make databases: the header of the run and
            # the failure both name the server.
            tests = project.run(
                "pytest",
                "-x",
                "-p",
                "no:cacheprovider",
                env={"TEST_DATABASE_URL": url()},
                check=False,
            )
            assert "migration tests: " in tests.stdout and tests.returncode != 0
            outputs.append((("pytest",), output(tests)))
    leaked = [(args, line) for args, text in outputs for line in text.splitlines() if leaks(line)]
    assert not leaked, leaked
    assert files_with_the_password(project.path, dotenv if in_dotenv else None) == []


# A failed revision: what survives is what the message and the README say.


def readme_section_named_in(message: str, project: Project) -> str:
    """The README section that the failure message points to; it must exist."""
    (section,) = re.findall(r'see "([^"]+)" in README\.md', message)
    headings = re.findall(r"^#+ (.+)$", (project.path / "README.md").read_text(), re.M)
    assert section in headings, (section, headings)
    return section


def revision_id(path: Path) -> str:
    return path.name.split("-")[1].split("_")[0]


@pytest.mark.parametrize("async_engine", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("database", ["mysql"])
def test_what_a_failed_revision_leaves_on_mysql(
    project: Project, server: Server, scratch: str
) -> None:
    project.alembic("upgrade", "head")
    good = project.add_revision(
        "good",
        upgrade='op.create_table("gadget", sa.Column("id", sa.Integer, primary_key=True))',
        downgrade='op.drop_table("gadget")',
    )
    project.add_revision(
        "fails halfway",
        upgrade="""
            op.execute("INSERT INTO team (name, headquarters) VALUES ('before', 'x')")
            op.create_table("sidekick", sa.Column("id", sa.Integer, primary_key=True))
            op.execute("INSERT INTO team (name, headquarters) VALUES ('after', 'x')")
            op.execute("SELECT * FROM no_such_table")
        """,
    )
    result = project.alembic("upgrade", "head", check=False)
    message = output(result)
    assert result.returncode != 0
    assert {"gadget", "sidekick"} <= tables(server, scratch)
    assert query(server, scratch, "SELECT name FROM team") == [("before",)]
    assert project.alembic("current").stdout.split()[0] == revision_id(good)
    for promise in (
        "the revisions before it stay applied",
        "each DDL statement committed itself and the data changes made before it",
        "the data changes after its last DDL statement were rolled back",
        "`alembic current` shows the revision before it",
    ):
        assert promise in message
    section = readme_section_named_in(message, project)
    readme = (project.path / "README.md").read_text().split(f"## {section}\n")[1]
    assert "the data changes made after its last DDL statement are rolled back" in readme


@pytest.mark.parametrize("async_engine", [False], ids=["sync"])
@pytest.mark.parametrize("database", ["postgresql"])
def test_a_failed_revision_on_postgresql_names_a_readme_section(
    project: Project, server: Server, scratch: str
) -> None:
    project.alembic("upgrade", "head")
    project.add_revision(
        "fails",
        upgrade="""
            op.create_table("sidekick", sa.Column("id", sa.Integer, primary_key=True))
            op.execute("SELECT * FROM no_such_table")
        """,
    )
    result = project.alembic("upgrade", "head", check=False)
    assert result.returncode != 0 and "rolled back whole" in output(result)
    assert "sidekick" not in tables(server, scratch)
    readme_section_named_in(output(result), project)


# The migration lock: a process that waits says so, once, and gives up when told.

HOLD_THE_LOCK = {
    False: """
import sys
from my_project.dbkit.database import make_engine
from my_project.dbkit.migrate import migration_lock

with make_engine(migrating=True).connect() as connection, migration_lock(connection):
    print("held", connection.exec_driver_sql(sys.argv[1]).scalar(), flush=True)
    sys.stdin.read()
""",
    True: """
import asyncio, sys
from my_project.dbkit.database import make_engine
from my_project.dbkit.migrate import migration_lock

def hold(connection):
    with migration_lock(connection):
        print("held", connection.exec_driver_sql(sys.argv[1]).scalar(), flush=True)
        sys.stdin.read()

async def main():
    async with make_engine(migrating=True).connect() as connection:
        await connection.run_sync(hold)

asyncio.run(main())
""",
}
SESSION_ID = {"postgresql": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()"}
HOLDER_NAMED = {"postgresql": "pid {id}", "mysql": "connection {id}"}


@pytest.mark.parametrize(("database", "async_engine"), SERVER_PROJECTS)
def test_waiting_for_the_migration_lock_is_said_once_and_limited(
    project: Project, database: str, async_engine: bool
) -> None:
    holder = subprocess.Popen(
        [str(project.path / ".venv/bin/python"), "-c", HOLD_THE_LOCK[async_engine]]
        + [SESSION_ID[database]],
        cwd=project.path,
        env=project_environment(**project.env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        word, session = holder.stdout.readline().split()
        assert word == "held"
        limited = project.alembic(
            "upgrade", "head", env={"MIGRATION_LOCK_TIMEOUT": "1.5"}, check=False
        )
        assert limited.returncode != 0
        waiting = [line for line in limited.stderr.splitlines() if "Waiting for" in line]
        assert len(waiting) == 1, limited.stderr
        assert "Waiting for another migration to finish" in waiting[0]
        assert HOLDER_NAMED[database].format(id=session) in waiting[0]
        assert "FAILED: Waited 1.5 seconds (MIGRATION_LOCK_TIMEOUT)" in output(limited)

        patient = subprocess.Popen(
            [str(project.path / ".venv/bin/alembic"), "upgrade", "head"],
            cwd=project.path,
            env=project_environment(**project.env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)  # it polls the lock many times meanwhile
    finally:
        holder.communicate("")  # the holder lets go
    stdout, stderr = patient.communicate(timeout=120)
    assert patient.returncode == 0, stdout + stderr
    assert stderr.count("Waiting for another migration") == 1, stderr
    assert "Running upgrade  -> " in stderr


# The database that DATABASE_URL names: the README says how to create it.

CLIENT_ENVIRONMENT = {
    "postgresql": lambda admin: (
        {"PGHOST": admin.host, "PGPORT": str(admin.port or 5432)}
        | {"PGUSER": admin.username or "", "PGPASSWORD": admin.password or ""}
    ),
    "mysql": lambda admin: (
        {"MYSQL_HOST": admin.host, "MYSQL_TCP_PORT": str(admin.port or 3306)}
        | {"USER": admin.username or "", "MYSQL_PWD": admin.password or ""}
    ),
}


@pytest.mark.parametrize("database", ["postgresql", "mysql"])
def test_the_readme_says_how_to_create_the_database(
    rendered: Callable[..., Project], server: Server, database: str
) -> None:
    """The command of the README's set-up creates the database that .env.example names, and
    the first upgrade then works there."""
    package = f"tpl_{uuid.uuid4().hex[:8]}"
    project = rendered(database=database, package_name=package)
    readme = (project.path / "README.md").read_text()
    setup = readme.split("## Set up")[1].split("```bash\n")[1].split("```")[0]
    (create,) = [line for line in setup.splitlines() if package in line]
    create = create.split("  #")[0].strip()
    assert create in (project.path / ".env.example").read_text()
    example = next(
        line.split("=", 1)[1]
        for line in (project.path / ".env.example").read_text().splitlines()
        if line.startswith("DATABASE_URL=")
    )
    url = sa.make_url(example)
    assert url.database == package
    client = shlex.split(create)[0]
    if shutil.which(client) is None:
        message = f"the README's command needs {client}, which is not installed here"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        project.command(*shlex.split(create), env=CLIENT_ENVIRONMENT[database](server.admin))
        admin = server.admin.set(drivername=database, database=package)
        database_url = admin.render_as_string(hide_password=False)
        project.alembic("upgrade", "head", env={"DATABASE_URL": database_url})
        assert {"hero", "team"} <= tables(server, package)
    finally:
        server.execute(f"DROP DATABASE IF EXISTS {package}")


# Closing the app's engine.

DISPOSE_AT_THE_END = """
import asyncio
from sqlalchemy import text
from my_project.dbkit.database import dispose_engine, get_engine

async def main():
    async with get_engine().connect() as connection:
        print((await connection.execute(text("SELECT 1"))).scalar())
    await dispose_engine()

asyncio.run(main())
"""


@pytest.mark.parametrize("async_engine", [True], ids=["async"])
@pytest.mark.parametrize("database", ["postgresql", "mysql"])
def test_an_async_script_that_disposes_the_engine_ends_cleanly(project: Project) -> None:
    result = project.run("python", "-c", DISPOSE_AT_THE_END)
    assert result.stdout.split() == ["1"]
    assert result.stderr == ""  # no "Event loop is closed" from connections cleaned up late
