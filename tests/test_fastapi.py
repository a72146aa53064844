"""web_framework=fastapi: the app runs for real under uvicorn, on every backend, sync and async,
and replicas starting together migrate once (upgrade) or wait for `db upgrade` (check)."""

import json
import re
import signal
import socket
import subprocess
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from .support import Project, Server, project_environment
from .test_questions import RESERVED
from .test_update import commit_all, copier, edit, git, leftovers, new_project
from .test_update import template_repository as release_template
from .test_variants import LIST_IMPORT_NAMES

FASTAPI = {"web_framework": "fastapi"}
VARIANTS = [
    pytest.param(
        database,
        async_engine,
        id=f"{database}-{'async' if async_engine else 'sync'}",
        marks=[pytest.mark.servers] if database != "sqlite" else [],
    )
    for database in ("sqlite", "postgresql", "mysql")
    for async_engine in (False, True)
]
WEB_FILES = [
    "src/my_project/dbkit/web.py",
    "src/my_project/dbkit/startup.py",
    "src/my_project/app.py",
    "src/my_project/routers",
    "tests/test_app.py",
]
# What a clean start and shutdown must never print.
TROUBLE = ("Traceback", "Warning", "ERROR", "never awaited", "Exception")
STARTUP_SECONDS = 120
WEB_PACKAGES = {"fastapi", "uvicorn", "httpx2"}


def fastapi_project(
    rendered: Callable[..., Project], database: str, async_engine: bool
) -> Project:
    return rendered(database=database, async_engine=async_engine, **FASTAPI)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class App:
    """One uvicorn process serving the project's app on a loopback port."""

    process: subprocess.Popen[str]
    port: int

    def request(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        """(status, JSON body); error statuses are answers too."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def ready(self) -> int:
        return self.request("GET", "/health/ready")[0]

    def wait_until_live(self) -> None:
        """Until the lifespan's start-up (migrations included) is done and the port answers."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"uvicorn exited {self.process.returncode}: {self.stop()}")
            try:
                if self.request("GET", "/health/live") == (200, {"status": "alive"}):
                    return
            except OSError:
                pass  # not listening yet: uvicorn opens its port after the start-up
            time.sleep(0.2)
        raise AssertionError(f"uvicorn did not start in {STARTUP_SECONDS} s")

    def stop(self, how: signal.Signals = signal.SIGTERM) -> str:
        """Send the signal, wait for the exit; what the process printed on stderr."""
        if self.process.poll() is None:
            self.process.send_signal(how)
        _, stderr = self.process.communicate(timeout=60)
        return stderr


@contextmanager
def serving(project: Project, database_url: str, **env: str) -> Iterator[App]:
    """uvicorn started as a user starts it (no `uv run`), stopped at the end whatever happens."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(project.path / ".venv/bin/uvicorn"),
            f"{project.package}.app:app",
            "--port",
            str(port),
        ],
        cwd=project.path,
        env=project_environment(DATABASE_URL=database_url, **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    app = App(process, port)
    try:
        yield app
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.parametrize(("database", "async_engine"), VARIANTS)
def test_the_project_lints_and_passes_its_app_tests(
    rendered: Callable[..., Project],
    request: pytest.FixtureRequest,
    database: str,
    async_engine: bool,
) -> None:
    """The project's own tests (test_app.py included) pass, on the database it deploys on:
    a temporary SQLite file, or scratch databases on the server TEST_DATABASE_URL names."""
    project = fastapi_project(rendered, database, async_engine)
    assert WEB_PACKAGES <= dependencies(project)
    project.run("ruff", "check", ".")
    project.run("ruff", "format", "--check", ".")
    env = {}
    if database != "sqlite":
        server = request.getfixturevalue(database)
        admin = server.url(server.admin.database)
        env["TEST_DATABASE_URL"] = admin.render_as_string(hide_password=False)
    result = project.run("pytest", "-v", "-p", "no:cacheprovider", env=env, check=False)
    assert result.returncode == 0, f"{result.stdout}{result.stderr}"
    assert "SKIPPED" not in result.stdout, result.stdout
    for name in ("readiness_waits_for_the_migrations", "the_app_migrates_on_start"):
        assert f"test_app.py::test_{name} PASSED" in result.stdout, result.stdout
    imports = json.loads(project.run("python", "-c", LIST_IMPORT_NAMES).stdout)
    unreserved = set(imports) - {project.package} - set(RESERVED["installed"])
    unreserved -= set(RESERVED["stdlib"])
    assert not unreserved, f"add to includes/reserved-package-names.yml: {sorted(unreserved)}"


@pytest.mark.parametrize(("database", "async_engine"), VARIANTS)
def test_uvicorn_waits_for_db_upgrade_serves_and_shuts_down_cleanly(
    rendered: Callable[..., Project], database: str, database_url: str, async_engine: bool
) -> None:
    project = fastapi_project(rendered, database, async_engine)
    with serving(project, database_url, MIGRATE_ON_START="check") as app:
        app.wait_until_live()
        status, body = app.request("GET", "/health/ready")
        assert status == 503 and "db upgrade" in body["reason"], body
        project.run("my-project", "db", "upgrade", env={"DATABASE_URL": database_url})
        assert app.ready() == 200

        team = {"name": "Preventers", "headquarters": "Sharp Tower"}
        status, created_team = app.request("POST", "/teams", team)
        assert status == 201 and created_team["name"] == "Preventers", created_team
        hero = {"name": "Deadpond", "secret_name": "Dive Wilson", "age": 30}
        status, created = app.request("POST", "/heroes", {**hero, "team_id": created_team["id"]})
        assert status == 201, created
        status, read = app.request("GET", f"/heroes/{created['id']}")
        assert status == 200 and read == created and read["team_id"] == created_team["id"]
        assert app.request("GET", f"/teams/{created_team['id']}") == (200, created_team)
        assert app.request("GET", "/heroes/999")[0] == 404

        how = signal.SIGINT if async_engine else signal.SIGTERM
        stderr = app.stop(how)
        # uvicorn shuts down, then ends by the signal it caught (SIGINT: Python exits 0).
        assert app.process.returncode in (0, -how), stderr
    assert "Application shutdown complete." in stderr, stderr
    assert not [word for word in TROUBLE if word in stderr], stderr


def start_replicas(stack: ExitStack, project: Project, database_url: str, **env: str) -> list[App]:
    """Three replicas started at once; each is live once its start-up is over."""
    apps = [stack.enter_context(serving(project, database_url, **env)) for _ in range(3)]
    for app in apps:
        app.wait_until_live()
    return apps


def query(server: Server, database: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(server.admin.set(database=database), poolclass=sa.NullPool)
    with engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(sql)]


@pytest.fixture
def replica_project(
    rendered: Callable[..., Project], tmp_path: Path, async_engine: bool
) -> Project:
    """A PostgreSQL project with a slow revision that counts its runs."""
    project = fastapi_project(rendered, "postgresql", async_engine).copy(tmp_path / "p")
    project.add_slow_counted_revision()
    return project


@pytest.mark.servers
@pytest.mark.parametrize("async_engine", [False, True], ids=["sync", "async"])
def test_replicas_that_migrate_on_start_apply_each_revision_once(
    replica_project: Project, postgresql: Server
) -> None:
    with postgresql.scratch_database() as name, ExitStack() as stack:
        url = postgresql.url(name).render_as_string(hide_password=False)
        apps = start_replicas(stack, replica_project, url)  # MIGRATE_ON_START unset: upgrade
        assert [app.ready() for app in apps] == [200] * 3
        assert query(postgresql, name, "SELECT count(*) FROM runs") == [(1,)]
        head = replica_project.alembic("heads", env={"DATABASE_URL": url}).stdout.split()[0]
        assert query(postgresql, name, "SELECT version_num FROM alembic_version") == [(head,)]
        for app in apps:
            stderr = app.stop()
            assert "Application shutdown complete." in stderr and "Traceback" not in stderr


@pytest.mark.servers
@pytest.mark.parametrize("async_engine", [True], ids=["async"])
def test_check_only_replicas_stay_unready_until_db_upgrade(
    replica_project: Project, postgresql: Server
) -> None:
    with postgresql.scratch_database() as name, ExitStack() as stack:
        url = postgresql.url(name).render_as_string(hide_password=False)
        apps = start_replicas(stack, replica_project, url, MIGRATE_ON_START="check")
        assert [app.ready() for app in apps] == [503] * 3
        assert (
            query(postgresql, name, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            == []
        )
        replica_project.run("my-project", "db", "upgrade", env={"DATABASE_URL": url})
        assert [app.ready() for app in apps] == [200] * 3
        assert query(postgresql, name, "SELECT count(*) FROM runs") == [(1,)]


def test_a_bad_migrate_on_start_value_is_one_line(rendered: Callable[..., Project]) -> None:
    project = fastapi_project(rendered, "sqlite", False)
    result = project.command(
        ".venv/bin/uvicorn",
        "my_project.app:app",
        env={"MIGRATE_ON_START": "sometimes"},
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "MIGRATE_ON_START='sometimes' is not a start-up mode: set it to upgrade (migrate at"
        " start, the default) or check (only check; run `my-project db upgrade` first)"
    ]


def test_without_fastapi_the_project_has_no_web_app(rendered: Callable[..., Project]) -> None:
    default, explicit = rendered(), rendered(web_framework="none")
    for project in (default, explicit):
        assert not [name for name in WEB_FILES if (project.path / name).exists()]
        assert not WEB_PACKAGES & dependencies(project)
        sources = [p.read_text() for p in (project.path / "src").rglob("*.py")]
        assert not [source for source in sources if "from fastapi" in source]
    assert "web_framework: none" in (explicit.path / ".copier-answers.yml").read_text()


def dependencies(project: Project) -> set[str]:
    """The distribution names that pyproject.toml asks for, dev group included."""
    pyproject = tomllib.loads((project.path / "pyproject.toml").read_text())
    requirements = [*pyproject["project"]["dependencies"], *pyproject["dependency-groups"]["dev"]]
    return {re.split(r"[\[<>=]", requirement)[0] for requirement in requirements}


@pytest.mark.slow
def test_an_update_keeps_the_users_app_and_never_adds_one(tmp_path: Path) -> None:
    template = release_template(tmp_path / "template")
    with_app = new_project(template, tmp_path / "with-app", "-d", "web_framework=fastapi")
    without = new_project(template, tmp_path / "without")
    package = with_app.path / "src/my_project"
    edit(package / "app.py", "    return app\n", '    app.title = "Heroes"\n    return app\n')
    edit(package / "routers/heroes.py", '"/heroes/{hero_id}"', '"/hero/{hero_id}"')
    (package / "routers/villains.py").write_text('"""Villains."""\n')
    commit_all(with_app.path, "our app")
    users = {p: p.read_text() for p in [package / "app.py", *package.glob("routers/*.py")]}

    machinery = template / "template/{{ package_folder }}"
    startup = next((machinery / "dbkit").glob("*startup.py*"))
    edit(startup, "log = logging", "# Improved in 1.1.0.\nlog = logging")
    edit(next(machinery.glob("*app.py*")), "def create_app", "# Template 1.1.0.\ndef create_app")
    commit_all(template, "release 1.1.0")
    git(template, "tag", "1.1.0")

    for project in (with_app, without):
        copier(project.path, "update", "--defaults")
        assert leftovers(project.path) == []
    assert "# Improved in 1.1.0." in (package / "dbkit/startup.py").read_text()
    assert {p: p.read_text() for p in users} == users
    assert not [name for name in WEB_FILES if (without.path / name).exists()]
    assert not WEB_PACKAGES & dependencies(without)

    commit_all(with_app.path, "update to 1.1.0")
    copier(with_app.path, "recopy", "--defaults", "--overwrite")
    assert {p: p.read_text() for p in users} == users
