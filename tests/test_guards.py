"""The rendered project's guard tests, run as a user runs them: on the database the project
deploys on (the real PostgreSQL and MariaDB through TEST_DATABASE_URL or DATABASE_URL), with
the mistakes they are there to catch, the correct revisions they must pass, and no server."""

import json
import re
import subprocess
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest

from .support import PASSWORD, Project, Server
from .test_default_project import add_to_class

ALL_DATABASES = [
    pytest.param("sqlite"),
    pytest.param("postgresql", marks=pytest.mark.servers),
    pytest.param("mysql", marks=pytest.mark.servers),
]
SERVER_DATABASES = ALL_DATABASES[1:]

POWER_ENUM = """

class Power(str, enum.Enum):
    none = "none"
    fly = "fly"
    swim = "swim"
"""
HERO_POWER = """
    power: Power | None = Field(default=None, sa_column=sa.Column(sa.Enum(Power, name="power")))
"""
RICH_MODELS = """

class Gadget(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(max_length=40, unique=True)
    power: Power = Field(sa_column=sa.Column(sa.Enum(Power, name="power"), nullable=False))
    price: decimal.Decimal = Field(max_digits=8, decimal_places=2)
    weight: float | None = None
    specs: dict | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    made_on: datetime.date | None = None
    seen_at: datetime.datetime | None = None
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    serial: uuid.UUID | None = None
    note: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    team_id: int | None = Field(
        default=None, sa_column=sa.Column(sa.ForeignKey("team.id", ondelete="CASCADE"))
    )


class Membership(SQLModel, table=True):
    hero_id: int = Field(foreign_key="hero.id", primary_key=True)
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    since: datetime.date
    role: str = Field(
        default="member", max_length=20, sa_column_kwargs={"server_default": "member"}
    )
    __table_args__ = (sa.CheckConstraint("length(role) > 0", name="role_not_empty"),)
"""
MODEL_IMPORTS = (
    "import datetime\nimport decimal\nimport enum\nimport uuid\n\nimport sqlalchemy as sa\n"
)
RICH_COLUMNS = {
    "gadget": ["label", "power", "price", "weight", "specs", "made_on", "seen_at", "active"]
    + ["serial", "note", "team_id"],
    "membership": ["since", "role"],
}


@pytest.fixture
def project(
    rendered: Callable[..., Project], database: str, database_url: str, tmp_path: Path
) -> Project:
    """A copy of the project for this database, DATABASE_URL naming a fresh database there."""
    copy = rendered(database=database).copy(tmp_path / "p")
    copy.env["DATABASE_URL"] = database_url
    return copy


def admin_url(request: pytest.FixtureRequest, database: str) -> dict[str, str]:
    """TEST_DATABASE_URL for the server of this kind: the environment of the project's tests."""
    if database == "sqlite":
        return {}
    server: Server = request.getfixturevalue(database)
    url = server.url(server.admin.database).render_as_string(hide_password=False)
    return {"TEST_DATABASE_URL": url}


def guard_tests(
    project: Project, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return project.run("pytest", "-p", "no:cacheprovider", *args, env=env, check=False)


def models_of(project: Project) -> Path:
    return project.path / "src" / project.package / "models.py"


def with_power(project: Project) -> None:
    """Hero gets an enum column, power (none, fly, swim)."""
    models = models_of(project)
    source = models.read_text()
    source = MODEL_IMPORTS + source.split('"""', 2)[2].lstrip("\n").replace(
        "\n\nclass Team(", POWER_ENUM + "\n\nclass Team(", 1
    )
    models.write_text('"""Models."""\n\n' + source)
    add_to_class(models, "Hero", HERO_POWER)


def autogenerate(project: Project, message: str) -> Path:
    """Upgrade, then write the revision for what changed in the models."""
    project.alembic("upgrade", "head")
    before = set(project.revisions())
    project.alembic("revision", "--autogenerate", "-m", message)
    (new,) = set(project.revisions()) - before
    return project.path / "migrations" / "versions" / new


def revision_id(path: Path) -> str:
    return path.name.split("-")[1].split("_")[0]


def insert_decision(revision: Path, line: str) -> None:
    source = revision.read_text()
    revision.write_text(
        source.replace("def upgrade() -> None:\n", f"def upgrade() -> None:\n    {line}\n", 1)
    )


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


# Data: values survive, column by column, unless a revision records the loss as decided.


@pytest.mark.parametrize("database", ALL_DATABASES)
def test_an_unedited_rename_fails_naming_the_column(
    project: Project, request: pytest.FixtureRequest, database: str
) -> None:
    models = models_of(project)
    models.write_text(models.read_text().replace("    age: int", "    years: int"))
    revision = autogenerate(project, "rename age")
    assert 'drop_column("age")' in revision.read_text()  # the rename as autogenerate writes it
    result = guard_tests(project, admin_url(request, database), "-k", "values")
    assert result.returncode == 1, output(result)
    failed = "FAILED tests/migrations/test_migrations.py::test_values_survive_the_stairway"
    assert failed in result.stdout
    message = f"Revision {revision_id(revision)} ({revision.name}) loses values"
    assert message in result.stdout
    assert re.search(
        r"loses values in its upgrade and downgrade: hero\.age \(\d+ -> None\)", result.stdout
    )
    assert "new_column_name=" in result.stdout  # how to fix it
    assert "# decision: data-loss <table>.<column>: <why>" in result.stdout  # or decide it


@pytest.mark.parametrize("database", ["sqlite"])
def test_a_decision_line_accepts_that_loss_and_no_other(project: Project) -> None:
    models = models_of(project)
    models.write_text(models.read_text().replace("    age: int", "    years: int"))
    revision = autogenerate(project, "rename age")
    shipped = revision.read_text()

    insert_decision(revision, "# decision: data-loss hero.name: another column")
    result = guard_tests(project, {}, "-k", "values")
    assert result.returncode == 1 and "hero.age (" in result.stdout, output(result)
    assert "hero.name (" not in result.stdout

    for decided in ("hero.age: nobody reads it", "hero: the table is rebuilt"):
        revision.write_text(shipped)
        insert_decision(revision, f"# decision: data-loss {decided}")
        result = guard_tests(project, {}, "-k", "values")
        assert result.returncode == 0, output(result)
        assert "1 passed" in result.stdout


@pytest.mark.parametrize("database", ALL_DATABASES)
def test_rich_models_pass_the_guards_and_each_value_is_guarded(
    project: Project, request: pytest.FixtureRequest, database: str
) -> None:
    """Enum, Numeric, float, JSON, date, datetime, boolean with a default, UUID, text, a
    foreign key with ON DELETE, a composite primary key and a check constraint; then a
    change that SQLite makes by copying the table."""
    with_power(project)
    models = models_of(project)
    models.write_text(models.read_text() + RICH_MODELS)
    autogenerate(project, "rich tables")
    models.write_text(
        models.read_text().replace(
            "label: str = Field(max_length=40, unique=True)",
            "label: str = Field(max_length=60, unique=True)\n"
            "    rating: int | None = Field(default=None, index=True)",
        )
    )
    autogenerate(project, "longer label")
    env = admin_url(request, database)
    result = guard_tests(project, env)
    assert result.returncode == 0, output(result)
    assert "skipped" not in result.stdout and "error" not in result.stdout

    wipe = project.add_revision(
        "wipe rich columns",
        upgrade=f"""
            for table, columns in {RICH_COLUMNS!r}.items():
                with op.batch_alter_table(table) as batch_op:
                    if table == "gadget":  # MySQL drops no column that a foreign key uses
                        batch_op.drop_constraint("fk_gadget_team_id_team", type_="foreignkey")
                    for column in columns:
                        batch_op.drop_column(column)
                        batch_op.add_column(sa.Column(column, sa.String(80), nullable=True))
        """,
    )
    result = guard_tests(project, env, "-k", "values")
    assert result.returncode == 1, output(result)
    assert f"Revision {revision_id(wipe)}" in result.stdout
    lost = re.search(r"loses values in its upgrade and downgrade: (.*?)\. A rename", result.stdout)
    assert lost, result.stdout
    targets = {found.split(" (")[0] for found in lost[1].split("; ")}
    assert targets == {f"{t}.{c}" for t, columns in RICH_COLUMNS.items() for c in columns}


# Schema: the stairway compares everything, so a downgrade must undo everything.

FORGOTTEN = {
    "not null": ("nullable=False", "hero: column age: NULL -> NOT NULL"),
    "server default": ('server_default="7"', "hero: column age: default none -> default"),
}


@pytest.mark.parametrize("forgotten", FORGOTTEN)
@pytest.mark.parametrize("database", ALL_DATABASES)
def test_a_downgrade_that_forgets_fails_the_stairway(
    project: Project, request: pytest.FixtureRequest, database: str, forgotten: str
) -> None:
    change, expected = FORGOTTEN[forgotten]
    undo = "nullable=True" if forgotten == "not null" else "server_default=None"
    alter = 'batch_op.alter_column("age", existing_type=sa.Integer(), {})'
    revision = project.add_revision(
        f"age {forgotten}",
        upgrade=f'with op.batch_alter_table("hero") as batch_op:\n    {alter.format(change)}',
    )
    env = admin_url(request, database)
    result = guard_tests(project, env, "-k", "stairway")
    assert result.returncode == 1, output(result)
    assert "FAILED tests/migrations/test_migrations.py::test_stairway" in result.stdout
    assert f"The downgrade of revision {revision_id(revision)} ({revision.name})" in result.stdout
    assert expected in result.stdout

    source = revision.read_text()
    downgrade = f'with op.batch_alter_table("hero") as batch_op:\n        {alter.format(undo)}'
    revision.write_text(
        source.replace(
            "def downgrade() -> None:\n    pass", f"def downgrade() -> None:\n    {downgrade}"
        )
    )
    result = guard_tests(project, env, "-k", "stairway")
    assert result.returncode == 0, output(result)


# Where the tests run.


@pytest.mark.parametrize("database", SERVER_DATABASES)
def test_an_enum_revision_passes_the_projects_tests(
    project: Project, request: pytest.FixtureRequest, database: str
) -> None:
    """On the server: on SQLite, the PostgreSQL enum stays VARCHAR and MySQL's
    existing_type=mysql.ENUM(...) does not compile, so the same revisions failed there."""
    with_power(project)
    autogenerate(project, "add power")
    models = models_of(project)
    models.write_text(
        models.read_text().replace('    swim = "swim"\n', '    swim = "swim"\n    dig = "dig"\n')
    )
    revision = autogenerate(project, "add dig")
    assert "dig" in revision.read_text().split("def downgrade")[0]

    for env in (admin_url(request, database), {}):  # TEST_DATABASE_URL, then DATABASE_URL's
        result = guard_tests(project, env)
        assert result.returncode == 0, output(result)
        assert "skipped" not in result.stdout and "error" not in result.stdout
        source = "TEST_DATABASE_URL" if env else "the server of DATABASE_URL"
        assert f"({source}), dropped after" in result.stdout


ESCAPED = urllib.parse.quote(PASSWORD, safe="")


def skipped_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]


@pytest.mark.parametrize("database", ["postgresql", "mysql"])
def test_without_a_server_the_database_tests_skip_with_one_line(
    rendered: Callable[..., Project], database: str
) -> None:
    project = rendered(database=database)
    unreachable = {"DATABASE_URL": f"{database}://app:{ESCAPED}@127.0.0.1:1/app"}
    for env, cause in ((unreachable, "cannot connect to"), ({}, "DATABASE_URL is not set")):
        result = guard_tests(project, env)
        assert result.returncode == 0, output(result)
        (line,) = skipped_lines(result)
        assert cause in line and "set TEST_DATABASE_URL to an admin URL" in line, line
        assert PASSWORD not in output(result) and ESCAPED not in output(result)
        # What needs no server still ran: one head, the SQL of every revision, db lint.
        assert re.search(r"\b4 passed, \d+ skipped\b", result.stdout), result.stdout

    result = guard_tests(project, {**unreachable, "CI": "true"})
    assert result.returncode == 1, output(result)
    assert "CI=true needs the database: no" in result.stdout
    assert not skipped_lines(result)
    assert PASSWORD not in output(result) and ESCAPED not in output(result)


@pytest.mark.parametrize("database", SERVER_DATABASES)
def test_a_user_who_cannot_create_databases_gets_one_line(
    rendered: Callable[..., Project], request: pytest.FixtureRequest, database: str
) -> None:
    server: Server = request.getfixturevalue(database)
    project = rendered(database=database)
    with server.scratch_database() as name, server.scratch_user(name) as user:
        url = server.url(name, user, PASSWORD).render_as_string(hide_password=False)
        result = guard_tests(project, {"DATABASE_URL": url})
    assert result.returncode == 0, output(result)
    (line,) = skipped_lines(result)
    assert "the user of DATABASE_URL cannot create databases" in line, line
    assert PASSWORD not in output(result) and ESCAPED not in output(result)


# The README's data-migration recipe, run as a revision on a table with an enum column.


def readme_recipe(project: Project) -> str:
    section = (project.path / "README.md").read_text().split("### A data migration", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert block, "no code block under '### A data migration'"
    return block[1]


HEROES = [(1, None), (2, None), (3, "fly"), (5, None), (6, "swim"), (7, None)]
SELECT_POWERS = """
import json
import sqlalchemy as sa
from {package}.dbkit.database import make_engine
with make_engine().connect() as connection:
    rows = connection.execute(sa.text("SELECT id, power FROM hero ORDER BY id"))
    print(json.dumps([list(row) for row in rows]))
"""
INSERT_HEROES = """
import sqlalchemy as sa
from {package}.dbkit.database import make_engine
with make_engine().begin() as connection:
    for id, power in {heroes!r}:
        connection.execute(
            sa.text("INSERT INTO hero (id, name, secret_name, power)"
                    " VALUES (:id, 'h', 's', :power)"),
            {{"id": id, "power": power}},
        )
"""


@pytest.mark.parametrize("database", ALL_DATABASES)
def test_the_readme_data_migration_fills_an_enum_column_in_batches(
    project: Project, request: pytest.FixtureRequest, database: str
) -> None:
    with_power(project)
    before = revision_id(autogenerate(project, "add power"))
    project.alembic("upgrade", "head")
    project.run("python", "-c", INSERT_HEROES.format(package=project.package, heroes=HEROES))

    recipe = readme_recipe(project)
    assert "BATCH_SIZE = 10_000" in recipe
    revision = project.add_revision("fill power", upgrade="pass")
    source = revision.read_text()
    head = source[: source.index("def upgrade")]
    revision.write_text(head + recipe.replace("BATCH_SIZE = 10_000", "BATCH_SIZE = 2"))
    project.run("ruff", "check", str(revision))
    project.run("ruff", "format", "--check", str(revision))

    sql = project.alembic("upgrade", f"{before}:head", "--sql").stdout
    assert re.search(r"UPDATE hero SET power=.*none.* WHERE hero.power IS NULL", sql), sql
    project.alembic("upgrade", "head")
    powers = json.loads(
        project.run("python", "-c", SELECT_POWERS.format(package=project.package)).stdout
    )
    assert powers == [[id, power or "none"] for id, power in HEROES]

    result = guard_tests(project, admin_url(request, database))
    assert result.returncode == 0, output(result)
    assert "skipped" not in result.stdout


WAREHOUSE_LOSSES = {"zone", "label", "productlabel", "bin.zone_id"} | {
    f"product.{column}" for column in ("weight", "batch", "specs")
}


@pytest.mark.slow
@pytest.mark.parametrize("database", ALL_DATABASES)
def test_recorded_decisions_let_a_realistic_revision_pass(
    rendered: Callable[..., Project],
    request: pytest.FixtureRequest,
    database: str,
    database_url: str,
    tmp_path: Path,
) -> None:
    """The warehouse of tests/corpus drops tables and columns on purpose: the guard tests name
    each loss, and pass once the revision records each one, whole tables by their name."""
    project = rendered(database=database, sample_models=False).copy(tmp_path / "p")
    project.env["DATABASE_URL"] = database_url
    corpus = Path(__file__).parent / "corpus"
    models_of(project).write_text((corpus / "warehouse_v1.py").read_text())
    autogenerate(project, "warehouse")
    models_of(project).write_text((corpus / "warehouse_v2.py").read_text())
    revision = autogenerate(project, "warehouse v2")
    env = admin_url(request, database)
    # The data guards only: db lint's guard test judges the same revision on its own terms.
    guards = "tests/migrations/test_migrations.py"
    result = guard_tests(project, env, guards)
    assert result.returncode == 1, output(result)
    assert "1 failed" in result.stdout  # the values; the schema comes back whole
    lost = re.search(r"loses values in its upgrade and downgrade: (.*?)\. A rename", result.stdout)
    assert lost, result.stdout
    assert {found.split(" (")[0] for found in lost[1].split("; ")} == WAREHOUSE_LOSSES

    for target in sorted(WAREHOUSE_LOSSES):
        insert_decision(revision, f"# decision: data-loss {target}: warehouse v2 drops it")
    result = guard_tests(project, env, guards)
    assert result.returncode == 0, output(result)
    assert "skipped" not in result.stdout
