"""`db squash`: a 50-revision history squashed into one baseline keeps every database upgradable.

The history is written as files (as `alembic revision` would write them, formatted by ruff) so
that 50 revisions cost one subprocess, not fifty. It has an enum, server defaults, an index, a
unique constraint, foreign keys, a boolean and data migrations, before and after the squash point.
"""

import re
import textwrap
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from .support import GIT_IDENTITY, Project, Server

REVISIONS = 50  # the first revision of the template and 49 written here
SQUASH_POINT = 40  # revisions 1 to 40 are squashed; 41 to 50 stay
OLDER = 20  # a database at this revision is older than the squash point
PAST = 45  # and one at this revision is past it

# Data migrations in the history: one in the squashed range (reported), one in a downgrade
# there (not: the baseline's downgrade drops everything) and one after it (not squashed).
SEED = "op.execute(\"INSERT INTO team (name, headquarters) VALUES ('Seed', 'HQ')\")"
UNSEED = "op.execute(\"DELETE FROM team WHERE name = 'Seed'\")"
RENAME_SEED = (  # one row: the safety gate's decision line says so
    "# decision: data-change team: it changes the one seed row\n"
    "op.execute(\"UPDATE team SET headquarters = 'Tower' WHERE name = 'Seed'\")"
)

TICKET = """
    op.create_table(
        "ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), server_default="untitled", nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "closed", name="ticket_status"),
            server_default="open",
            nullable=False,
        ),
        sa.Column("priority", sa.Integer(), server_default=sa.text("3"), nullable=False),
        sa.Column("urgent", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_ticket_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket")),
        sa.UniqueConstraint("title", "team_id", name=op.f("uq_ticket_title_team_id")),
    )
    op.create_index(op.f("ix_ticket_title"), "ticket", ["title"], unique=False)
"""
DROP_TICKET = """
    op.drop_table("ticket")
    sa.Enum(name="ticket_status").drop(op.get_bind(), checkfirst=False)
"""


def step(number: int) -> tuple[str, str, str]:
    """(message, upgrade, downgrade) of revision number (2 to 50) of the history."""
    if number == 2:
        return "ticket with a status", TICKET, DROP_TICKET
    if number == 3:
        return "seed team", SEED, UNSEED
    if number == PAST + 2:
        return "rename seed", RENAME_SEED, "pass"
    table = f"item_{number}"
    if number % 3 == 0:
        return (
            f"note {number}",
            f'op.add_column("ticket", sa.Column("note_{number}", sa.Integer(),'
            f' server_default=sa.text("0"), nullable=False))',
            f'with op.batch_alter_table("ticket") as batch_op:\n'
            f'    batch_op.drop_column("note_{number}")',
        )
    unique = (
        f'    sa.UniqueConstraint("code", name=op.f("uq_{table}_code")),\n'
        if number % 3 == 1
        else ""
    )
    return (
        f"create {table}",
        f'op.create_table(\n    "{table}",\n'
        '    sa.Column("id", sa.Integer(), nullable=False),\n'
        '    sa.Column("code", sa.String(length=20), server_default="new", nullable=False),\n'
        '    sa.Column("team_id", sa.Integer(), nullable=True),\n'
        "    sa.ForeignKeyConstraint(\n"
        f'        ["team_id"], ["team.id"], name=op.f("fk_{table}_team_id_team")\n'
        "    ),\n"
        f'    sa.PrimaryKeyConstraint("id", name=op.f("pk_{table}")),\n'
        f"{unique})\n"
        f'op.create_index(op.f("ix_{table}_code"), "{table}", ["code"], unique=False)',
        f'op.drop_table("{table}")',
    )


def revision_source(
    revision: str,
    down_revision: str | tuple[str, ...],
    message: str,
    upgrade: str,
    downgrade: str,
    created: str = "2026-11-30 11:00:00",
) -> str:
    body = {
        name: textwrap.indent(textwrap.dedent(code).strip(), "    ")
        for name, code in (("upgrade", upgrade), ("downgrade", downgrade))
    }
    return (
        f'"""{message}\n\nRevision ID: {revision}\nRevises: {down_revision}\n'
        f'Create Date: {created}+00:00\n\n"""\n\n'
        "from collections.abc import Sequence\n\nimport sqlalchemy as sa\nimport sqlmodel\n"
        "from alembic import op\n\n# revision identifiers, used by Alembic.\n"
        f'revision: str = "{revision}"\n'
        f"down_revision: str | Sequence[str] | None = {down_revision!r}\n"
        "branch_labels: str | Sequence[str] | None = None\n"
        "depends_on: str | Sequence[str] | None = None\n\n\n"
        f"def upgrade() -> None:\n{body['upgrade']}\n\n\n"
        f"def downgrade() -> None:\n{body['downgrade']}\n"
    )


def write_history(project: Project) -> tuple[list[str], list[str]]:
    """Revisions 2 to 50 after the template's first one: their ids and file names, oldest first."""
    versions = project.path / "migrations" / "versions"
    (first,) = versions.glob("*.py")
    ids = [re.search(r'^revision: str = "(\w+)"', first.read_text(), re.M)[1]]
    files = [first.name]
    for number in range(2, REVISIONS + 1):
        message, upgrade, downgrade = step(number)
        revision = f"{number:04d}{uuid.uuid4().hex[:8]}"
        slug = message.replace(" ", "_")
        files.append(f"2026_11_30_{1000 + number}-{revision}_{slug}.py")
        created = f"2026-11-30 10:{number:02d}:00"  # as in the file name
        source = revision_source(revision, ids[-1], message, upgrade, downgrade, created)
        (versions / files[-1]).write_text(source)
        ids.append(revision)
    project.run("ruff", "format", "--quiet", str(versions))
    return ids, files


def ignore_tables_without_models(project: Project) -> None:
    """The history's tables have no models: the project's `db check` and guard tests leave
    them alone, as a user's hook would for tables that another tool manages."""
    hooks = project.path / "src" / project.package / "migration_hooks.py"
    hooks.write_text(
        hooks.read_text().replace(
            "    return True\n",
            '    return not (type_ == "table" and reflected and compare_to is None)\n',
        )
    )


def git(project: Project, *args: str) -> str:
    return project.command("git", *args, env=GIT_IDENTITY).stdout


def commit_all(project: Project, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", message)


def schema(url: str) -> dict[str, Any]:
    """The reflected schema, looked at from outside the project: everything the revisions
    made, down to column types, defaults, keys, indexes, constraints and enum types."""
    engine = sa.create_engine(sa.make_url(url).set(drivername=driver(url)), poolclass=sa.NullPool)
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        tables = sorted(set(inspector.get_table_names()) - {"alembic_version"})
        found: dict[str, Any] = {"tables": tables}
        if connection.dialect.name == "postgresql":
            found["enums"] = sorted((e["name"], e["labels"]) for e in inspector.get_enums())
        for table in tables:
            found[table] = {
                "columns": [
                    (c["name"], repr(c["type"]), c["nullable"], c.get("default"))
                    for c in inspector.get_columns(table)
                ],
                "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted(repr(sorted(i.items())) for i in inspector.get_indexes(table)),
                "unique": sorted(
                    repr(sorted(u.items())) for u in inspector.get_unique_constraints(table)
                ),
                "foreign keys": sorted(
                    repr(sorted(fk.items())) for fk in inspector.get_foreign_keys(table)
                ),
            }
    engine.dispose()
    return found


def driver(url: str) -> str:
    backend = sa.make_url(url).get_backend_name()
    return {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}.get(backend, backend)


def version(url: str) -> set[str]:
    engine = sa.create_engine(sa.make_url(url).set(drivername=driver(url)), poolclass=sa.NullPool)
    with engine.connect() as connection:
        versions = {
            row[0] for row in connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        }
    engine.dispose()
    return versions


@pytest.fixture
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """new(): the URL of another empty database of the kind the test is parametrized with."""
    kind = request.getfixturevalue("database")
    with ExitStack() as stack:
        if kind == "sqlite":
            names = iter(range(100))
            yield lambda: f"sqlite:///{tmp_path / f'db{next(names)}.db'}"
            return
        server: Server = request.getfixturevalue(kind)

        def new() -> str:
            name = stack.enter_context(server.scratch_database())
            return server.url(name).render_as_string(hide_password=False)

        yield new


def squash_environment(request: pytest.FixtureRequest, kind: str) -> dict[str, str]:
    """Where `db squash` makes its scratch database: a server's admin URL, or nothing (SQLite)."""
    if kind == "sqlite":
        return {}
    server: Server = request.getfixturevalue(kind)
    admin = server.url(server.admin.database).render_as_string(hide_password=False)
    return {"TEST_DATABASE_URL": admin}


@pytest.mark.parametrize(
    ("database", "async_engine"),
    [
        pytest.param("sqlite", False, id="sqlite"),
        pytest.param("postgresql", False, id="postgresql", marks=pytest.mark.servers),
        pytest.param("postgresql", True, id="postgresql-async", marks=pytest.mark.servers),
        pytest.param("mysql", False, id="mysql", marks=pytest.mark.servers),
    ],
)
def test_a_squashed_history_keeps_every_database_upgradable(
    rendered: Callable[..., Project],
    databases: Callable[[], str],
    database: str,
    async_engine: bool,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    project = rendered(database=database, async_engine=async_engine).copy(tmp_path / "project")
    env = squash_environment(request, database)
    ignore_tables_without_models(project)
    git(project, "init", "-q")
    commit_all(project, "the template")
    ids, old_files = write_history(project)
    commit_all(project, "fifty revisions")
    before_squash = git(project, "rev-parse", "--short=12", "HEAD").strip()
    versions = project.path / "migrations" / "versions"
    assert len(list(versions.glob("*.py"))) == REVISIONS

    reference, older, at_point, past, at_head = (databases() for _ in range(5))
    for url, target in [
        (reference, "head"),
        (older, ids[OLDER - 1]),
        (at_point, ids[SQUASH_POINT - 1]),
        (past, ids[PAST - 1]),
        (at_head, "head"),
    ]:
        project.alembic("upgrade", target, env={"DATABASE_URL": url})

    expected = schema(reference)
    # What the comparisons below rely on: the enum type and the server defaults are there.
    ticket_columns = {column[0]: column for column in expected["ticket"]["columns"]}
    assert "untitled" in str(ticket_columns["title"][3])
    assert "open" in str(ticket_columns["status"][3])
    if database == "postgresql":
        assert expected["enums"] == [("ticket_status", ["open", "closed"])]
    result = project.run("my-project", "db", "squash", ids[SQUASH_POINT - 1], env=env)

    baseline_name = f"-{ids[SQUASH_POINT - 1]}_squashed_baseline.py"
    kept = old_files[SQUASH_POINT:]
    (baseline,) = [p for p in versions.glob("*.py") if p.name not in kept]
    assert re.fullmatch(r"\d{4}_\d{2}_\d{2}_\d{4}" + re.escape(baseline_name), baseline.name)
    # Dated like the revision it ends, the baseline's file sorts before the later ones.
    assert sorted(p.name for p in versions.glob("*.py")) == [baseline.name, *kept]
    # The data migration in the squashed range is reported, with its file and line; the one
    # in a downgrade there and the one after the squash point are not.
    seed_file = old_files[2]
    seed = git(project, "show", f"HEAD:migrations/versions/{seed_file}").splitlines()
    seed_line = next(n for n, line in enumerate(seed, 1) if "INSERT INTO team" in line)
    reported = f"{seed_file}:{seed_line}:"
    assert reported in result.stdout
    assert "DELETE FROM team" not in result.stdout and "UPDATE team" not in result.stdout
    assert reported in baseline.read_text()
    assert before_squash in result.stdout and before_squash in baseline.read_text()
    # The old revisions are gone from the tree, kept in git; nothing is committed.
    assert git(project, "rev-parse", "--short=12", "HEAD").strip() == before_squash
    for name in old_files[:SQUASH_POINT]:
        assert git(project, "show", f"HEAD:migrations/versions/{name}")
    project.run("ruff", "check", "migrations")
    project.run("ruff", "format", "--check", "migrations")
    # The project's guard tests pass on the squashed history (on SQLite, as they run by default).
    tests = project.run("pytest", "-p", "no:cacheprovider", "-q")
    assert " passed" in tests.stdout and "failed" not in tests.stdout

    fresh = databases()
    project.alembic("upgrade", "head", env={"DATABASE_URL": fresh})
    assert schema(fresh) == expected
    # Its downgrade leaves nothing behind, enum types included, and it upgrades again.
    project.alembic("downgrade", "base", env={"DATABASE_URL": fresh})
    assert schema(fresh) == {key: [] for key in expected if key in ("tables", "enums")}
    project.alembic("upgrade", "head", env={"DATABASE_URL": fresh})
    assert schema(fresh) == expected
    for url in (at_point, past, at_head):
        project.alembic("upgrade", "head", env={"DATABASE_URL": url})
        assert version(url) == {ids[-1]}
        assert schema(url) == expected

    # Older than the squash point: one line that says what to do, from alembic and `db`.
    for command in (("alembic", "upgrade", "head"), ("my-project", "db", "upgrade")):
        failed = project.run(*command, check=False, env={"DATABASE_URL": older})
        assert failed.returncode != 0
        lines = [line for line in (failed.stdout + failed.stderr).splitlines() if "FAILED" in line]
        assert len(lines) == 1 and "Traceback" not in failed.stderr, failed.stderr
        assert ids[OLDER - 1] in lines[0] and before_squash in lines[0]
        assert f"alembic upgrade {ids[SQUASH_POINT - 1]}" in lines[0]
    assert version(older) == {ids[OLDER - 1]}
    # ... and doing what it says works: upgrade from the commit before the squash, come back.
    worktree = tmp_path / "before-squash"
    git(project, "worktree", "add", "-q", "--detach", str(worktree), before_squash)
    ini = str(worktree / "alembic.ini")
    project.alembic("-c", ini, "upgrade", ids[SQUASH_POINT - 1], env={"DATABASE_URL": older})
    project.alembic("upgrade", "head", env={"DATABASE_URL": older})
    assert schema(older) == expected

    # Squashed again: a database from before both squashes is told about the newer one.
    oldest = databases()
    project.alembic("-c", ini, "upgrade", ids[OLDER - 1], env={"DATABASE_URL": oldest})
    commit_all(project, "squash")
    before_second = git(project, "rev-parse", "--short=12", "HEAD").strip()
    project.run("my-project", "db", "squash", ids[PAST - 1], env=env)
    failed = project.alembic("upgrade", "head", check=False, env={"DATABASE_URL": oldest})
    assert f"Revision {ids[OLDER - 1]} is gone" in failed.stdout
    assert before_second in failed.stdout and ids[PAST - 1] in failed.stdout
    fresh = databases()
    project.alembic("upgrade", "head", env={"DATABASE_URL": fresh})
    assert schema(fresh) == expected


def add_revisions(
    project: Project, down_revision: str | tuple[str, ...], *steps: tuple[str, str, str]
) -> list[str]:
    """Write revisions (message, upgrade, downgrade), each after the one before; their ids."""
    versions = project.path / "migrations" / "versions"
    ids = []
    for message, upgrade, downgrade in steps:
        revision = uuid.uuid4().hex[:12]
        source = revision_source(
            revision, ids[-1] if ids else down_revision, message, upgrade, downgrade
        )
        name = f"2026_11_30_{1100 + len(tree(project))}-{revision}_{message.replace(' ', '_')}.py"
        (versions / name).write_text(source)
        ids.append(revision)
    project.run("ruff", "format", "--quiet", str(versions))
    return ids


def first_revision(project: Project) -> str:
    (first,) = (project.path / "migrations" / "versions").glob("*.py")
    return re.search(r'^revision: str = "(\w+)"', first.read_text(), re.M)[1]


def tree(project: Project) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes() for p in (project.path / "migrations" / "versions").glob("*.py")
    }


def assert_refused(project: Project, revision: str, says: str) -> None:
    """`db squash revision` fails with one line that says says, and changes no file."""
    before, status = tree(project), git_status(project)
    result = project.run("my-project", "db", "squash", revision, check=False)
    assert result.returncode == 1, result.stdout
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("FAILED: "), result.stderr
    assert says in result.stderr, result.stderr
    assert tree(project) == before and git_status(project) == status


def git_status(project: Project) -> str:
    """What git says has changed (what it says when there is no repository)."""
    result = project.command("git", "status", "--porcelain", check=False)
    return result.stdout + result.stderr


def test_squash_refuses_what_it_cannot_squash_and_changes_nothing(project: Project) -> None:
    first = first_revision(project)
    view = 'op.execute("CREATE VIEW team_names AS SELECT name FROM team")'
    second, third = add_revisions(
        project,
        first,
        ("seed", SEED, UNSEED),
        ("name view", view, 'op.execute("DROP VIEW team_names")'),
    )
    versions = project.path / "migrations" / "versions"
    assert_refused(project, second, "is not in a git repository")
    git(project, "init", "-q")
    commit_all(project, "three revisions")

    assert_refused(project, "nope", "There is no revision 'nope'")
    assert_refused(project, first, "is the first revision: there is nothing before it")
    # The baseline would not make the view: checked on the scratch database, refused.
    assert_refused(project, third, "views: team_names")

    edited = next(versions.glob(f"*{third}*"))
    edited.write_text(edited.read_text() + "# an edit\n")
    assert_refused(project, second, "uncommitted changes")
    git(project, "checkout", "--", str(edited))
    (versions / "2026_11_30_1200-aaaaaaaaaaaa_new.py").write_text(
        revision_source("aaaaaaaaaaaa", third, "new", "pass", "pass")
    )
    assert_refused(project, second, "uncommitted changes")
    (versions / "2026_11_30_1200-aaaaaaaaaaaa_new.py").unlink()

    (branch,) = add_revisions(project, first, ("branch", "pass", "pass"))
    commit_all(project, "a branch")
    assert_refused(project, second, "The migrations have 2 heads")
    add_revisions(project, (third, branch), ("merge", "pass", "pass"))
    commit_all(project, "merged")
    # The branch comes after the first revision, which squashing to the second would remove.
    assert_refused(project, second, f"Revision {branch}")


def test_squash_needs_the_database_the_project_deploys_on(
    rendered: Callable[..., Project], tmp_path: Path
) -> None:
    project = rendered(database="postgresql").copy(tmp_path / "project")
    (second,) = add_revisions(project, first_revision(project), ("seed", SEED, UNSEED))
    git(project, "init", "-q")
    commit_all(project, "two revisions")
    project.env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'app.db'}"
    assert_refused(project, second, "set TEST_DATABASE_URL to an admin URL of a postgresql server")
