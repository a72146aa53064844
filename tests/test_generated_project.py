"""Rough edges of the generated project: the `db` command's options, `--sql` on SQLite, the
post-update checks, the lint rules, closing the engine, .gitignore, CI's locked install and
the migration lock's limit."""

import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from .support import GIT_IDENTITY, Project, render
from .test_default_project import tables_of, version_of
from .test_update import commit_all, copier, edit, new_project, template_repository
from .test_update import git as git_in

BATCH_ALTER = """
with op.batch_alter_table("hero") as batch_op:
    batch_op.alter_column("name", existing_type=sa.String(), nullable=True)
"""


def db(project: Project, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return project.run("my-project", "db", *args, **kwargs)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


# The `db` command refuses unknown options and supports every option its hints mention.


@pytest.mark.parametrize(
    "args",
    [
        ("upgrade", "--sqll"),
        ("upgrade", "head", "--sqll"),
        ("downgrade", "--sqll"),
        ("downgrade", "-x"),
        ("stamp", "--sqll"),
        ("current", "--verbos"),
        ("--raiseer", "upgrade"),
    ],
)
def test_db_refuses_an_unknown_option(project: Project, args: tuple[str, ...]) -> None:
    result = db(project, *args, check=False)
    assert result.returncode == 2, output(result)
    assert "option" in result.stderr or "argument" in result.stderr
    assert not (project.path / "my_project.db").exists()  # nothing was taken for a revision


def test_db_takes_relative_revisions_that_look_like_options(project: Project) -> None:
    database = project.path / "my_project.db"
    project.add_revision("second", upgrade="pass")
    db(project, "upgrade", "+1")
    (first,) = version_of(database)
    db(project, "upgrade")
    db(project, "downgrade", "-1")
    assert version_of(database) == [first]
    db(project, "downgrade", "-1")
    assert version_of(database) == []


FAILING_UPGRADE = {
    "alembic": (["alembic"], ["upgrade", "head"]),
    "db": (["my-project", "db"], ["upgrade"]),
}


@pytest.mark.parametrize("command", ["alembic", "db"])
def test_the_hint_of_a_failure_works_as_written(project: Project, command: str) -> None:
    program, upgrade = FAILING_UPGRADE[command]
    project.add_revision("fails", upgrade='op.execute("SELECT * FROM no_such_table")')
    result = project.run(*program, *upgrade, check=False)
    (line,) = [line for line in output(result).splitlines() if line.startswith("FAILED: ")]
    (hint,) = re.findall(r"\(Run `([^`]+) <command> \.\.\.` for the traceback\.\)", line)
    name, *options = hint.split()
    assert name == command and options == ["--raiseerr"]
    rerun = project.run(*program, *options, *upgrade, check=False)  # the hint, filled in
    assert rerun.returncode != 0
    assert "Traceback (most recent call last)" in rerun.stderr
    assert "no such table: no_such_table" in rerun.stderr


# `--sql` on SQLite: the whole script, or nothing on stdout and one line on stderr.


def test_sql_on_sqlite_is_complete_or_nothing(project: Project, tmp_path: Path) -> None:
    complete = project.alembic("upgrade", "head", "--sql")
    assert "CREATE TABLE hero" in complete.stdout
    assert complete.stdout.rstrip().endswith("RETURNING version_num;")  # to its last line
    project.add_revision("alter hero", upgrade=BATCH_ALTER)
    for command in ("alembic upgrade head --sql", "my-project db upgrade --sql"):
        script = tmp_path / "f.sql"
        result = project.command("sh", "-c", f"uv run --quiet {command} > {script}", check=False)
        assert result.returncode != 0
        assert script.read_text() == ""  # nothing partial in the file
        (line,) = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
        assert "--sql cannot write these migrations for SQLite" in line
        assert "run it on a copy of the database file" in line
    assert not (project.path / "my_project.db").exists()


# The post-update checks work whatever state the project's files are in.

CONFLICT = "<<<<<<< before updating\nmine = 1\n=======\ntheirs = 2\n>>>>>>> after updating\n"


def git(project: Project, *args: str) -> None:
    project.command("git", *args, env=GIT_IDENTITY)


def test_the_post_update_check_reports_conflicts_in_pyproject_toml(project: Project) -> None:
    git(project, "init", "--quiet")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "start")
    for path in ("pyproject.toml", "migrations/env.py"):
        with (project.path / path).open("a") as file:
            file.write(CONFLICT)
    (project.path / "alembic.ini.rej").write_text(
        "@@ -1 +1 @@\n"
    )  # untracked, as Copier leaves it
    git(project, "add", "pyproject.toml", "migrations/env.py")
    readme = (project.path / "README.md").read_text()
    updating = readme.split("## Updating from the template")[1]
    (check,) = [line for line in updating.splitlines() if "pre-commit run" in line]
    hooks = project.command(*shlex.split(check.split("#")[0]), check=False)
    assert hooks.returncode == 1
    for marker_line in ("pyproject.toml:", "migrations/env.py:"):
        assert marker_line in hooks.stdout, hooks.stdout
    assert "alembic.ini.rej" in hooks.stdout


# The lint rules accept what the SQLModel docs teach.

SQLMODEL_DOCS_MODELS = """
import enum
from typing import List, Optional

from fastapi import Depends, FastAPI, Query
from sqlmodel import Field, Relationship, Session, SQLModel, create_engine, select


class Power(str, enum.Enum):
    flight = "flight"
    strength = "strength"


class Team(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    heroes: List["Hero"] = Relationship(back_populates="team")


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    power: Power | None = None
    team_id: Optional[int] = Field(default=None, foreign_key="team.id")
    team: Optional[Team] = Relationship(back_populates="heroes")


engine = create_engine("sqlite:///database.db")
app = FastAPI()


def get_session():
    with Session(engine) as session:
        yield session


@app.get("/heroes/")
def read_heroes(
    *,
    session: Session = Depends(get_session),
    offset: int = 0,
    limit: int = Query(default=100, le=100),
) -> list[Hero]:
    return list(session.exec(select(Hero).offset(offset).limit(limit)).all())
"""


def test_the_lint_rules_accept_the_sqlmodel_docs(project: Project) -> None:
    (project.path / "src/my_project/docs_models.py").write_text(SQLMODEL_DOCS_MODELS.lstrip())
    project.run("ruff", "check", "--no-fix", ".")
    project.run("ruff", "format", "--check", ".")
    git(project, "init", "--quiet")
    git(project, "add", "--all")
    hooks = project.run("pre-commit", "run", "--all-files", check=False)
    assert hooks.returncode == 0, hooks.stdout


# Closing the app's engine.

DISPOSE = {
    True: """
import asyncio
from sqlalchemy import text
from my_project.dbkit.database import dispose_engine, get_engine

async def main():
    for _ in range(2):  # a new engine after dispose_engine() works too
        async with get_engine().connect() as connection:
            print((await connection.execute(text("SELECT 1"))).scalar())
        await dispose_engine()

asyncio.run(main())
""",
    False: """
from sqlalchemy import text
from my_project.dbkit.database import dispose_engine, get_engine

for _ in range(2):
    engine = get_engine()
    with engine.connect() as connection:
        print(connection.execute(text("SELECT 1")).scalar())
    dispose_engine()
    assert get_engine() is not engine
""",
}


@pytest.mark.parametrize("async_engine", [False, True], ids=["sync", "async"])
def test_a_script_that_disposes_the_engine_ends_cleanly(
    rendered: Callable[..., Project], async_engine: bool
) -> None:
    result = rendered(async_engine=async_engine).run("python", "-c", DISPOSE[async_engine])
    assert result.stdout.split() == ["1", "1"]
    assert result.stderr == ""


# .gitignore: secrets and local databases.


def test_gitignore_keeps_secrets_and_databases_out(project: Project) -> None:
    git(project, "init", "--quiet")
    ignored = [".env", ".env.local", ".env.production", "app.db", "app.sqlite", "app.sqlite3"]
    kept = [".env.example", "README.md", "src/my_project/models.py"]
    for name in ignored:
        (project.path / name).write_text("DATABASE_URL=postgresql://u:secret@h/db\n")
    check = project.command("git", "check-ignore", "--no-index", *ignored, *kept, check=False)
    assert check.stdout.split() == ignored


# CI: least privilege and the committed uv.lock.


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "mysql"])
def test_ci_has_least_privilege_and_a_locked_install(
    rendered: Callable[..., Project], database: str
) -> None:
    workflow = yaml.safe_load(
        (rendered(database=database).path / ".github/workflows/ci.yml").read_text()
    )
    assert workflow["permissions"] == {"contents": "read"}
    (job,) = workflow["jobs"].values()
    assert "permissions" not in job
    installs = [step["run"] for step in job["steps"] if step.get("run", "").startswith("uv sync")]
    assert installs == ["uv sync --locked"]


def test_the_lock_file_ci_installs_from(tmp_path: Path) -> None:
    """A new project has no uv.lock; the README's `uv sync` writes it, and CI's locked install
    takes it, and refuses one that pyproject.toml has moved away from."""
    project = Project(render(tmp_path / "project"))
    assert not (project.path / "uv.lock").exists()
    assert "Commit `uv.lock`" in (project.path / "README.md").read_text()
    project.sync()
    assert (project.path / "uv.lock").is_file()
    project.command("uv", "sync", "--locked", "--quiet")
    pyproject = project.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"typer>=', '"rich>=13",\n    "typer>='))
    stale = project.command("uv", "sync", "--locked", "--quiet", check=False)
    assert stale.returncode != 0 and "uv lock" in stale.stderr


# The migration lock's limit, from the environment.


@pytest.mark.parametrize("value", ["soon", "-5", "inf", "nan"])
def test_a_bad_lock_timeout_gets_one_line(project: Project, value: str) -> None:
    result = project.alembic("upgrade", "head", env={"MIGRATION_LOCK_TIMEOUT": value}, check=False)
    assert result.returncode != 0
    lines = [line for line in output(result).splitlines() if not line.startswith("INFO")]
    assert lines == [
        f"FAILED: MIGRATION_LOCK_TIMEOUT is {value!r}: set it to the number of seconds to wait"
        " for another migration, e.g. 600 (unset, it is 3600)"
    ]
    database = project.path / "my_project.db"
    assert not database.exists() or tables_of(database) == set()


@pytest.mark.slow
def test_after_a_conflicting_update_the_documented_check_reports_every_conflict(
    tmp_path: Path,
) -> None:
    """The user and the template both change the dependency list and env.py: copier update
    leaves markers in both files, and the README's check finds them, pyproject.toml or not."""
    template = template_repository(tmp_path / "template")
    project = new_project(template, tmp_path / "project")
    project.sync()
    project.run("pre-commit", "install")
    pin = '    "typer>=0.29,<1",\n'
    edit(project.path / "pyproject.toml", pin, '    "typer>=0.30,<1",\n    "rich>=14",\n')
    edit(
        project.path / "migrations/env.py",
        "config = context.config\n",
        "config = context.config  # ours\n",
    )
    commit_all(project.path, "our dependency and our env.py")
    edit(template / "includes/dependencies.jinja", "typer>=0.29,<1\n", "typer>=0.29.3,<1\n")
    edit(
        template / "template/{{ migrations_folder }}/env.py.jinja",
        "config = context.config\n",
        "config = context.config  # the template's\n",
    )
    commit_all(template, "release 1.1.0")
    git_in(template, "tag", "1.1.0")

    copier(project.path, "update", "--defaults")
    for path in ("pyproject.toml", "migrations/env.py"):
        assert "<<<<<<< " in (project.path / path).read_text(), path
    git_in(project.path, "add", "--all")
    updating = (project.path / "README.md").read_text().split("## Updating from the template")[1]
    (check,) = [line for line in updating.splitlines() if "pre-commit run" in line]
    hooks = project.command(*shlex.split(check.split("#")[0]), check=False)
    assert hooks.returncode == 1
    assert "pyproject.toml:" in hooks.stdout and "migrations/env.py:" in hooks.stdout, hooks.stdout
    commit = project.command("git", "commit", "-m", "update", env=GIT_IDENTITY, check=False)
    assert commit.returncode != 0  # the git hook refuses the commit, for the same reasons
    assert "migrations/env.py:" in commit.stdout + commit.stderr
