"""Every answer combination renders a project that installs, lints clean and passes its tests."""

import json
import tomllib
from collections.abc import Callable

import pytest

from .support import Project, Server
from .test_questions import RESERVED

VARIANTS = [
    pytest.param(
        database,
        async_engine,
        sample_models,
        id=f"{database}-{mode}-{models}",
        marks=[pytest.mark.servers] if database != "sqlite" else [],
    )
    for database in ("sqlite", "postgresql", "mysql")
    for async_engine, mode in ((False, "sync"), (True, "async"))
    for sample_models, models in ((True, "samples"), (False, "empty"))
]
# Every import name in a project's environment, from the files each distribution installed.
LIST_IMPORT_NAMES = """
import json, importlib.metadata as metadata
names = set()
for dist in metadata.distributions():
    for file in dist.files or []:
        top = file.parts[0]
        if top.endswith((".dist-info", ".data", ".pth")) or top in ("..", "__pycache__"):
            continue
        name = top.split(".")[0] if len(file.parts) == 1 else top
        if name.isidentifier():
            names.add(name)
print(json.dumps(sorted(names)))
"""


@pytest.mark.parametrize(("database", "async_engine", "sample_models"), VARIANTS)
def test_variant(
    rendered: Callable[..., Project],
    request: pytest.FixtureRequest,
    database: str,
    async_engine: bool,
    sample_models: bool,
) -> None:
    project = rendered(database=database, async_engine=async_engine, sample_models=sample_models)
    project.run("ruff", "check", ".")
    project.run("ruff", "format", "--check", ".")
    env = {}
    if database != "sqlite":  # the project's tests run on its own kind of server
        server: Server = request.getfixturevalue(database)
        admin = server.url(server.admin.database).render_as_string(hide_password=False)
        env["TEST_DATABASE_URL"] = admin
    result = project.run("pytest", "-p", "no:cacheprovider", env=env)
    assert " passed" in result.stdout and "failed" not in result.stdout
    assert "skipped" not in result.stdout, result.stdout

    package = project.package
    imports = json.loads(project.run("python", "-c", LIST_IMPORT_NAMES).stdout)
    installed = set(imports) - {package}
    assert installed <= set(RESERVED["installed"]) | set(RESERVED["stdlib"]), (
        "add these import names to includes/reserved-package-names.yml: "
        f"{sorted(installed - set(RESERVED['installed']) - set(RESERVED['stdlib']))}"
    )


@pytest.mark.parametrize(
    ("database", "async_engine", "expected"),
    [
        ("sqlite", False, {"sqlmodel", "alembic[tz]", "sqlalchemy"}),
        ("sqlite", True, {"aiosqlite", "sqlalchemy[asyncio]"}),
        ("postgresql", False, {"psycopg[binary]", "alembic-postgresql-enum"}),
        ("postgresql", True, {"asyncpg", "sqlalchemy[asyncio]", "alembic-postgresql-enum"}),
        ("mysql", False, {"pymysql[rsa]"}),
        ("mysql", True, {"aiomysql", "pymysql[rsa]", "sqlalchemy[asyncio]"}),
    ],
)
def test_dependencies(
    rendered: Callable[..., Project], database: str, async_engine: bool, expected: set[str]
) -> None:
    project = rendered(database=database, async_engine=async_engine)
    pyproject = tomllib.loads((project.path / "pyproject.toml").read_text())
    names = {
        requirement.split(">")[0].split("=")[0]
        for requirement in pyproject["project"]["dependencies"]
    }
    assert expected <= names
    assert pyproject["project"]["requires-python"] == ">=3.11"
    dev = " ".join(pyproject["dependency-groups"]["dev"])
    assert "pytest" in dev and "ruff" in dev
    assert not (project.path / ".python-version").exists()  # no interpreter pin to download


def test_empty_models_make_an_empty_first_revision(rendered: Callable[..., Project]) -> None:
    project = rendered(sample_models=False)
    models = (project.path / "src" / project.package / "models.py").read_text()
    assert "table=True" not in models.split('"""')[-1]  # only the example in the docstring
    (first,) = project.revisions()
    source = (project.path / "migrations" / "versions" / first).read_text()
    assert "create_table" not in source
    assert "def upgrade() -> None:\n    pass" in source
