"""`copier update`: template improvements reach a project; the user's work is never lost.

Each test works on a temporary template repository made from this work tree, tags releases in
it, and drives Copier's command line in a project, as a user would.
"""

import filecmp
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .support import GIT_IDENTITY, TEMPLATE, Project, project_environment
from .test_default_project import HERO_WITH_POWER, add_to_class

pytestmark = pytest.mark.slow

PEP440_RELEASE = re.compile(r"^v?\d+(\.\d+)*$")


def run(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, env=project_environment(**GIT_IDENTITY)
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)}: {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


def git(cwd: Path, *args: str) -> str:
    return run("git", *args, cwd=cwd).stdout


def copier(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "copier", *args, cwd=cwd, check=check)


def work_tree_files() -> list[str]:
    """This work tree as a clean clone would have it, plus uncommitted edits."""
    listing = git(TEMPLATE, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return [name for name in listing.split("\0") if name and (TEMPLATE / name).is_file()]


def copy_work_tree(destination: Path) -> None:
    for name in work_tree_files():
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(TEMPLATE / name, destination / name)


def commit_all(repository: Path, message: str) -> None:
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "--allow-empty", "-m", message)


def work_tree_clone(path: Path) -> Path:
    """A clone of this repository (its tags too) with the work tree committed on top."""
    git(path.parent, "clone", "--quiet", str(TEMPLATE), str(path))
    copy_work_tree(path)
    commit_all(path, "the work tree")
    return path


def template_repository(path: Path) -> Path:
    """A new repository holding this work tree, released as 1.0.0."""
    path.mkdir()
    git(path, "init", "--quiet")
    copy_work_tree(path)
    commit_all(path, "release 1.0.0")
    git(path, "tag", "1.0.0")
    return path


def edit(path: Path, old: str, new: str) -> None:
    source = path.read_text()
    assert old in source, f"{old!r} not in {path}"
    path.write_text(source.replace(old, new, 1))


def release_improvements(template: Path, version: str) -> None:
    """The template changes that an update must bring: a comment in env.py, a line in the
    README, a new tool setting."""
    edit(
        template / "template/migrations/env.py.jinja",
        "config = context.config\n",
        "config = context.config\n# Improved in template release 1.1.0.\n",
    )
    edit(
        template / "template/README.md.jinja",
        "## Updating from the template\n",
        "## Updating from the template\n\nTemplate 1.1.0 says hello.\n",
    )
    edit(
        template / "template/pyproject.toml.jinja",
        'addopts = ["-ra", "--strict-markers", "--tb=short"]\n',
        'addopts = ["-ra", "--strict-markers", "--tb=short"]\nxfail_strict = true\n',
    )
    commit_all(template, f"release {version}")
    git(template, "tag", version)


def new_project(template: Path, destination: Path, *copier_args: str) -> Project:
    """copier copy (the latest release), then the first commit, as a user starts."""
    copier(destination.parent, "copy", "--defaults", *copier_args, str(template), str(destination))
    project = Project(destination)
    git(destination, "init", "--quiet")
    commit_all(destination, "start from the template")
    return project


def make_user_changes(project: Project) -> dict[str, str]:
    """A new field with its revision, and a README edit; returns the revision's name and text."""
    project.sync()
    project.alembic("upgrade", "head")
    add_to_class(project.path / "src/my_project/models.py", "Hero", HERO_WITH_POWER)
    before = set(project.revisions())
    project.alembic("revision", "--autogenerate", "-m", "add power")
    (revision,) = set(project.revisions()) - before
    edit(
        project.path / "README.md",
        "SQLModel tables, migrated",
        "Our heroes. SQLModel tables, migrated",
    )
    commit_all(project.path, "add power")
    return {revision: (project.path / "migrations/versions" / revision).read_text()}


def leftovers(project: Path) -> list[str]:
    """Conflict markers and .rej files in the project."""
    found = [str(p.relative_to(project)) for p in project.rglob("*.rej") if ".venv" not in p.parts]
    grep = run("git", "grep", "-l", "-e", "^<<<<<<< ", "-e", "^>>>>>>> ", cwd=project, check=False)
    return found + grep.stdout.split()


def assert_migrates_on_a_fresh_database(project: Project, tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    assert len(project.alembic("heads").stdout.strip().splitlines()) == 1
    project.alembic("upgrade", "head", env=env)
    assert "No new upgrade operations detected" in project.alembic("check", env=env).stdout


def test_an_update_brings_the_template_changes_and_keeps_the_users(tmp_path: Path) -> None:
    template = template_repository(tmp_path / "template")
    project = new_project(template, tmp_path / "project")
    assert "_commit: 1.0.0" in (project.path / ".copier-answers.yml").read_text()
    user_revision = make_user_changes(project)
    models = (project.path / "src/my_project/models.py").read_text()
    revisions = project.revisions()

    release_improvements(template, "1.1.0")
    check = copier(project.path, "check-update", "--output-format", "json")
    assert json.loads(check.stdout)["update_available"] is True
    update = copier(project.path, "update", "--defaults")
    assert update.returncode == 0

    assert leftovers(project.path) == []
    assert (project.path / "src/my_project/models.py").read_text() == models
    assert project.revisions() == revisions
    for name, text in user_revision.items():
        assert (project.path / "migrations/versions" / name).read_text() == text
    assert (
        "# Improved in template release 1.1.0." in (project.path / "migrations/env.py").read_text()
    )
    readme = (project.path / "README.md").read_text()
    assert "Template 1.1.0 says hello." in readme and "Our heroes." in readme
    assert "xfail_strict = true" in (project.path / "pyproject.toml").read_text()
    assert "_commit: 1.1.0" in (project.path / ".copier-answers.yml").read_text()
    project.sync()
    assert_migrates_on_a_fresh_database(project, tmp_path)
    project.run("ruff", "check", ".")
    project.run("ruff", "format", "--check", ".")

    check = copier(project.path, "check-update", "--output-format", "json")
    assert json.loads(check.stdout)["update_available"] is False


def test_an_untouched_project_updated_equals_a_fresh_copy(tmp_path: Path) -> None:
    template = template_repository(tmp_path / "template")
    project = new_project(template, tmp_path / "project")
    release_improvements(template, "1.1.0")
    copier(project.path, "update", "--defaults")

    answers = project.path / ".copier-answers.yml"
    fresh = tmp_path / "fresh"
    copier(tmp_path, "copy", "--defaults", "--data-file", str(answers), str(template), str(fresh))
    compared = filecmp.dircmp(project.path, fresh, ignore=[".git"])
    assert differences(compared) == []


def differences(compared: filecmp.dircmp) -> list[str]:
    found = [*compared.left_only, *compared.right_only, *compared.diff_files]
    for name, sub in compared.subdirs.items():
        found += [f"{name}/{item}" for item in differences(sub)]
    return found


def test_recopy_keeps_the_first_revision_and_the_users_files(tmp_path: Path) -> None:
    template = template_repository(tmp_path / "template")
    project = new_project(template, tmp_path / "project")
    user_revision = make_user_changes(project)
    models = (project.path / "src/my_project/models.py").read_text()
    revisions = project.revisions()

    copier(project.path, "recopy", "--defaults", "--overwrite")
    assert project.revisions() == revisions
    assert (project.path / "src/my_project/models.py").read_text() == models
    for name, text in user_revision.items():
        assert (project.path / "migrations/versions" / name).read_text() == text
    assert_migrates_on_a_fresh_database(project, tmp_path)


def test_a_release_with_a_migration_step_needs_trust(tmp_path: Path) -> None:
    """A release that renames a user-owned file ships a _migrations step that renames it in
    existing projects (after the update, when the answers are known); Copier runs it only with
    --trust."""
    template = template_repository(tmp_path / "template")
    project = new_project(template, tmp_path / "project")
    hooks = project.path / "src/my_project/migration_hooks.py"
    edit(hooks, "    return True\n", '    return name != "legacy_table"\n')
    commit_all(project.path, "ignore the legacy table")

    package = template / "template/src/{{ package_name }}"
    (package / "migration_hooks.py").rename(package / "migration_settings.py")
    for path in [template / "copier.yml", template / "template/migrations/env.py.jinja"]:
        path.write_text(path.read_text().replace("migration_hooks", "migration_settings"))
    (template / "copier.yml").write_text(
        (template / "copier.yml").read_text() + "\n_migrations:\n"
        '  - version: "2.0.0"\n'
        "    command: [git, mv, 'src/{{ package_name }}/migration_hooks.py',"
        " 'src/{{ package_name }}/migration_settings.py']\n"
    )
    commit_all(template, "release 2.0.0: migration_hooks.py is now migration_settings.py")
    git(template, "tag", "2.0.0")

    refused = copier(project.path, "update", "--defaults", check=False)
    assert refused.returncode == 4 and "--trust" in refused.stderr
    assert git(project.path, "status", "--porcelain") == ""  # nothing touched

    copier(project.path, "update", "--defaults", "--trust")
    assert not hooks.exists()
    settings = project.path / "src/my_project/migration_settings.py"
    assert 'return name != "legacy_table"' in settings.read_text()
    assert (
        "from my_project import autogen, database, load_models, migration_settings"
        in (project.path / "migrations/env.py").read_text()
    )
    assert leftovers(project.path) == []
    project.sync()
    assert_migrates_on_a_fresh_database(project, tmp_path)


def release_tags() -> list[str]:
    tags = git(TEMPLATE, "tag", "--list").split()
    return [tag for tag in tags if PEP440_RELEASE.match(tag)]


@pytest.mark.parametrize(
    "tag",
    release_tags()
    or [
        pytest.param(
            None, marks=pytest.mark.skip(reason="this repository has no release tags yet")
        )
    ],
)
def test_update_from_every_release_to_the_work_tree(tag: str, tmp_path: Path) -> None:
    template = work_tree_clone(tmp_path / "template")
    project = new_project(template, tmp_path / "project", "--vcs-ref", tag)
    make_user_changes(project)
    copier(project.path, "update", "--defaults", "--vcs-ref", "HEAD")
    assert leftovers(project.path) == []
    project.sync()
    assert_migrates_on_a_fresh_database(project, tmp_path)
