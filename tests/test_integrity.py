"""Ordinary model changes never lose a constraint, a value or a foreign key silently: names
that keep composite constraints apart, enum values usable in the next revision, and foreign
keys enforced on SQLite."""

import re
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from .releases import commit_all, copier, git, two_releases
from .support import Project, Server

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.servers),
    pytest.param("mysql", id="mysql", marks=pytest.mark.servers),
]


@dataclass
class Target:
    """The project's DATABASE_URL, and an engine of the test's own to look at the database."""

    url: str
    engine: sa.Engine

    def inspect(self) -> sa.Inspector:
        return sa.inspect(self.engine)

    def rows(self, sql: str) -> list[tuple]:
        with self.engine.begin() as connection:
            return [tuple(row) for row in connection.exec_driver_sql(sql)]


@pytest.fixture
def target(request: pytest.FixtureRequest, database: str, tmp_path: Path) -> Iterator[Target]:
    if database == "sqlite":
        path = tmp_path / "test.db"
        engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.NullPool)
        yield Target(f"sqlite:///{path}", engine)
        engine.dispose()
        return
    server: Server = request.getfixturevalue(database)
    with server.scratch_database() as name:
        engine = sa.create_engine(server.admin.set(database=name), poolclass=sa.NullPool)
        yield Target(server.url(name).render_as_string(hide_password=False), engine)
        engine.dispose()


def project_for(
    rendered: Callable[..., Project], tmp_path: Path, target: Target, **answers: object
) -> Project:
    project = rendered(**answers).copy(tmp_path / "project")
    project.env["DATABASE_URL"] = target.url
    return project


def write_models(project: Project, source: str) -> None:
    (project.path / "src" / project.package / "models.py").write_text(textwrap.dedent(source))


def autogenerate(project: Project, message: str) -> str:
    """Bring the database to head, then write a revision from the models; its source."""
    project.alembic("upgrade", "head")
    before = set(project.revisions())
    project.alembic("revision", "--autogenerate", "-m", message)
    (name,) = set(project.revisions()) - before
    return (project.path / "migrations" / "versions" / name).read_text()


def assert_clean(project: Project) -> None:
    assert "No new upgrade operations detected" in project.alembic("check").stdout


# Names --------------------------------------------------------------------------------------

LONG = "a_column_name_long_enough_to_shorten"  # two of them make a name of 88 characters

BOOKINGS = f"""
    from sqlmodel import Field, Index, SQLModel, UniqueConstraint


    class Booking(SQLModel, table=True):
        __table_args__ = (
            UniqueConstraint("room", "day"),
            UniqueConstraint("room", "slot"),
            Index(None, "guest", "day"),
            Index(None, "guest", "slot"),
            UniqueConstraint("{LONG}_1", "{LONG}_2"),
            UniqueConstraint("{LONG}_1", "{LONG}_3"),
        )

        id: int | None = Field(default=None, primary_key=True)
        room: int
        day: int
        slot: int
        guest: int
        {LONG}_1: int
        {LONG}_2: int
        {LONG}_3: int
"""


def unique_column_sets(inspector: sa.Inspector, table: str) -> dict[tuple[str, ...], str]:
    """Column lists that the database keeps unique, with the constraint's or index's name."""
    found = {tuple(u["column_names"]): u["name"] for u in inspector.get_unique_constraints(table)}
    for index in inspector.get_indexes(table):
        if index["unique"]:
            found.setdefault(tuple(index["column_names"]), index["name"])
    return found


@pytest.mark.parametrize("database", BACKENDS)
def test_composite_constraints_that_share_a_first_column_all_reach_the_database(
    rendered: Callable[..., Project], tmp_path: Path, target: Target, database: str
) -> None:
    project = project_for(rendered, tmp_path, target, database=database, sample_models=False)
    write_models(project, BOOKINGS)
    revision = autogenerate(project, "bookings")
    project.alembic("upgrade", "head")
    assert_clean(project)

    inspector = target.inspect()
    uniques = unique_column_sets(inspector, "booking")
    expected_uniques = [
        ("room", "day"),
        ("room", "slot"),
        (f"{LONG}_1", f"{LONG}_2"),
        (f"{LONG}_1", f"{LONG}_3"),
    ]
    for columns in expected_uniques:
        assert columns in uniques, (columns, uniques)
    indexes = {tuple(i["column_names"]): i["name"] for i in inspector.get_indexes("booking")}
    assert indexes[("guest", "day")] == "ix_booking_guest_day"
    assert indexes[("guest", "slot")] == "ix_booking_guest_slot"
    assert uniques[("room", "day")] == "uq_booking_room_day"
    names = [uniques[columns] for columns in expected_uniques]
    assert len(set(names)) == len(names)
    long_names = names[2:]
    assert all(len(name) <= 63 for name in long_names), long_names
    assert all(re.fullmatch(r"uq_booking_a_column\w+_[0-9a-f]{8}", n) for n in long_names)
    assert all(name in revision for name in names), "the revision names them as the database"

    project.alembic("downgrade", "base")
    project.alembic("upgrade", "head")
    assert_clean(project)


def test_two_constraints_with_one_name_are_refused(project: Project) -> None:
    write_models(
        project,
        """
        from sqlmodel import Field, SQLModel, UniqueConstraint


        class Seat(SQLModel, table=True):
            __table_args__ = (
                UniqueConstraint("row", name="uq_seat_place"),
                UniqueConstraint("row", "number", name="uq_seat_place"),
            )

            id: int | None = Field(default=None, primary_key=True)
            row: int
            number: int
        """,
    )
    result = project.alembic("check", check=False)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode != 0
    assert lines[-1].startswith("FAILED: Two constraints or indexes are named 'uq_seat_place'")
    assert "(row)" in lines[-1] and "(row, number)" in lines[-1]
    assert "Traceback" not in result.stderr


# Enum values ------------------------------------------------------------------------------

POWERS = """
    import enum

    from sqlmodel import Field, SQLModel


    class Power(str, enum.Enum):
        fly = "fly"
        swim = "swim"{more}


    class Hero(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
        name: str
        power: Power = Power.fly
"""


def enum_history(project: Project) -> None:
    """A table with an enum, a revision that adds a member, and one that uses it; the
    database is left empty (at base), for one upgrade through all of them."""
    write_models(project, POWERS.format(more=""))
    autogenerate(project, "heroes")
    write_models(project, POWERS.format(more='\n        dig = "dig"'))
    added = autogenerate(project, "power dig")
    assert "dig" in added
    project.add_revision(
        "first digger",
        upgrade="""op.execute("INSERT INTO hero (name, power) VALUES ('Mole', 'dig')")""",
    )


@pytest.mark.servers
@pytest.mark.parametrize("database", ["postgresql", "mysql"])
def test_an_enum_member_is_usable_by_the_next_revision_in_one_upgrade(
    rendered: Callable[..., Project], tmp_path: Path, target: Target, database: str
) -> None:
    project = project_for(rendered, tmp_path, target, database=database, sample_models=False)
    enum_history(project)
    project.alembic("upgrade", "head")
    assert target.rows("SELECT name, power FROM hero") == [("Mole", "dig")]
    assert_clean(project)

    # A failing revision after them leaves the database at the last good revision.
    good = project.alembic("current").stdout.split()[0]
    project.add_revision(
        "fails",
        upgrade="""
            op.execute("INSERT INTO hero (name, power) VALUES ('Eel', 'swim')")
            op.execute("SELECT * FROM no_such_table")
        """,
    )
    result = project.alembic("upgrade", "head", check=False)
    assert result.returncode != 0 and "no_such_table" in result.stdout + result.stderr
    assert project.alembic("current").stdout.split()[0] == good
    assert target.rows("SELECT name FROM hero") == [("Mole",)]


@pytest.mark.servers
@pytest.mark.parametrize("database", ["postgresql", "mysql"])
def test_upgrade_to_head_from_four_processes_applies_an_enum_history_once(
    rendered: Callable[..., Project], tmp_path: Path, target: Target, database: str
) -> None:
    project = project_for(rendered, tmp_path, target, database=database, sample_models=False)
    enum_history(project)
    start = f"from {project.package}.dbkit.migrate import upgrade_to_head; upgrade_to_head()"
    results = project.concurrently("python", "-c", start)
    assert [r.returncode for r in results] == [0] * 4, [r.stderr for r in results]
    assert target.rows("SELECT name, power FROM hero") == [("Mole", "dig")]
    assert_clean(project)


# Foreign keys on SQLite -------------------------------------------------------------------

CASCADING_TEAMS = """
    from sqlmodel import Field, SQLModel


    class Team(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
        name: str
        headquarters: str = ""


    class Hero(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
        name: str
        team_id: int | None = Field(default=None, foreign_key="team.id", ondelete="CASCADE")
"""

APP_USES_FOREIGN_KEYS = """
import asyncio

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from {package}.dbkit.database import get_engine


def run(connection):
    connection.execute(text("INSERT INTO team (id, name, headquarters) VALUES (1, 'Z', '')"))
    connection.execute(text("INSERT INTO hero (name, team_id) VALUES ('Dive', 1)"))


def orphan(connection):
    connection.execute(text("INSERT INTO hero (name, team_id) VALUES ('Nobody', 99)"))


def cascade(connection):
    connection.execute(text("DELETE FROM team WHERE id = 1"))
    return connection.execute(text("SELECT count(*) FROM hero")).scalar()


{body}
"""

SYNC_BODY = """
with get_engine().begin() as connection:
    run(connection)
try:
    with get_engine().begin() as connection:
        orphan(connection)
except IntegrityError:
    print("orphan refused")
with get_engine().begin() as connection:
    print("heroes left", cascade(connection))
"""

ASYNC_BODY = """
async def main():
    engine = get_engine()
    async with engine.begin() as connection:
        await connection.run_sync(run)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(orphan)
    except IntegrityError:
        print("orphan refused")
    async with engine.begin() as connection:
        print("heroes left", await connection.run_sync(cascade))
    await engine.dispose()


asyncio.run(main())
"""


@pytest.mark.parametrize("async_engine", [False, True], ids=["sync", "async"])
def test_sqlite_enforces_foreign_keys_in_the_app(
    rendered: Callable[..., Project], tmp_path: Path, async_engine: bool
) -> None:
    project = rendered(async_engine=async_engine).copy(tmp_path / "project")
    for name in project.revisions():
        (project.path / "migrations" / "versions" / name).unlink()
    write_models(project, CASCADING_TEAMS)
    autogenerate(project, "teams")
    project.alembic("upgrade", "head")
    script = APP_USES_FOREIGN_KEYS.format(
        package=project.package, body=ASYNC_BODY if async_engine else SYNC_BODY
    )
    result = project.run("python", "-c", script)
    assert result.stdout.split("\n")[:2] == ["orphan refused", "heroes left 0"], result.stdout


def test_sqlite_batch_migrations_keep_the_rows_that_refer_to_a_copied_table(
    project: Project,
) -> None:
    for name in project.revisions():
        (project.path / "migrations" / "versions" / name).unlink()
    write_models(project, CASCADING_TEAMS)
    autogenerate(project, "teams")
    project.alembic("upgrade", "head")
    database = project.path / f"{project.package}.db"
    engine = sa.create_engine(f"sqlite:///{database}", poolclass=sa.NullPool)
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO team (id, name, headquarters) VALUES (1, 'Z', '')")
        connection.exec_driver_sql("INSERT INTO hero (name, team_id) VALUES ('Dive', 1)")

    # Dropping a column copies team in batch mode: hero's rows refer to it (ON DELETE CASCADE).
    write_models(project, CASCADING_TEAMS.replace('    headquarters: str = ""\n', ""))
    assert "batch_op.drop_column" in autogenerate(project, "drop headquarters")
    project.alembic("upgrade", "head")
    project.alembic("downgrade", "-1")
    project.alembic("upgrade", "head")
    with engine.connect() as connection:
        heroes = connection.exec_driver_sql("SELECT name, team_id FROM hero").fetchall()
        assert [tuple(row) for row in heroes] == [("Dive", 1)]

    # A migration that leaves a row pointing at nothing is refused, and nothing is kept.
    head = project.alembic("current").stdout.split()[0]
    project.add_revision(
        "orphan",
        upgrade="""
            op.execute("INSERT INTO hero (name, team_id) VALUES ('Nobody', 99)")
            op.add_column("hero", sa.Column("cape", sa.String(20)))
        """,
    )
    result = project.alembic("upgrade", "head", check=False)
    assert result.returncode != 0
    assert "FAILED: Rows refer to rows that do not exist (hero row 2 -> team)" in result.stdout
    assert project.alembic("current").stdout.split()[0] == head
    with engine.connect() as connection:
        names = connection.exec_driver_sql("SELECT name FROM hero").fetchall()
        assert [tuple(row) for row in names] == [("Dive",)]
        columns = [c["name"] for c in sa.inspect(connection).get_columns("hero")]
        assert "cape" not in columns
    engine.dispose()


# Updating a project made with 1.0.0 --------------------------------------------------------

COMPOSITE_MODELS = """

class Booking(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("room", "day"), Index(None, "guest", "day"))

    id: int | None = Field(default=None, primary_key=True)
    room: int
    day: int
    slot: int
    guest: int
    team_id: int | None = Field(default=None, foreign_key="team.id")
"""


def constraints_of(inspector: sa.Inspector, table: str) -> dict[str, list]:
    return {
        "unique": sorted(
            (u["name"], u["column_names"]) for u in inspector.get_unique_constraints(table)
        ),
        "indexes": sorted((i["name"], i["column_names"]) for i in inspector.get_indexes(table)),
        "foreign keys": sorted(
            (f["name"], f["constrained_columns"]) for f in inspector.get_foreign_keys(table)
        ),
    }


@pytest.mark.slow
@pytest.mark.parametrize("database", BACKENDS[:2])
def test_an_update_from_1_0_0_keeps_composite_constraints_and_writes_no_revision(
    tmp_path: Path, target: Target, database: str
) -> None:
    template = two_releases(tmp_path / "template")
    destination = tmp_path / "project"
    answers = ["--defaults", "--vcs-ref", "1.0.0", "-d", f"database={database}"]
    copier(tmp_path, "copy", *answers, str(template), str(destination))
    project = Project(destination, {"DATABASE_URL": target.url})
    models = destination / "src" / project.package / "models.py"
    source = models.read_text().replace(
        "from sqlmodel import Field, Relationship, SQLModel",
        "from sqlmodel import Field, Index, Relationship, SQLModel, UniqueConstraint",
    )
    models.write_text(source + COMPOSITE_MODELS)
    project.sync()
    git(destination, "init", "--quiet")
    autogenerate(project, "bookings")
    project.alembic("upgrade", "head")
    commit_all(destination, "bookings")
    before = constraints_of(target.inspect(), "booking")
    assert ["uq_booking_room", ["room", "day"]] in [list(u) for u in before["unique"]]

    copier(destination, "update", "--defaults", "--trust")
    project.sync()
    assert "_commit: 2.0.0" in (destination / ".copier-answers.yml").read_text()
    assert_clean(project)
    revisions = project.revisions()
    result = project.alembic("revision", "--autogenerate", "-m", "nothing")
    assert project.revisions() == revisions, result.stderr
    assert constraints_of(target.inspect(), "booking") == before

    # A second composite unique constraint on room now gets a name of its own.
    models.write_text(
        models.read_text().replace(
            'UniqueConstraint("room", "day"),',
            'UniqueConstraint("room", "day"), UniqueConstraint("room", "slot"),',
        )
    )
    added = autogenerate(project, "room slot")
    assert (
        "uq_booking_room_slot" in added
        and "drop_constraint" not in added.split("def downgrade")[0]
    )
    project.alembic("upgrade", "head")
    assert_clean(project)
    uniques = unique_column_sets(target.inspect(), "booking")
    assert ("room", "day") in uniques and ("room", "slot") in uniques
