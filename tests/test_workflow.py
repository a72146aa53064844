"""The project's workflow: the `db` command, the guard tests, migrations at start-up, a wheel,
CI and pre-commit."""

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from .support import GIT_IDENTITY, Project
from .test_default_project import HERO_WITH_POWER, add_to_class, tables_of, version_of


def db(project: Project, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """The console script `my-project db ...`, run from a folder deep inside the project."""
    return project.run(
        "my-project", "db", *args, cwd=project.path / "src" / "my_project", **kwargs
    )


def test_db_verbs_from_a_subdirectory(project: Project) -> None:
    database = project.path / "my_project.db"
    db(project, "upgrade")
    (first,) = version_of(database)
    assert f"{first} (head)" in db(project, "current").stdout
    assert f"{first} (head)" in db(project, "heads").stdout
    assert "initial schema" in db(project, "history").stdout
    assert f"Revision ID: {first}" in db(project, "show").stdout
    assert "No new upgrade operations detected" in db(project, "check").stdout

    nothing = db(project, "revision", "nothing changed")
    assert len(project.revisions()) == 1
    assert "no revision written" in nothing.stdout + nothing.stderr

    add_to_class(project.path / "src/my_project/models.py", "Hero", HERO_WITH_POWER)
    assert db(project, "check", check=False).returncode == 1  # models ahead of migrations
    db(project, "revision", "add power")
    (power,) = [name for name in project.revisions() if name.endswith("_add_power.py")]
    assert "add_column" in (project.path / "migrations/versions" / power).read_text()
    db(project, "upgrade")
    assert db(project, "check").returncode == 0

    db(project, "revision", "--empty", "backfill powers")
    assert any(name.endswith("_backfill_powers.py") for name in project.revisions())
    db(project, "upgrade")
    db(project, "downgrade")  # one step back
    db(project, "downgrade", "-1")
    assert version_of(database) == [first]
    assert "ALTER TABLE" in db(project, "upgrade", "--sql").stdout  # printed, not run
    assert version_of(database) == [first]
    db(project, "downgrade", "base")
    assert tables_of(database) == {"alembic_version"}

    # `python -m` is the same command.
    result = project.run(
        "python", "-m", "my_project.dbkit", "db", "current", cwd=project.path / "tests"
    )
    assert result.returncode == 0


def test_db_stamp_adopts_an_existing_database(project: Project) -> None:
    database = project.path / "my_project.db"
    project.run(
        "python",
        "-c",
        "from sqlmodel import SQLModel\n"
        "from my_project.dbkit.tables import load_models\n"
        "from my_project.dbkit.database import make_engine\n"
        "load_models()\n"
        "SQLModel.metadata.create_all(make_engine())\n",
    )
    assert tables_of(database) == {"hero", "team"}  # tables, but no migration history
    db(project, "stamp", "head")
    assert "(head)" in db(project, "current").stdout
    assert "No new upgrade operations detected" in db(project, "check").stdout


def test_db_merge_joins_two_heads(project: Project) -> None:
    (first,) = project.revisions()
    first_id = first.split("-")[1].split("_")[0]
    for branch in ("left", "right"):
        project.alembic("revision", "-m", branch, "--head", first_id, "--splice")
    assert len(db(project, "heads").stdout.strip().splitlines()) == 2
    db(project, "merge", "-m", "merge branches")
    assert len(db(project, "heads").stdout.strip().splitlines()) == 1
    db(project, "upgrade")
    assert "There is one head" in db(project, "merge").stdout


def test_db_failures_are_one_line(project: Project) -> None:
    result = db(project, "upgrade", env={"DATABASE_URL": "nonsense"}, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if line.startswith("FAILED: ")
    ]
    assert "DATABASE_URL is not a database URL" in result.stderr


def test_db_takes_alembics_spellings(project: Project) -> None:
    """-m for the message and -h for help, as alembic users type them."""
    db(project, "revision", "-m", "backfill powers", "--empty")
    assert any(name.endswith("_backfill_powers.py") for name in project.revisions())
    assert "upgrade" in db(project, "-h").stdout
    nameless = db(project, "revision", check=False)
    assert nameless.returncode == 2 and 'db revision "add power"' in nameless.stderr


# The guard tests: they pass on a fresh project, and fail, saying what is wrong, after each of
# the mistakes they are there to catch.


def guard_tests(project: Project) -> subprocess.CompletedProcess[str]:
    return project.run("pytest", "-p", "no:cacheprovider", "--tb=short", check=False)


def test_guard_tests_pass_on_a_fresh_project(rendered: Callable[..., Project]) -> None:
    result = guard_tests(rendered())
    assert result.returncode == 0, result.stdout
    assert "8 passed" in result.stdout  # the guard tests, the safety gate, the start-up


def test_guard_tests_catch_a_field_without_a_migration(project: Project) -> None:
    add_to_class(project.path / "src/my_project/models.py", "Hero", HERO_WITH_POWER)
    result = guard_tests(project)
    assert result.returncode == 1
    assert (
        "FAILED tests/migrations/test_migrations.py::test_models_match_migrations" in result.stdout
    )
    assert "The models and the migrations differ" in result.stdout
    assert "'power'" in result.stdout
    assert "1 failed" in result.stdout


def test_guard_tests_catch_a_downgrade_that_leaves_its_table(project: Project) -> None:
    revision = project.add_revision(
        "add villain",
        upgrade='op.create_table("villain", sa.Column("id", sa.Integer, primary_key=True))',
        downgrade="pass",
    )
    revision_id = revision.name.split("-")[1].split("_")[0]
    result = guard_tests(project)
    assert result.returncode == 1
    assert "FAILED tests/migrations/test_migrations.py::test_stairway" in result.stdout
    assert (
        f"The downgrade of revision {revision_id} ({revision.name}) does not undo its upgrade"
        in result.stdout
    )
    assert "table villain left behind" in result.stdout
    assert "Downgrading to base leaves table villain left behind" in result.stdout


def test_guard_tests_catch_two_heads(project: Project) -> None:
    (first,) = project.revisions()
    first_id = first.split("-")[1].split("_")[0]
    for branch in ("left", "right"):
        project.alembic("revision", "-m", branch, "--head", first_id, "--splice")
    result = guard_tests(project)
    assert result.returncode == 1
    assert "FAILED tests/migrations/test_migrations.py::test_one_head" in result.stdout
    assert "The migrations have 2 heads" in result.stdout
    assert "alembic merge heads" in result.stdout


def test_guard_tests_catch_a_revision_that_loses_rows(project: Project) -> None:
    project.add_revision(
        "rebuild hero",
        upgrade="op.execute('DELETE FROM hero')",
        downgrade="pass",
    )
    result = guard_tests(project)
    assert result.returncode == 1
    assert (
        "FAILED tests/migrations/test_migrations.py::test_values_survive_the_stairway"
        in result.stdout
    )
    assert (
        "Rows are lost in the upgrade to" in result.stdout and "'hero': '1 -> 0'" in result.stdout
    )


def test_guard_tests_fill_a_table_with_a_foreign_key_to_an_older_one(project: Project) -> None:
    project.add_revision(
        "add mission",
        upgrade="""
            op.create_table(
                "mission",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("team_id", sa.Integer, sa.ForeignKey("team.id"), nullable=False),
                sa.Column("title", sa.String(50), nullable=False),
            )
        """,
        downgrade='op.drop_table("mission")',
    )
    project.add_revision("forget missions", upgrade="op.execute('DELETE FROM mission')")
    result = guard_tests(project)
    # The mission row (which needs a team row first) was put in, so its loss is seen.
    assert "Rows are lost in the upgrade to" in result.stdout
    assert "'mission': '1 -> 0'" in result.stdout


@pytest.mark.parametrize(
    ("test_url", "expected"),
    [
        ("postgresql://admin:{pw}@127.0.0.1:1/postgres", "Cannot make a scratch database on"),
        ("postgresql//admin:{pw}@127.0.0.1/postgres", "TEST_DATABASE_URL is not a database URL"),
    ],
    ids=["unreachable", "malformed"],
)
def test_guard_tests_never_print_the_servers_password(
    rendered: Callable[..., Project], test_url: str, expected: str
) -> None:
    password = "s3cret-Pa55"
    project = rendered(database="postgresql")
    env = {"TEST_DATABASE_URL": test_url.format(pw=password)}
    result = project.run("pytest", "-p", "no:cacheprovider", check=False, env=env)
    assert result.returncode != 0
    assert expected in result.stdout
    assert password not in result.stdout + result.stderr


# Migrations at application start.

START = "from my_project.dbkit.migrate import upgrade_to_head; upgrade_to_head(); print('started')"


@pytest.mark.parametrize(
    "database",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.servers)]
    + [pytest.param("mysql", marks=pytest.mark.servers)],
)
def test_four_processes_start_at_once(
    rendered: Callable[..., Project], database: str, database_url: str, tmp_path: Path
) -> None:
    project = rendered(database=database).copy(tmp_path / "p")
    project.add_slow_counted_revision()
    results = project.concurrently("python", "-c", START, env={"DATABASE_URL": database_url})
    assert [r.returncode for r in results] == [0] * 4, [r.stderr for r in results]
    assert "database is locked" not in "".join(r.stderr for r in results)
    check = "from my_project.dbkit.database import make_engine\n" + (
        "with make_engine().connect() as c:\n"
        "    print(c.exec_driver_sql('SELECT count(*) FROM runs').scalar(),"
        " c.exec_driver_sql('SELECT count(*) FROM alembic_version').scalar())\n"
    )
    counts = project.run("python", "-c", check, env={"DATABASE_URL": database_url})
    assert counts.stdout.split() == ["1", "1"]  # the slow revision ran once; one version row


@pytest.mark.parametrize(
    "database",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.servers)]
    + [pytest.param("mysql", marks=pytest.mark.servers)],
)
def test_start_from_inside_a_running_event_loop(
    rendered: Callable[..., Project], database: str, database_url: str
) -> None:
    project = rendered(database=database, async_engine=True)
    script = (
        "import asyncio\n"
        "from my_project.dbkit.migrate import upgrade_to_head\n"
        "from my_project.dbkit.database import get_engine\n"
        "async def startup():\n"
        "    upgrade_to_head()  # an async app's startup hook, loop running\n"
        "    await asyncio.to_thread(upgrade_to_head)  # the non-blocking form\n"
        "    async with get_engine().connect() as connection:\n"
        "        result = await connection.exec_driver_sql('SELECT count(*) FROM hero')\n"
        "        print('heroes', result.scalar())\n"
        "asyncio.run(startup())\n"
    )
    result = project.run("python", "-c", script, env={"DATABASE_URL": database_url})
    assert result.stdout.split() == ["heroes", "0"]


# Deployment: an installed wheel migrates without the checkout.


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.servers)]
)
def test_a_wheel_migrates_without_the_checkout(
    rendered: Callable[..., Project], database: str, database_url: str, tmp_path: Path
) -> None:
    project = rendered(database=database)
    project.command("uv", "build", "--wheel", "--out-dir", str(tmp_path / "dist"))
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    site = tmp_path / "site"  # an image's environment: no alembic.ini, no migrations/ folder
    site.mkdir()
    project.command("uv", "venv", "--quiet", str(site / ".venv"), cwd=site)
    python = str(site / ".venv" / "bin" / "python")
    project.command("uv", "pip", "install", "--quiet", "--python", python, str(wheel), cwd=site)
    env = {"DATABASE_URL": database_url}
    upgrade = project.command(
        str(site / ".venv/bin/my-project"), "db", "upgrade", cwd=site, env=env
    )
    assert "Running upgrade  -> " in upgrade.stderr  # Alembic's own log: the wheel's alembic.ini
    current = project.command(
        str(site / ".venv/bin/my-project"), "db", "current", cwd=site, env=env
    )
    assert "(head)" in current.stdout
    project.command(python, "-c", START, cwd=site, env=env)
    project.command(
        str(site / ".venv/bin/my-project"), "db", "downgrade", "base", cwd=site, env=env
    )
    started = project.command(python, "-c", START, cwd=site, env=env)
    assert started.stdout.strip() == "started"


# CI and pre-commit.


@pytest.mark.parametrize(
    ("database", "service", "image"),
    [
        ("sqlite", None, None),
        ("postgresql", "postgres", "postgres:"),
        ("mysql", "mysql", "mysql:"),
    ],
)
def test_ci_workflow(
    rendered: Callable[..., Project], database: str, service: str | None, image: str | None
) -> None:
    project = rendered(database=database)
    workflow = yaml.safe_load((project.path / ".github/workflows/ci.yml").read_text())
    (job,) = workflow["jobs"].values()
    runs = [step.get("run", "") for step in job["steps"]]
    lint = next(i for i, run in enumerate(runs) if "ruff check" in run)
    tests = [i for i, run in enumerate(runs) if run.startswith("uv run pytest")]
    assert tests and lint < min(tests)
    if service is None:
        assert "services" not in job and len(tests) == 1
        return
    assert job["services"][service]["image"].startswith(image)
    server_step = job["steps"][tests[-1]]
    url = server_step["env"]["TEST_DATABASE_URL"]
    parsed = project.run(
        "python",
        "-c",
        "from my_project.dbkit.database import parse_database_url\n"
        f"print(parse_database_url({url!r}))",
    )
    assert parsed.stdout.startswith(database)  # a URL the project's tests accept


def git(project: Project, *args: str) -> None:
    project.command("git", *args, env=GIT_IDENTITY)


def test_pre_commit_hooks_run_offline(project: Project) -> None:
    git(project, "init", "--quiet")
    git(project, "add", "--all")
    hooks = project.run("pre-commit", "run", "--all-files", check=False)
    assert hooks.returncode == 0, hooks.stdout
    for hook in ("ruff check", "ruff format", "no merge-conflict markers", "no .rej files"):
        assert hook in hooks.stdout

    readme = project.path / "README.md"
    readme.write_text(
        readme.read_text()
        + "<<<<<<< before updating\nmine\n=======\ntheirs\n>>>>>>> after updating\n"
    )
    git(project, "add", "--all")
    (project.path / "alembic.ini.rej").write_text(
        "@@ -1 +1 @@\n"
    )  # untracked, as Copier leaves it
    hooks = project.run("pre-commit", "run", "--all-files", check=False)
    assert hooks.returncode == 1
    assert "README.md:" in hooks.stdout  # file:line of each marker
    assert "alembic.ini.rej" in hooks.stdout


def test_the_git_hook_runs_outside_the_environment(project: Project) -> None:
    """A commit from a shell or an editor where .venv is not activated still runs the hooks."""
    git(project, "init", "--quiet")
    project.run("pre-commit", "install")
    git(project, "add", "--all")
    plain_path = os.pathsep.join(
        folder for folder in os.environ["PATH"].split(os.pathsep) if ".venv" not in folder
    )
    environment = {**GIT_IDENTITY, "PATH": plain_path}
    commit = project.command("git", "commit", "--quiet", "-m", "start", env=environment)
    assert "ruff check" in commit.stdout + commit.stderr
