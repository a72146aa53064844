"""Fixtures: one rendering per answer set per session (a test that changes a project works on
a copy), and the database servers, which skip when absent but fail under CI=true."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .support import Project, Server, connect_server, render


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Project]:
    """rendered(**answers): a synced project for these answers, shared for the session. Read it;
    change only a .copy() of it."""
    cache: dict[frozenset, Project] = {}

    def get(**answers: object) -> Project:
        key = frozenset(answers.items())
        if key not in cache:
            name = "-".join(f"{k}={v}" for k, v in sorted(answers.items())) or "defaults"
            project = Project(render(tmp_path_factory.mktemp(name) / "project", **answers))
            project.sync()
            cache[key] = project
        return cache[key]

    return get


@pytest.fixture
def project(rendered: Callable[..., Project], tmp_path: Path) -> Project:
    """A copy of the default project that the test may change."""
    return rendered().copy(tmp_path / "project")


@pytest.fixture(scope="session")
def postgresql() -> Server:
    return connect_server("postgresql")


@pytest.fixture(scope="session")
def mysql() -> Server:
    return connect_server("mysql")


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """DATABASE_URL of a fresh database of the kind the test is parametrized with (`database`)."""
    kind = request.getfixturevalue("database")
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    server: Server = request.getfixturevalue(kind)
    with server.scratch_database() as name:
        yield server.url(name).render_as_string(hide_password=False)
