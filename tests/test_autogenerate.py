"""Autogenerate on realistic models: a shop, a school, a blog and a warehouse (tests/corpus),
each written, filled with rows, changed, rolled back and upgraded again on SQLite, PostgreSQL
and MariaDB, with `alembic check` clean after every upgrade and REVIEW notes where a person
must decide."""

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from .support import Project

pytestmark = [pytest.mark.slow]

CORPUS = Path(__file__).parent / "corpus"
APPS = ["shop", "school", "blog", "warehouse"]
DATABASES = [
    pytest.param("sqlite"),
    pytest.param("postgresql", marks=pytest.mark.servers),
    pytest.param("mysql", marks=pytest.mark.servers),
]

# (function, operation, what the REVIEW note right above it says)
REVIEW_NOTES = {
    "shop": [
        ("upgrade", 'batch_op.add_column(sa.Column("phone"', "is 'phone' a renamed 'active'?"),
        (
            "downgrade",
            'batch_op.add_column(sa.Column("active"',
            "customer.active comes back NOT NULL",
        ),
    ],
    "school": [
        ("upgrade", 'batch_op.alter_column("email"', "student.email becomes NOT NULL"),
    ],
    "blog": [
        (
            "upgrade",
            'batch_op.add_column(sa.Column("excerpt"',
            "is 'excerpt' a renamed 'summary'?",
        ),
    ],
    "warehouse": [
        ("upgrade", 'batch_op.alter_column("code"', "product.code gets shorter (30 characters)"),
        ("upgrade", "batch_op.create_unique_constraint(", "bin (label) becomes unique"),
        ("upgrade", 'op.drop_table("zone")', "zone is dropped with its values"),
        *(
            ("downgrade", f'batch_op.add_column(sa.Column("{column}"', f"product.{column} comes")
            for column in ("weight", "batch", "specs")
        ),
    ],
}
# The same, where the operation is written differently on one backend.
BACKEND_REVIEW_NOTES = {
    ("warehouse", "postgresql"): [
        ("upgrade", "op.sync_enum_values(", "The enum type productstate loses 'new'")
    ],
    ("warehouse", "mysql"): [
        ("upgrade", 'batch_op.alter_column("state"', "product.state loses 'new'"),
    ],
}
# (function, operation) that are safe as written, so no note may sit above them.
UNREMARKED = {
    "shop": [
        ("upgrade", 'batch_op.add_column(sa.Column("stock"'),
        ("upgrade", 'batch_op.add_column(sa.Column("note"'),
    ],
    "school": [
        ("upgrade", 'batch_op.add_column(sa.Column("office"'),
        ("upgrade", 'batch_op.alter_column("title"'),
    ],
    "blog": [("upgrade", 'batch_op.add_column(sa.Column("colour"')],
    # A str field that loses max_length: Alembic alone does not see it on PostgreSQL.
    "warehouse": [
        ("upgrade", 'batch_op.alter_column("name"'),
    ],
}

# Runs steps in one process, since each `uv run` spends a second or more importing: "alembic
# <arguments>" as the alembic command runs them (a failure, drift in `check` too, ends the
# process with alembic's message and status), "python <file>", and "snapshot" or "leftovers",
# which print one RESULT line of JSON.
STEPS = """
import json, runpy, shlex, sys
from alembic.config import main as alembic
from sqlalchemy import MetaData, inspect, select
from my_project.dbkit.database import make_engine


# Every table's values as text, column by column, rows in primary-key order.
def snapshot(connection):
    metadata = MetaData()
    metadata.reflect(connection)
    tables = {}
    for table in metadata.sorted_tables:
        if table.name != "alembic_version":
            rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            tables[table.name] = {
                column.name: [str(row[i]) for row in rows]
                for i, column in enumerate(table.columns)
            }
    return tables


# The tables, and on PostgreSQL the enum types and sequences, that the database holds.
def leftovers(connection):
    inspector = inspect(connection)
    found = {"tables": inspector.get_table_names()}
    if connection.dialect.name == "postgresql":
        found["enum types"] = [enum["name"] for enum in inspector.get_enums()]
        found["sequences"] = inspector.get_sequence_names()
    return found


for step in sys.argv[1:]:
    command, _, argument = step.partition(" ")
    if command == "alembic":
        alembic(shlex.split(argument), prog="alembic")
    elif command == "python":
        runpy.run_path(argument)
    else:
        engine = make_engine()
        with engine.connect() as connection:
            result = {"snapshot": snapshot, "leftovers": leftovers}[command](connection)
        engine.dispose()
        print("RESULT", json.dumps(result))
"""

SCOREBOARD = """
from sqlmodel import Field, SQLModel


class Player(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    score: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
"""

# A foreign-key column loses its index, another gains one, a plain column becomes a foreign key.
BOOKS_V1 = """
from sqlmodel import Field, SQLModel


class Author(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40)


class Book(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="author.id", index=True)
    editor_id: int | None = Field(default=None, foreign_key="author.id")
    reviewer_id: int | None = None
"""
BOOKS_V2 = """
from sqlmodel import Field, SQLModel


class Author(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40)


class Book(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="author.id")
    editor_id: int | None = Field(default=None, foreign_key="author.id", index=True)
    reviewer_id: int | None = Field(default=None, foreign_key="author.id")
"""

Snapshot = dict[str, dict[str, list[str]]]


@pytest.fixture
def project(
    rendered: Callable[..., Project], database: str, database_url: str, tmp_path: Path
) -> Project:
    """This module's project: rendered without sample models, with DATABASE_URL set to a fresh
    database of the kind the test is parametrized with."""
    project = rendered(sample_models=False, database=database).copy(tmp_path / "project")
    project.env["DATABASE_URL"] = database_url
    return project


def run_steps(project: Project, *steps: str) -> list[dict]:
    """Run steps (see STEPS) in the project; return what the snapshot and leftovers steps found."""
    script = project.path.parent / "steps.py"
    script.write_text(STEPS)
    output = project.run("python", str(script), *steps).stdout
    return [
        json.loads(line.removeprefix("RESULT "))
        for line in output.splitlines()
        if line.startswith("RESULT ")
    ]


def write_models(project: Project, models: str) -> None:
    (project.path / "src" / project.package / "models.py").write_text(models)


def autogenerate(project: Project, models: str, message: str) -> str:
    """Write models.py, upgrade to head and autogenerate a revision; return the revision.

    It runs in a process of its own: writing a revision can change the models' types in memory
    (alembic-postgresql-enum turns an Enum into ENUM(create_type=False)), which later steps in
    the same process would then see."""
    write_models(project, models)
    run_steps(project, "alembic upgrade head", f"alembic revision --autogenerate -m {message!r}")
    versions = project.path / "migrations" / "versions"
    return max(versions.glob("*.py"), key=lambda path: path.stat().st_mtime).read_text()


def kept(snapshot: Snapshot, other: Snapshot) -> Snapshot:
    """snapshot, cut down to the tables and columns that other has too."""
    return {
        table: {name: values for name, values in columns.items() if name in other[table]}
        for table, columns in snapshot.items()
        if table in other
    }


def note_above(source: str, function: str, operation: str) -> str:
    """The comment right above operation in upgrade() or downgrade(), '' if there is none."""
    body = source.split("def downgrade")[function == "downgrade"]
    lines = re.sub(r"\(\s*\n\s*", "(", body).splitlines()  # calls that ruff wrapped, on one line
    index = next(i for i, line in enumerate(lines) if line.strip().startswith(operation))
    comment: list[str] = []
    for line in reversed(lines[:index]):
        if not line.strip().startswith("#"):
            break
        comment.insert(0, line.strip().lstrip("#").strip())
    return " ".join(comment)


@pytest.mark.parametrize("database", DATABASES)
@pytest.mark.parametrize("app", APPS)
def test_models_change_and_roll_back_with_the_rows_intact(
    project: Project, database: str, app: str
) -> None:
    first = autogenerate(project, (CORPUS / f"{app}_v1.py").read_text(), "create tables")
    assert "REVIEW" not in first  # new tables need no decision
    [filled] = run_steps(
        project,
        "alembic upgrade head",
        "alembic check",
        f"python {CORPUS / f'{app}_rows.py'}",
        "snapshot",
    )
    # Every later step then works on tables that hold rows.
    assert all(next(iter(columns.values())) for columns in filled.values()), filled

    changes = autogenerate(project, (CORPUS / f"{app}_v2.py").read_text(), "change models")
    for function, operation, note in REVIEW_NOTES[app] + BACKEND_REVIEW_NOTES.get(
        (app, database), []
    ):
        label = "NOTE" if " comes" in note else "REVIEW"  # a restored column: no decision
        assert f"{label}: {note}" in note_above(changes, function, operation), changes
    for function, operation in UNREMARKED[app]:
        assert note_above(changes, function, operation) == "", changes

    changed, restored, changed_again, left = run_steps(
        project,
        "alembic upgrade head",
        "alembic check",
        "snapshot",
        "alembic downgrade -1",
        "snapshot",
        "alembic upgrade head",
        "snapshot",
        "alembic downgrade base",
        "leftovers",
        "alembic upgrade head",
        "alembic check",
    )
    # Every value that both versions have a place for survives each step.
    assert kept(changed, filled) == kept(filled, changed)
    assert restored.keys() == filled.keys()  # the dropped tables are back
    assert kept(restored, changed) == kept(filled, changed)
    assert changed_again == changed
    nothing_left = {"tables": ["alembic_version"]}
    if database == "postgresql":
        nothing_left |= {"enum types": [], "sequences": []}
    assert left == nothing_left


@pytest.mark.parametrize("database", DATABASES)
def test_check_reports_a_changed_server_default(project: Project) -> None:
    autogenerate(project, SCOREBOARD, "add player")
    run_steps(project, "alembic upgrade head", "alembic check")
    write_models(project, SCOREBOARD.replace('"server_default": "0"', '"server_default": "1"'))
    result = project.alembic("check", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "modify_default" in output and "'score'" in output


@pytest.mark.parametrize("database", DATABASES)
def test_a_not_null_column_without_default_is_marked(project: Project) -> None:
    autogenerate(project, SCOREBOARD, "add player")
    changes = autogenerate(project, SCOREBOARD + "    level: int\n", "add level")
    note = note_above(changes, "upgrade", 'batch_op.add_column(sa.Column("level"')
    assert "REVIEW: player.level is NOT NULL with no server default" in note, changes


@pytest.mark.parametrize("database", DATABASES)
def test_indexes_of_foreign_keys_change_both_ways(project: Project) -> None:
    """MySQL keeps an index for every foreign key: a revision that drops one, or drops a key,
    still upgrades, downgrades and leaves the schema the models describe."""
    autogenerate(project, BOOKS_V1, "add books")
    autogenerate(project, BOOKS_V2, "change keys")
    run_steps(project, "alembic upgrade head", "alembic check", "alembic downgrade -1")
    # The schema is the old models' again: check it with the change's revision set aside.
    versions = project.path / "migrations" / "versions"
    change = max(versions.glob("*.py"), key=lambda path: path.stat().st_mtime)
    aside = change.rename(project.path / "aside.py")
    write_models(project, BOOKS_V1)
    run_steps(project, "alembic check")
    aside.rename(change)
    write_models(project, BOOKS_V2)
    run_steps(
        project,
        "alembic upgrade head",
        "alembic downgrade base",
        "alembic upgrade head",
        "alembic check",
    )
