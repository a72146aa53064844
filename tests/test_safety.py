"""The safety gate (issue 14): `db lint`, the guard test and the pre-commit hook find what a live
database cannot take, a decision or the safe form silences it; autogenerate writes the safe
form on PostgreSQL; migrations time out on a lock instead of waiting."""

import re
import subprocess
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from .support import GIT_IDENTITY, Project, Server

FINDING = re.compile(
    r"^(?P<path>migrations/versions/[^:]+\.py):(?P<line>\d+): (?P<rule>[\w-]+): .+; .+"
    r" \(or, if it is safe here, record `# decision: (?P=rule) (?P<target>\S+): <reason>`\)$"
)

# A revision before the dangerous one: tables that exist by the time it runs.
SETUP = """
op.create_table(
    "mission",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("mood", sa.Enum("calm", "tense", "grim", name="mood"), nullable=True),
)
op.create_table("scratch", sa.Column("id", sa.Integer, primary_key=True))
"""
SETUP_DOWNGRADE = 'op.drop_table("scratch")\nop.drop_table("mission")'

ENUM_CHANGE = {
    "postgresql": (
        'op.sync_enum_values(enum_schema="public", enum_name="mood",'
        ' new_values=["calm", "tense"], affected_columns=[("mission", "mood")])',
        "mood",
    ),
    "other": (
        'op.alter_column("mission", "mood", existing_type=sa.Enum("calm", "tense", "grim",'
        ' name="mood"), type_=sa.Enum("calm", "tense", name="mood"))',
        "mission.mood",
    ),
}


def dangers(database: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each dangerous statement on an existing table, and the findings it gives on database."""
    postgresql = database == "postgresql"
    enum_change, enum_target = ENUM_CHANGE["postgresql" if postgresql else "other"]
    concurrently = postgresql
    return [
        ('op.drop_column("hero", "age")', [("data-loss", "hero.age")]),
        ('op.drop_table("scratch")', [("data-loss", "scratch")]),
        ('op.rename_table("team", "crew")', [("rename-table", "team")]),
        (
            'op.alter_column("hero", "secret_name", new_column_name="alias")',
            [("rename-column", "hero.secret_name")],
        ),
        (
            'op.alter_column("hero", "name", existing_type=sa.String(), type_=sa.Integer())',
            [("type-change", "hero.name")],
        ),
        (
            'op.alter_column("hero", "team_id", existing_type=sa.Integer(), nullable=False)',
            [("not-null", "hero.team_id")],
        ),
        (
            'op.add_column("hero", sa.Column("power", sa.Integer(), nullable=False))',
            [("not-null", "hero.power")],
        ),
        (
            'op.create_unique_constraint("uq_hero_name", "hero", ["name"])',
            [("unique", "uq_hero_name")],
        ),
        (
            'op.create_index("ix_hero_power", "hero", ["power"], unique=True)',
            [("unique", "ix_hero_power")]
            + [("index-concurrently", "ix_hero_power")] * concurrently,
        ),
        (
            'op.create_index("ix_hero_secret_name", "hero", ["secret_name"])',
            [("index-concurrently", "ix_hero_secret_name")] * concurrently,
        ),
        (
            'op.drop_index("ix_hero_age", table_name="hero")',
            [("index-concurrently", "ix_hero_age")] * concurrently,
        ),
        (
            'op.create_foreign_key("fk_hero_mission", "hero", "mission", ["power"], ["id"])',
            [("foreign-key", "fk_hero_mission")],
        ),
        (
            'op.create_check_constraint("ck_hero_adult", "hero", "age >= 18")',
            [("check-constraint", "ck_hero_adult")],
        ),
        ('op.execute("UPDATE hero SET age = 0 WHERE age IS NULL")', [("data-change", "hero")]),
        ('op.execute(sa.delete(sa.table("team")))', [("data-change", "team")]),
        (enum_change, [("enum-members", enum_target)]),
        # squawk's own rule (PostgreSQL projects), on the SQL: the target is the revision
        (
            'op.add_column("hero", sa.Column("code", sa.CHAR(3), nullable=True))',
            [("squawk-ban-char-field", "REVISION")] * postgresql,
        ),
    ]


# The downgrade drops a column the upgrade made (normal) and one it did not (data lost).
DOWNGRADE = 'op.drop_column("hero", "power")\nop.drop_column("hero", "name")'
DOWNGRADE_FINDING = ('op.drop_column("hero", "name")', [("data-loss", "hero.name")])
# A note that merely quotes the decision syntax decides nothing.
REVIEW_NOTE = "# REVIEW: hero.age goes; say so with # decision: data-loss hero.age: it is unused"

# The same operations on a table that the revision itself creates: nothing to find.
ON_A_NEW_TABLE = """
op.create_table(
    "fresh",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("age", sa.Integer),
    sa.Column("name", sa.String(20)),
    sa.Column("mood", sa.Enum("calm", "grim", name="fresh_mood")),
)
op.add_column("fresh", sa.Column("power", sa.Integer(), nullable=False))
op.alter_column("fresh", "name", existing_type=sa.String(20), type_=sa.Integer())
op.alter_column("fresh", "age", existing_type=sa.Integer(), nullable=False)
op.alter_column("fresh", "age", new_column_name="years")
op.create_unique_constraint("uq_fresh_name", "fresh", ["name"])
op.create_index("ix_fresh_power", "fresh", ["power"], unique=True)
op.drop_index("ix_fresh_power", table_name="fresh")
op.create_foreign_key("fk_fresh_mission", "fresh", "mission", ["power"], ["id"])
op.create_check_constraint("ck_fresh_adult", "fresh", "years >= 18")
op.execute("UPDATE fresh SET years = 0")
op.execute(sa.delete(sa.table("fresh")))
{enum_change}
op.drop_column("fresh", "power")
op.rename_table("fresh", "fresher")
"""
NEW_ENUM_CHANGE = {
    "postgresql": 'op.sync_enum_values(enum_schema="public", enum_name="fresh_mood",'
    ' new_values=["calm"], affected_columns=[("fresh", "mood")])',
    "other": 'op.alter_column("fresh", "mood", existing_type=sa.Enum("calm", "grim",'
    ' name="fresh_mood"), type_=sa.Enum("calm", name="fresh_mood"))',
}


def lint(project: Project, *args: str) -> tuple[int, set[tuple[str, int, str, str]], str]:
    """`db lint`'s exit status, its findings (file, line, rule, target) and its output; every
    line of the output must be one finding."""
    result = project.run(project.package.replace("_", "-"), "db", "lint", *args, check=False)
    findings = set()
    for line in result.stdout.splitlines():
        match = FINDING.match(line)
        assert match, f"not a one-line finding: {line!r}"
        findings.add(
            (Path(match["path"]).name, int(match["line"]), match["rule"], match["target"])
        )
    return result.returncode, findings, result.stdout + result.stderr


def line_of(path: Path, statement: str) -> int:
    return path.read_text().splitlines().index(f"    {statement}") + 1


def revision_id(path: Path) -> str:
    return re.search(r'^revision: str = "(\w+)"', path.read_text(), re.M)[1]


def set_baseline(project: Project, revision: str) -> None:
    ini = project.path / "alembic.ini"
    ini.write_text(re.sub(r"(?m)^baseline =.*$", f"baseline = {revision}", ini.read_text()))


def guard_test(project: Project) -> subprocess.CompletedProcess[str]:
    return project.run("pytest", "-q", "tests/migrations/test_revision_safety.py", check=False)


def pre_commit(project: Project, path: Path) -> subprocess.CompletedProcess[str]:
    relative = str(path.relative_to(project.path))
    return project.run("pre-commit", "run", "db-lint", "--files", relative, check=False)


def git_commit_all(project: Project) -> None:
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "project"]):
        project.command("git", *command, env=GIT_IDENTITY)


def record_decisions(path: Path, findings: set[tuple[str, int, str, str]]) -> None:
    """A decision line for each finding: above its operation; under a REVIEW note for one."""
    lines = path.read_text().splitlines()
    inserts = sorted(
        ((line if rule == "review" else line - 1), rule, target)
        for _name, line, rule, target in findings
    )
    for index, rule, target in reversed(inserts):
        indent = re.match(r"\s*", lines[min(index, len(lines) - 1)]).group()
        lines.insert(index, f"{indent}# decision: {rule} {target}: agreed with the team")
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "mysql"])
def test_each_dangerous_operation_needs_a_decision(
    rendered: Callable[..., Project], tmp_path: Path, database: str
) -> None:
    project = rendered(database=database).copy(tmp_path / "project")
    project.add_revision("mission", SETUP, SETUP_DOWNGRADE)
    statements = dangers(database)
    upgrade = "\n".join([REVIEW_NOTE, *(statement for statement, _ in statements)])
    path = project.add_revision("dangerous", upgrade, DOWNGRADE)
    revision = revision_id(path)
    set_baseline(project, revision)  # the mission revision is released: its tables exist
    expected = {
        (path.name, line_of(path, statement), rule, target.replace("REVISION", revision))
        for statement, findings in [*statements, DOWNGRADE_FINDING]
        for rule, target in findings
    }
    expected.add((path.name, line_of(path, REVIEW_NOTE), "review", revision))

    status, found, output = lint(project)
    assert status == 1, output
    assert found == expected, output
    guard = guard_test(project)
    assert guard.returncode == 1, guard.stdout
    for _name, line, rule, _target in expected:
        assert f"{path.name}:{line}: {rule}: " in guard.stdout
    git_commit_all(project)
    hook = pre_commit(project, path)
    assert hook.returncode == 1, hook.stdout
    for _name, line, rule, _target in expected:
        assert f"{path.name}:{line}: {rule}: " in hook.stdout

    record_decisions(path, found)
    assert lint(project)[:2] == (0, set())
    assert guard_test(project).returncode == 0
    assert pre_commit(project, path).returncode == 0, pre_commit(project, path).stdout

    enum_change = NEW_ENUM_CHANGE["postgresql" if database == "postgresql" else "other"]
    on_a_new_table = ON_A_NEW_TABLE.format(enum_change=enum_change)
    project.add_revision("fresh", on_a_new_table, 'op.drop_table("fresher")')
    assert lint(project)[:2] == (0, set())


def test_a_decision_silences_its_own_finding_only(project: Project) -> None:
    drop = 'op.drop_column("hero", "age")'
    path = project.add_revision(
        "drop age",
        f"""
        # decision: data-loss hero.name: names another column
        {drop}
        # decision: data-loss hero.secret_name: <why>
        op.drop_column("hero", "secret_name")
        op.drop_column("hero", "team_id")  # decision: data-loss hero.team_id: unused since v2
        # decision: unique hero.name: the wrong rule
        op.drop_table("team")
        """,
    )
    status, found, output = lint(project)
    assert status == 1
    secret = 'op.drop_column("hero", "secret_name")'
    assert found == {
        (path.name, line_of(path, drop), "data-loss", "hero.age"),
        (path.name, line_of(path, secret), "data-loss", "hero.secret_name"),
        (path.name, line_of(path, 'op.drop_table("team")'), "data-loss", "team"),
    }, output


def test_baseline_and_range_choose_what_is_judged(project: Project) -> None:
    first = project.add_revision("first drop", 'op.drop_column("hero", "age")')
    second = project.add_revision("second drop", 'op.drop_column("hero", "name")')
    ids = [revision_id(first), revision_id(second)]
    assert {name for name, *_ in lint(project)[1]} == {first.name, second.name}
    assert {name for name, *_ in lint(project, f"{ids[0]}:head")[1]} == {second.name}
    assert {name for name, *_ in lint(project, str(first))[1]} == {first.name}
    assert lint(project, "head:")[:2] == (0, set())

    set_baseline(project, ids[1])
    assert {name for name, *_ in lint(project)[1]} == {second.name}
    set_baseline(project, "nosuch")
    status, found, output = lint(project)
    assert (status, found) == (1, set())
    assert output.strip() == (
        "FAILED: [lint] baseline in alembic.ini is 'nosuch', which names no revision:"
        " use a revision id from `db history`"
    )


# PostgreSQL: the safe forms, written by autogenerate ---------------------------------------

MISSION_MODEL = """

class Mission(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
"""


@pytest.mark.servers
def test_autogenerate_writes_online_index_and_foreign_key_on_postgresql(
    rendered: Callable[..., Project], tmp_path: Path, postgresql: Server
) -> None:
    project = rendered(database="postgresql").copy(tmp_path / "project")
    models = project.path / "src" / project.package / "models.py"
    with postgresql.scratch_database() as name:
        project.env["DATABASE_URL"] = postgresql.url(name).render_as_string(hide_password=False)
        project.alembic("upgrade", "head")
        models.write_text(models.read_text() + MISSION_MODEL)
        project.alembic("revision", "--autogenerate", "-m", "add mission")
        project.alembic("upgrade", "head")
        database = Server("postgresql", postgresql.admin.set(database=name))
        database.execute(
            "INSERT INTO mission (id, name) VALUES (1, 'first')",
            "INSERT INTO team (id, name, headquarters) VALUES (1, 'Preventers', 'Tower')",
            "INSERT INTO hero (name, secret_name, team_id) VALUES ('Deadpond', 'Dive', 1)",
        )
        source = models.read_text().replace(
            "    secret_name: str\n",
            "    secret_name: str = Field(index=True)\n"
            '    mission_id: int | None = Field(default=None, foreign_key="mission.id")\n',
        )
        models.write_text(source)
        project.alembic("revision", "--autogenerate", "-m", "hero mission")
        (path,) = (project.path / "migrations" / "versions").glob("*hero_mission.py")
        text = path.read_text()
        upgrade = text[text.index("def upgrade") : text.index("def downgrade")]
        assert "with op.get_context().autocommit_block():" in upgrade
        index = r'create_index\(\s*batch_op.f\("ix_hero_secret_name"\),[^)]*concurrently=True'
        assert re.search(index, upgrade)
        key = r'create_foreign_key\(\s*batch_op.f\("fk_hero_mission_id_\w+"\),[^)]*not_valid=True'
        assert re.search(key, upgrade)
        assert 'op.validate_constraint("hero", "fk_hero_mission_id_mission")' in upgrade
        assert lint(project)[:2] == (0, set())

        results = project.concurrently("alembic", "upgrade", "head")
        assert [r.returncode for r in results] == [0] * 4, [r.stderr for r in results]
        assert sum("hero mission" in r.stderr for r in results) == 1
        assert online_objects(postgresql, name) == {
            "ix_hero_secret_name valid": True,
            "fk_hero_mission_id_mission validated": True,
        }
        project.alembic("downgrade", "-1")
        project.alembic("upgrade", "head")
        project.run("pytest", "-q")  # the guard tests, on SQLite
        admin = postgresql.admin.set(drivername="postgresql")
        project.run("pytest", "-q", env={"TEST_DATABASE_URL": admin.render_as_string(False)})


def online_objects(server: Server, database: str) -> dict[str, bool]:
    engine = sa.create_engine(server.admin.set(database=database), poolclass=sa.NullPool)
    with engine.connect() as connection:
        index = connection.exec_driver_sql(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_hero_secret_name'::regclass"
        ).scalar()
        key = connection.exec_driver_sql(
            "SELECT convalidated FROM pg_constraint WHERE conname = 'fk_hero_mission_id_mission'"
        ).scalar()
    engine.dispose()
    return {"ix_hero_secret_name valid": index, "fk_hero_mission_id_mission validated": key}


# Timeouts ------------------------------------------------------------------------------------


@pytest.mark.servers
@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_a_migration_blocked_by_an_open_transaction_times_out(
    rendered: Callable[..., Project], tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    server: Server = request.getfixturevalue(kind)
    project = rendered(database=kind).copy(tmp_path / "project")
    with server.scratch_database() as name:
        project.env["DATABASE_URL"] = server.url(name).render_as_string(hide_password=False)
        project.alembic("upgrade", "head")
        project.add_revision(
            "add power",
            'op.add_column("hero", sa.Column("power", sa.Integer(), nullable=True))',
            'op.drop_column("hero", "power")',
        )
        engine = sa.create_engine(server.admin.set(database=name), poolclass=sa.NullPool)
        with engine.connect() as blocker:
            blocker.exec_driver_sql("SELECT * FROM hero").all()  # its transaction stays open
            started = time.monotonic()
            result = project.alembic(
                "upgrade", "head", check=False, env={"DB_LOCK_TIMEOUT": "1"}, timeout=120
            )
            waited = time.monotonic() - started
            blocker.rollback()
        engine.dispose()
        assert result.returncode != 0
        said = [
            line
            for line in (result.stdout + result.stderr).splitlines()
            if not line.startswith("INFO ")
        ]
        assert len(said) == 1, said
        assert said[0].startswith("FAILED: Revision ")
        assert "it waited 1 s (DB_LOCK_TIMEOUT) for a lock on a table it changes" in said[0]
        assert "Nothing was retried" in said[0] and "run the upgrade again" in said[0]
        assert waited < 110, "the migration waited for the lock instead of timing out"
        project.alembic("upgrade", "head")  # once the transaction is gone, it runs

        sql = project.alembic(
            "upgrade", "head", "--sql", env={"DB_LOCK_TIMEOUT": "3", "DB_STATEMENT_TIMEOUT": "60"}
        ).stdout
        if kind == "postgresql":
            assert "SET lock_timeout = '3000ms';" in sql
            assert "SET statement_timeout = '60000ms';" in sql
        else:
            assert "SET SESSION lock_wait_timeout = 3;" in sql
            assert "SET SESSION max_execution_time = 60000;" in sql


def test_a_timeout_that_is_no_number_is_one_line(project: Project) -> None:
    result = project.alembic("upgrade", "head", check=False, env={"DB_LOCK_TIMEOUT": "soon"})
    assert result.returncode != 0
    assert result.stdout.strip() == (
        "FAILED: DB_LOCK_TIMEOUT is 'soon': set it to a number of seconds, e.g. 30, or 0 for no"
        " limit (unset, it is 10)"
    )


def test_squawk_finds_nothing_in_the_first_revision(rendered: Callable[..., Project]) -> None:
    project = rendered(database="postgresql")
    url = {"DATABASE_URL": "postgresql://nobody@localhost/offline"}  # --sql connects nowhere
    sql = project.alembic("upgrade", "head", "--sql", env=url).stdout
    assert "CREATE TABLE alembic_version" in sql and "CREATE TABLE hero" in sql
    script = project.path / "first.sql"
    script.write_text(sql)
    result = project.run("squawk", "--config", ".squawk.toml", "first.sql", check=False)
    script.unlink()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Found 0 issues" in result.stdout


def test_the_readme_expand_and_contract_example_passes(project: Project) -> None:
    readme = (project.path / "README.md").read_text()
    section = readme.split("### Renames and drops in two deploys", 1)[1].split("\n## ", 1)[0]
    expand, contract = re.findall(r"```python\n(.*?)```", section, re.S)
    for name, block in (("expand", expand), ("contract", contract)):
        body = textwrap.dedent(block).split("def upgrade() -> None:\n", 1)[1]
        project.add_revision(name, body, "pass")
    assert lint(project)[:2] == (0, set())
    (path,) = (project.path / "migrations" / "versions").glob("*_contract.py")
    path.write_text(re.sub(r"(?m)^\s*# decision: .*\n", "", path.read_text()))
    assert {rule for _name, _line, rule, _target in lint(project)[1]} == {"data-loss"}


# The forms that autogenerate writes on PostgreSQL, by hand in a MySQL project: MySQL and
# SQLite ignore the PostgreSQL options, and validate_constraint does nothing there.
ONLINE_FORMS = """
with op.get_context().autocommit_block():
    with op.batch_alter_table("hero", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hero_secret_name"), ["secret_name"], postgresql_concurrently=True
        )
with op.batch_alter_table("hero", schema=None) as batch_op:
    batch_op.add_column(sa.Column("mentor_id", sa.Integer(), nullable=True))
    # decision: foreign-key fk_hero_mentor_id_hero: hero has a few rows
    batch_op.create_foreign_key(
        batch_op.f("fk_hero_mentor_id_hero"), "hero", ["mentor_id"], ["id"],
        postgresql_not_valid=True,
    )
with op.get_context().autocommit_block():
    op.validate_constraint("hero", "fk_hero_mentor_id_hero")
"""
ONLINE_FORMS_DOWNGRADE = """
with op.batch_alter_table("hero", schema=None) as batch_op:
    batch_op.drop_constraint(batch_op.f("fk_hero_mentor_id_hero"), type_="foreignkey")
op.drop_foreign_key_index("hero", "fk_hero_mentor_id_hero")
with op.batch_alter_table("hero", schema=None) as batch_op:
    batch_op.drop_column("mentor_id")
with op.get_context().autocommit_block():
    with op.batch_alter_table("hero", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hero_secret_name"), postgresql_concurrently=True)
"""


@pytest.mark.servers
def test_the_online_forms_run_on_mysql_and_sqlite(
    rendered: Callable[..., Project], tmp_path: Path, mysql: Server
) -> None:
    project = rendered(database="mysql").copy(tmp_path / "project")
    models = project.path / "src" / project.package / "models.py"
    models.write_text(
        models.read_text().replace(
            "    secret_name: str\n",
            "    secret_name: str = Field(index=True)\n"
            '    mentor_id: int | None = Field(default=None, foreign_key="hero.id")\n',
        )
    )
    project.add_revision("online forms", ONLINE_FORMS, ONLINE_FORMS_DOWNGRADE)
    assert lint(project)[:2] == (0, set())
    project.run("pytest", "-q")  # the guard tests on SQLite: stairway, rows, models match
    admin = mysql.admin.set(drivername="mysql").render_as_string(hide_password=False)
    project.run("pytest", "-q", env={"TEST_DATABASE_URL": admin})


def test_unique_on_a_new_column_and_a_revision_that_reads_rows(project: Project) -> None:
    path = project.add_revision(
        "code",
        """
        op.add_column("hero", sa.Column("code", sa.String(8), nullable=True))
        op.create_unique_constraint("uq_hero_code", "hero", ["code"])
        rows = op.get_bind().execute(sa.text("SELECT id FROM hero")).all()
        """,
    )
    status, found, output = lint(project)
    assert status == 1
    ((name, line, rule, target),) = found
    assert (name, rule, target) == (path.name, "offline", revision_id(path)), output
    assert "upgrade() cannot run without a database" in output
    source = path.read_text().replace(
        "def upgrade() -> None:",
        f"# decision: offline {revision_id(path)}: reads hero ids only\ndef upgrade() -> None:",
    )
    path.write_text(source)
    assert lint(project)[:2] == (0, set())


def test_an_autogenerated_drop_needs_its_decision(project: Project) -> None:
    models = project.path / "src" / project.package / "models.py"
    models.write_text(
        models.read_text().replace("    age: int | None = Field(default=None, index=True)\n", "")
    )
    project.alembic("upgrade", "head")
    project.alembic("revision", "--autogenerate", "-m", "drop age")
    (path,) = (project.path / "migrations" / "versions").glob("*_drop_age.py")
    status, found, output = lint(project)
    assert status == 1
    assert {(rule, target) for _name, _line, rule, target in found} == {
        ("data-loss", "hero.age"),
        ("review", revision_id(path)),
    }, output
    lines = path.read_text().splitlines()
    drop = next(n for n, line in enumerate(lines) if 'drop_column("age")' in line)
    indent = lines[drop][: len(lines[drop]) - len(lines[drop].lstrip())]
    lines.insert(drop, f"{indent}# decision: data-loss hero.age: nobody reads it since v2")
    path.write_text("\n".join(lines) + "\n")
    assert lint(project)[:2] == (0, set())


def test_ci_runs_the_gate(rendered: Callable[..., Project]) -> None:
    project = rendered()
    workflow = yaml.safe_load((project.path / ".github" / "workflows" / "ci.yml").read_text())
    runs = [step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]
    assert f"uv run {project.package.replace('_', '-')} db lint" in runs
