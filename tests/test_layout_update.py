"""A project made with 1.0.0 moves to the dbkit/ layout through `copier update --trust`, with
its revisions, models, hooks and its edits of the template's files kept."""

from pathlib import Path

import pytest

from .releases import commit_all, copier, git, two_releases
from .support import Project
from .test_default_project import HERO_WITH_POWER, add_to_class

pytestmark = pytest.mark.slow

DATABASE_EDIT = "    # Our team's note: the URL comes from the vault in production.\n"
CLI_EDIT = '    typer.echo("Our banner")\n'


def insert_after(path: Path, anchor: str, lines: str) -> None:
    source = path.read_text()
    assert anchor in source, f"{anchor!r} not in {path}"
    path.write_text(source.replace(anchor, anchor + lines, 1))


def test_a_1_0_0_project_moves_to_the_dbkit_layout_keeping_every_edit(tmp_path: Path) -> None:
    template = two_releases(tmp_path / "template")
    destination = tmp_path / "project"
    copier(tmp_path, "copy", "--defaults", "--vcs-ref", "1.0.0", str(template), str(destination))
    project = Project(destination)
    package = destination / "src" / "my_project"
    git(destination, "init", "--quiet")
    commit_all(destination, "start from 1.0.0")

    # The user's own work, and edits of three template-owned files.
    project.sync()
    project.alembic("upgrade", "head")
    add_to_class(package / "models.py", "Hero", HERO_WITH_POWER)
    project.alembic("revision", "--autogenerate", "-m", "add power")
    hooks = package / "migration_hooks.py"
    hooks.write_text(hooks.read_text().replace("    return True\n", '    return name != "x"\n'))
    insert_after(package / "database.py", "    root = project_root()\n", DATABASE_EDIT)
    insert_after(package / "cli.py", "def main() -> None:\n", CLI_EDIT)
    autogen = package / "autogen.py"
    autogen.write_text(autogen.read_text() + "\n# Our own autogenerate note.\n")
    commit_all(destination, "our work")
    revisions = project.revisions()
    models, hooks_text = (package / "models.py").read_text(), hooks.read_text()

    refused = copier(destination, "update", "--defaults", check=False)
    assert refused.returncode == 4 and "--trust" in refused.stderr
    assert git(destination, "status", "--porcelain") == ""

    update = copier(destination, "update", "--defaults", "--trust")
    kit = package / "dbkit"
    for old in ["database.py", "migrate.py", "naming.py", "cli.py", "__main__.py", "autogen.py"]:
        assert not (package / old).exists(), old
    for old in ["test_migrations.py", "migration_support.py"]:
        assert not (destination / "tests" / old).exists(), old
    assert DATABASE_EDIT in (kit / "database.py").read_text()
    assert CLI_EDIT in (kit / "cli.py").read_text()
    assert "<<<<<<<" not in (kit / "database.py").read_text()
    rejected = kit / "autogen" / "autogen.py.rej"
    assert "+# Our own autogenerate note." in rejected.read_text()
    assert "autogen.py.rej" in update.stdout + update.stderr
    assert (package / "models.py").read_text() == models
    assert hooks.read_text() == hooks_text
    assert project.revisions() == revisions
    assert "dbkit" in (package / "__init__.py").read_text()  # unedited: the new one

    rejected.unlink()
    project.sync()
    fresh = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    project.alembic("upgrade", "head", env=fresh)
    assert "No new upgrade operations detected" in project.alembic("check", env=fresh).stdout
    project.alembic("upgrade", "head")  # the database made with 1.0.0 goes on
    assert "No new upgrade operations detected" in project.alembic("check").stdout
    assert project.run("my-project", "db", "current").returncode == 0
    result = project.run("pytest", "-q", check=False)
    assert result.returncode == 0, result.stdout
    assert "tests/migrations/test_migrations.py" in project.run("pytest", "-q", "--co").stdout
    project.run("ruff", "check", ".")
