"""The default project (SQLite): it works at once, and every alembic command a user runs works."""

import datetime
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import yaml

from .support import Project

HERO_WITH_POWER = """
    power: str | None = Field(default=None, max_length=50)
"""


def add_to_class(models: Path, class_name: str, lines: str) -> None:
    """Append fields to the end of a class body in models.py."""
    source = models.read_text()
    start = source.index(f"class {class_name}(")
    end = source.find("\nclass ", start + 1)
    end = len(source) if end == -1 else end
    models.write_text(source[:end].rstrip("\n") + "\n" + lines.strip("\n") + "\n" + source[end:])


def tables_of(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def columns_of(database: Path, table: str) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]


def version_of(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]


def test_layout(rendered: Callable[..., Project]) -> None:
    project = rendered()
    answers = yaml.safe_load((project.path / ".copier-answers.yml").read_text())
    date = datetime.datetime.strptime(answers["initial_revision_date"], "%Y-%m-%d %H:%M:%S")
    first = f"{date:%Y_%m_%d_%H%M}-{answers['initial_revision_id']}_initial_schema.py"
    assert project.revisions() == [first]
    for path in [
        "alembic.ini",
        "migrations/env.py",
        "migrations/script.py.mako",
        "src/my_project/models.py",
        "src/my_project/dbkit/database.py",
        "tests/migrations/test_migrations.py",
        "README.md",
        ".gitignore",
        ".env.example",
        ".copier-answers.yml",
    ]:
        assert (project.path / path).is_file(), path
    assert answers["_src_path"] and answers["_commit"]
    assert not list(project.path.rglob("*.jinja"))


def test_alembic_ini_settings(rendered: Callable[..., Project]) -> None:
    ini = (rendered().path / "alembic.ini").read_text()
    template = "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s"
    assert f"\nfile_template = {template}\n" in ini
    assert "\ntimezone = UTC\n" in ini
    assert "\npath_separator = os\n" in ini
    assert "\nprepend_sys_path = " in ini
    assert "sqlalchemy.url" not in ini and "sqlite:" not in ini


def test_upgrade_with_database_url_unset_uses_the_project_file(project: Project) -> None:
    project.alembic("upgrade", "head")
    database = project.path / "my_project.db"
    assert tables_of(database) == {"alembic_version", "hero", "team"}
    # From another directory, the same file: the default path is absolute.
    ini = str(project.path / "alembic.ini")
    current = project.alembic("-c", ini, "current", cwd=project.path / "src" / "my_project")
    assert version_of(database)[0] in current.stdout
    assert not (project.path / "src" / "my_project" / "my_project.db").exists()
    assert "*.db" in (project.path / ".gitignore").read_text().splitlines()


def test_upgrade_with_database_url_set(project: Project, tmp_path: Path) -> None:
    database = tmp_path / "elsewhere.db"
    project.alembic("upgrade", "head", env={"DATABASE_URL": f"sqlite:///{database}"})
    assert tables_of(database) == {"alembic_version", "hero", "team"}
    assert not (project.path / "my_project.db").exists()


def test_dotenv_is_read_and_the_environment_wins(project: Project, tmp_path: Path) -> None:
    (project.path / ".env").write_text("DATABASE_URL=sqlite:///from_dotenv.db\n")
    project.alembic("upgrade", "head", env={"DATABASE_URL": ""})  # empty counts as unset
    assert tables_of(project.path / "from_dotenv.db")  # relative to the project root
    from_env = tmp_path / "from_env.db"
    project.alembic("upgrade", "head", env={"DATABASE_URL": f"sqlite:///{from_env}"})
    assert "hero" in tables_of(from_env)


def test_a_blank_database_url_counts_as_unset(project: Project) -> None:
    project.alembic("upgrade", "head", env={"DATABASE_URL": "  "})
    assert tables_of(project.path / "my_project.db") == {"alembic_version", "hero", "team"}


def test_a_sqlite_url_with_two_slashes_gets_one_line(project: Project) -> None:
    result = project.alembic(
        "upgrade", "head", env={"DATABASE_URL": "sqlite://my.db"}, check=False
    )
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode != 0
    assert lines == [
        line for line in lines if line.startswith("FAILED: DATABASE_URL names a host")
    ]
    assert "sqlite:///app.db (three slashes)" in lines[0]


def test_check_is_clean_after_the_first_upgrade(project: Project) -> None:
    project.alembic("upgrade", "head")
    assert "No new upgrade operations detected" in project.alembic("check").stdout


def test_check_fails_while_the_database_is_behind(project: Project) -> None:
    result = project.alembic("check", check=False)
    assert result.returncode != 0
    assert "Target database is not up to date" in result.stdout + result.stderr


def test_a_new_field_round_trips(project: Project) -> None:
    project.alembic("upgrade", "head")
    add_to_class(project.path / "src/my_project/models.py", "Hero", HERO_WITH_POWER)
    before = set(project.revisions())
    started = datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)
    project.alembic("revision", "--autogenerate", "-m", "add power")
    (new,) = set(project.revisions()) - before
    match = re.fullmatch(r"(\d{4}_\d{2}_\d{2}_\d{4})-([0-9a-f]{12})_add_power\.py", new)
    assert match, new
    made = datetime.datetime.strptime(match[1], "%Y_%m_%d_%H%M").replace(tzinfo=datetime.UTC)
    assert started <= made <= datetime.datetime.now(datetime.UTC)
    # Same clock as the first revision: its date prefix never sorts before it.
    assert new.split("-")[0] >= min(before).split("-")[0]
    project.run("ruff", "check", f"migrations/versions/{new}")
    project.run("ruff", "format", "--check", f"migrations/versions/{new}")

    database = project.path / "my_project.db"
    project.alembic("upgrade", "head")
    assert "power" in columns_of(database, "hero")
    assert "No new upgrade operations" in project.alembic("check").stdout
    project.alembic("downgrade", "-1")
    assert "power" not in columns_of(database, "hero")
    project.alembic("downgrade", "base")
    assert tables_of(database) == {"alembic_version"}
    assert version_of(database) == []
    project.alembic("upgrade", "head")
    assert version_of(database) == [match[2]]
    assert "No new upgrade operations" in project.alembic("check").stdout


def test_no_revision_file_when_nothing_changed(project: Project) -> None:
    project.alembic("upgrade", "head")
    before = project.revisions()
    result = project.alembic("revision", "--autogenerate", "-m", "nothing")
    assert project.revisions() == before
    assert "no revision written" in result.stderr


def test_a_hand_written_revision_is_still_written(project: Project) -> None:
    before = set(project.revisions())
    project.alembic("revision", "-m", "backfill data")
    (new,) = set(project.revisions()) - before
    assert new.endswith("_backfill_data.py")
    project.run("ruff", "check", "migrations/versions")


def test_upgrade_sql_prints_the_ddl(project: Project) -> None:
    result = project.alembic("upgrade", "head", "--sql")
    assert "CREATE TABLE team" in result.stdout
    assert "CREATE TABLE hero" in result.stdout
    assert "INSERT INTO alembic_version" in result.stdout
    assert not (project.path / "my_project.db").exists()


def test_a_table_in_a_new_module_is_seen_by_autogenerate(project: Project) -> None:
    (project.path / "src/my_project/villains.py").write_text(
        "from sqlmodel import Field, SQLModel\n\n\n"
        "class Villain(SQLModel, table=True):\n"
        "    id: int | None = Field(default=None, primary_key=True)\n"
        "    name: str\n"
    )
    project.alembic("upgrade", "head")
    before = set(project.revisions())
    project.alembic("revision", "--autogenerate", "-m", "add villain")
    (new,) = set(project.revisions()) - before
    source = (project.path / "migrations/versions" / new).read_text()
    assert 'op.create_table(\n        "villain"' in source
    assert "drop_table" in source.split("def downgrade")[1]
    assert "drop_table" not in source.split("def downgrade")[0]


def test_modules_without_tables_are_not_imported_by_migrations(project: Project) -> None:
    """An app module may start things when imported: env.py imports only modules with tables."""
    started = project.path / "app-started"
    (project.path / "src/my_project/app.py").write_text(
        f"from pathlib import Path\n\nPath({str(started)!r}).touch()\n"
    )
    project.alembic("upgrade", "head")
    project.alembic("check")
    assert not started.exists()


def test_a_migration_that_fails_halfway_leaves_no_trace(project: Project) -> None:
    project.alembic("upgrade", "head")
    database = project.path / "my_project.db"
    version = version_of(database)
    project.alembic("revision", "-m", "fails halfway")
    (failing,) = (project.path / "migrations/versions").glob("*_fails_halfway.py")
    source = failing.read_text().replace(
        "def upgrade() -> None:\n    pass",
        "def upgrade() -> None:\n"
        '    op.create_table("sidekick", sa.Column("id", sa.Integer, primary_key=True))\n'
        '    with op.batch_alter_table("hero") as batch_op:\n'
        '        batch_op.add_column(sa.Column("cape", sa.String(20)))\n'
        '    op.execute("INSERT INTO no_such_table VALUES (1)")\n',
    )
    failing.write_text(source)
    result = project.alembic("upgrade", "head", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr  # alembic prints its FAILED line on stdout
    assert f"({failing.name}) failed" in output
    assert "no such table: no_such_table" in output
    assert "Traceback" not in output
    assert tables_of(database) == {"alembic_version", "hero", "team"}
    assert "cape" not in columns_of(database, "hero")
    assert version_of(database) == version


def test_the_first_revision_is_what_autogenerate_writes(project: Project) -> None:
    (first,) = project.revisions()
    path = project.path / "migrations/versions" / first
    shipped = path.read_text()
    path.unlink()
    revision_id = first.split("-")[1].split("_")[0]
    project.alembic("revision", "--autogenerate", "-m", "initial schema", "--rev-id", revision_id)
    (written,) = project.revisions()
    generated = (project.path / "migrations/versions" / written).read_text()

    def without_date(source: str) -> str:
        return re.sub(r"Create Date: .*", "", source)

    assert without_date(generated) == without_date(shipped)


def test_env_py_keeps_the_application_loggers(project: Project) -> None:
    script = (
        "import logging\n"
        "from alembic import command\n"
        "from my_project.dbkit.migrate import alembic_config\n"
        "logger = logging.getLogger('my_app')\n"
        "command.upgrade(alembic_config(), 'head')\n"
        "assert not logger.disabled, 'env.py disabled the application logger'\n"
        "print('ok')\n"
    )
    assert project.run("python", "-c", script).stdout.strip() == "ok"


def test_a_connection_handed_in_is_used(project: Project, tmp_path: Path) -> None:
    database = tmp_path / "handed_in.db"
    script = (
        "from alembic import command\n"
        "from my_project.dbkit.database import make_engine, parse_database_url\n"
        "from my_project.dbkit.migrate import alembic_config\n"
        f"engine = make_engine(parse_database_url('sqlite:///{database}'))\n"
        "with engine.begin() as connection:\n"
        "    command.upgrade(alembic_config(connection=connection), 'head')\n"
    )
    project.run("python", "-c", script)
    assert tables_of(database) == {"alembic_version", "hero", "team"}
    assert not (project.path / "my_project.db").exists()


def test_the_project_checks_pass(rendered: Callable[..., Project]) -> None:
    project = rendered()
    project.run("ruff", "check", ".")
    project.run("ruff", "format", "--check", ".")
    result = project.run("pytest", "-p", "no:cacheprovider")
    assert " passed" in result.stdout and "failed" not in result.stdout
