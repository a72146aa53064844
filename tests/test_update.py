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
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from .support import (
    GIT_IDENTITY,
    TEMPLATE,
    Project,
    project_environment,
    render,
    without_migration_steps,
)
from .test_default_project import HERO_WITH_POWER, add_to_class

pytestmark = pytest.mark.slow

PEP440_RELEASE = re.compile(r"^v?\d+(\.\d+)*$")
# What Copier says when it cannot update, and what the project's README says to run instead.
MOVED = "Local template must be a directory."
NOT_A_RELEASE = "You are downgrading from"
GONE = "Unknown revision"
DIRTY = "Destination repository is dirty"
NOT_GIT = "Updating is only supported in git-tracked subprojects"
STOPS = {
    MOVED: ["Set `_src_path` in `.copier-answers.yml`", "uvx copier update --defaults my-project"],
    NOT_A_RELEASE: ["uvx copier update --defaults --vcs-ref HEAD"],
    GONE: ["Set `_commit` in", "(`_commit: 1.1.0`)", "uvx copier recopy --defaults --overwrite"],
    DIRTY: ["commit or stash"],
    NOT_GIT: ["`git init`"],
}


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


def template_repository(path: Path, version: str = "1.0.0") -> Path:
    """A new repository holding this work tree, released as version."""
    path.mkdir()
    git(path, "init", "--quiet")
    copy_work_tree(path)
    commit_all(path, f"release {version}")
    git(path, "tag", version)
    return path


def edit(path: Path, old: str, new: str) -> None:
    source = path.read_text()
    assert old in source, f"{old!r} not in {path}"
    path.write_text(source.replace(old, new, 1))


def release_improvements(template: Path, version: str | None) -> None:
    """The template changes that an update must bring: a comment in env.py, a line in the
    README, a new tool setting; committed and tagged as version unless it is None."""
    edit(
        template / "template/{{ migrations_folder }}/env.py.jinja",
        "config = context.config\n",
        "config = context.config\n# Improved in template release 1.1.0.\n",
    )
    edit(
        template / "template/{{ readme_file }}.jinja",
        "## Updating from the template\n",
        "## Updating from the template\n\nTemplate 1.1.0 says hello.\n",
    )
    edit(
        template / "template/pyproject.toml.jinja",
        'addopts = ["-ra", "--strict-markers", "--tb=short"]\n',
        'addopts = ["-ra", "--strict-markers", "--tb=short"]\nxfail_strict = true\n',
    )
    if version:
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


def rename_the_hooks_module(template: Path, version: str) -> None:
    """A template change that needs a Copier migration step in existing projects: the
    user-owned migration_hooks.py becomes migration_settings.py."""
    package = template / "template/{{ package_folder }}"
    (package / "migration_hooks.py").rename(package / "migration_settings.py")
    sources = [template / "copier.yml", *(template / "template").rglob("*.py*")]
    for path in [p for p in sources if "migration_hooks" in p.read_text()]:
        path.write_text(path.read_text().replace("migration_hooks", "migration_settings"))
    step = (
        f'  - version: "{version}"\n'
        "    command: [git, mv, 'src/{{ package_name }}/migration_hooks.py',"
        " 'src/{{ package_name }}/migration_settings.py']\n"
    )
    copier_yml = (template / "copier.yml").read_text()
    if "\n_migrations:\n" in copier_yml:  # after the steps of the releases before
        copier_yml = copier_yml.replace("\n_migrations:\n", "\n_migrations:\n" + step, 1)
    else:
        copier_yml += "\n_migrations:\n" + step
    (template / "copier.yml").write_text(copier_yml)


def test_a_release_with_a_migration_step_needs_trust(tmp_path: Path) -> None:
    """A release that renames a user-owned file ships a _migrations step that renames it in
    existing projects (after the update, when the answers are known); Copier runs it only with
    --trust."""
    template = template_repository(tmp_path / "template")
    project = new_project(template, tmp_path / "project")
    hooks = project.path / "src/my_project/migration_hooks.py"
    edit(hooks, "    return True\n", '    return name != "legacy_table"\n')
    commit_all(project.path, "ignore the legacy table")

    rename_the_hooks_module(template, "2.0.0")
    commit_all(template, "release 2.0.0: migration_hooks.py is now migration_settings.py")
    git(template, "tag", "2.0.0")

    refused = copier(project.path, "update", "--defaults", check=False)
    assert refused.returncode == 4 and "--trust" in refused.stderr
    assert git(project.path, "status", "--porcelain") == ""  # nothing touched

    copier(project.path, "update", "--defaults", "--trust")
    assert not hooks.exists()
    settings = project.path / "src/my_project/migration_settings.py"
    assert 'return name != "legacy_table"' in settings.read_text()
    env_py = (project.path / "migrations/env.py").read_text()
    assert "from my_project import (\n    migration_settings,\n)" in env_py
    assert leftovers(project.path) == []
    project.sync()
    assert_migrates_on_a_fresh_database(project, tmp_path)


def release_tags() -> list[str]:
    tags = git(TEMPLATE, "tag", "--list").split()
    return [tag for tag in tags if PEP440_RELEASE.match(tag)]


# HEAD~1 in the clone is this checkout's last commit, below the work tree's: what projects made
# from main today (release or not) start from.
@pytest.mark.parametrize("ref", [*release_tags(), "HEAD~1"])
def test_update_from_every_release_to_the_work_tree(ref: str, tmp_path: Path) -> None:
    template = work_tree_clone(tmp_path / "template")
    project = new_project(template, tmp_path / "project", "--vcs-ref", ref)
    make_user_changes(project)
    copier(project.path, "update", "--defaults", "--vcs-ref", "HEAD")
    assert leftovers(project.path) == []
    project.sync()
    assert_migrates_on_a_fresh_database(project, tmp_path)


# Every way a user can have copied the template -------------------------------------------


def copy_as_user(cwd: Path, source: str, destination: str, *copier_args: str) -> Project:
    """`copier copy` typed in cwd, then the project's first commit and a user edit in README.md
    (a template-owned file) and in models.py (a user-owned one)."""
    copier(cwd, "copy", "--defaults", *copier_args, source, destination)
    project = Project(cwd / destination)
    git(project.path, "init", "--quiet")
    edit(
        project.path / "README.md",
        "SQLModel tables, migrated",
        "Our heroes. SQLModel tables, migrated",
    )
    models = project.path / "src/my_project/models.py"
    models.write_text(models.read_text() + "\n# Our models.\n")
    commit_all(project.path, "start from the template")
    return project


def recorded_commit(project: Project) -> str:
    """The answers file's _commit, read as YAML: a short hash of digits only is quoted there."""
    return str(yaml.safe_load((project.path / ".copier-answers.yml").read_text())["_commit"])


def assert_updated_to(project: Project, commit: str, run_from: Path | None = None) -> None:
    """The 1.1.0 improvements are in, the user's edits kept, and nothing newer is reported
    (by check-update run from run_from, the project by default)."""
    assert leftovers(project.path) == []
    assert (
        "# Improved in template release 1.1.0." in (project.path / "migrations/env.py").read_text()
    )
    readme = (project.path / "README.md").read_text()
    assert "Template 1.1.0 says hello." in readme and "Our heroes." in readme
    assert (project.path / "src/my_project/models.py").read_text().endswith("# Our models.\n")
    assert recorded_commit(project) == commit
    commit_all(project.path, "update from the template")
    run_from = run_from or project.path
    check = copier(run_from, "check-update", "--output-format", "json", str(project.path))
    assert json.loads(check.stdout)["update_available"] is False


def assert_refused(
    project: Project, result: subprocess.CompletedProcess[str], message: str
) -> None:
    """Copier stopped with this message and changed nothing."""
    assert result.returncode != 0 and message in result.stderr, result.stderr
    assert git(project.path, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    ("name", "way"),
    [
        ("template", lambda path: f"git+{path.as_uri()}"),
        ("template.git", Path.as_uri),
        ("template", str),
    ],
    ids=["a git+ URL", "a URL ending in .git", "an absolute path"],
)
def test_update_from_a_url_or_an_absolute_path(
    name: str, way: Callable[[Path], str], tmp_path: Path
) -> None:
    """Copier takes a URL for a git repository when it has git+ in front or .git at the end."""
    template = template_repository(tmp_path / name)
    source = way(template)
    project = copy_as_user(tmp_path, source, "project")
    assert f"_src_path: {source}\n" in (project.path / ".copier-answers.yml").read_text()
    release_improvements(template, "1.1.0")
    copier(project.path, "update", "--defaults")
    assert_updated_to(project, "1.1.0")


def test_update_from_a_relative_path_runs_where_the_copy_ran(tmp_path: Path) -> None:
    """Copier records `template` as typed and resolves it from where it runs: the project's
    README says to update from the folder the copy ran in, or to record an absolute path."""
    template_repository(tmp_path / "template")
    project = copy_as_user(tmp_path, "template", "project")
    release_improvements(tmp_path / "template", "1.1.0")
    inside = copier(project.path, "update", "--defaults", check=False)
    assert_refused(project, inside, MOVED)
    copier(tmp_path, "update", "--defaults", "project")
    assert_updated_to(project, "1.1.0", run_from=tmp_path)


def test_update_after_the_template_moved(tmp_path: Path) -> None:
    """The README's fix: point _src_path at the new place, commit, update."""
    template = template_repository(tmp_path / "template")
    project = copy_as_user(tmp_path, str(template), "project")
    release_improvements(template, "1.1.0")
    moved = template.rename(tmp_path / "moved")
    assert_refused(
        project,
        copier(project.path, "update", "--defaults", check=False),
        MOVED,
    )
    edit(project.path / ".copier-answers.yml", f"_src_path: {template}\n", f"_src_path: {moved}\n")
    commit_all(project.path, "the template moved")
    copier(project.path, "update", "--defaults")
    assert_updated_to(project, "1.1.0")


def test_update_from_a_clone_with_tags(tmp_path: Path) -> None:
    """Copier updates from what the local clone has: pull the new release into it first."""
    upstream = template_repository(tmp_path / "upstream")
    git(tmp_path, "clone", "--quiet", str(upstream), "template")
    project = copy_as_user(tmp_path, str(tmp_path / "template"), "project")
    assert "_commit: 1.0.0\n" in (project.path / ".copier-answers.yml").read_text()
    release_improvements(upstream, "1.1.0")
    git(tmp_path / "template", "pull", "--quiet", "--tags")
    copier(project.path, "update", "--defaults")
    assert_updated_to(project, "1.1.0")


def test_update_from_a_clone_without_tags(tmp_path: Path) -> None:
    """Without tags Copier records the commit and updates to the clone's newest commit."""
    upstream = template_repository(tmp_path / "upstream")
    git(tmp_path, "clone", "--quiet", "--no-tags", upstream.as_uri(), "template")
    clone = tmp_path / "template"
    project = copy_as_user(tmp_path, str(clone), "project")
    first = git(clone, "rev-parse", "--short", "HEAD").strip()
    assert recorded_commit(project) == first
    release_improvements(upstream, "1.1.0")
    git(clone, "pull", "--quiet", "--no-tags")
    assert git(clone, "tag", "--list") == ""
    copier(project.path, "update", "--defaults")
    assert_updated_to(project, git(clone, "rev-parse", "--short", "HEAD").strip())


def test_update_needs_a_clean_git_repository(tmp_path: Path) -> None:
    template = template_repository(tmp_path / "template")
    project = copy_as_user(tmp_path, str(template), "project")
    release_improvements(template, "1.1.0")
    models = project.path / "src/my_project/models.py"
    models.write_text(models.read_text() + "# Not committed yet.\n")
    dirty = copier(project.path, "update", "--defaults", check=False)
    assert dirty.returncode != 0 and DIRTY in dirty.stderr
    assert "Template 1.1.0 says hello." not in (project.path / "README.md").read_text()

    shutil.rmtree(project.path / ".git")
    not_git = copier(project.path, "update", "--defaults", check=False)
    assert not_git.returncode != 0 and NOT_GIT in not_git.stderr


def test_the_project_readme_says_what_to_run_when_an_update_stops(tmp_path: Path) -> None:
    """Each message above, in one place of the README, with the commands the tests run."""
    readme = (render(tmp_path / "project") / "README.md").read_text()
    section = readme.split("### When `copier update` stops", 1)[1]
    bullets = [" ".join(b.split()) for b in section.split("\n- ")[1:]]  # unwrapped
    for message, fixes in STOPS.items():
        (bullet,) = [b for b in bullets if message in b]
        assert all(fix in bullet for fix in fixes), (message, fixes)


def test_update_from_before_the_first_release_tag(tmp_path: Path) -> None:
    """Projects made while the repository had no tag record a bare commit id; the first
    release tag is an update for them."""
    template = tmp_path / "template"
    template.mkdir()
    git(template, "init", "--quiet")
    copy_work_tree(template)
    commit_all(template, "before any release tag")
    project = copy_as_user(tmp_path, str(template), "project")
    first = git(template, "rev-parse", "--short", "HEAD").strip()
    assert recorded_commit(project) == first
    release_improvements(template, "1.1.0")
    copier(project.path, "update", "--defaults")
    assert_updated_to(project, "1.1.0")


def commit_after_the_release(template: Path) -> None:
    """Work on main after 1.0.0, in a file that the next release does not change."""
    gitignore = template / "template/.gitignore"
    gitignore.write_text(gitignore.read_text() + "\n# Added on main after 1.0.0.\n")
    commit_all(template, "work on main")


def test_update_from_a_commit_that_is_not_a_release(tmp_path: Path) -> None:
    """Until the next release Copier calls the update a downgrade: the README's way is
    `--vcs-ref HEAD`; from the next release on, a plain update works."""
    template = template_repository(tmp_path / "template")
    commit_after_the_release(template)
    project = copy_as_user(tmp_path, str(template), "project", "--vcs-ref", "HEAD")
    answers = project.path / ".copier-answers.yml"
    assert re.search(r"^_commit: 1\.0\.0-1-g[0-9a-f]+$", answers.read_text(), re.MULTILINE)
    alembic_ini = template / "template/alembic.ini.jinja"
    alembic_ini.write_text(alembic_ini.read_text() + "# Changed on main.\n")
    commit_all(template, "more work on main")

    refused = copier(project.path, "update", "--defaults", check=False)
    assert_refused(project, refused, f"{NOT_A_RELEASE} 1.0.0.post1")
    check = copier(project.path, "check-update", "--output-format", "json")
    assert json.loads(check.stdout)["update_available"] is False  # as the README warns
    copier(project.path, "update", "--defaults", "--vcs-ref", "HEAD")
    assert "# Changed on main." in (project.path / "alembic.ini").read_text()
    commit_all(project.path, "follow main")

    release_improvements(template, "1.1.0")
    copier(project.path, "update", "--defaults")
    assert_updated_to(project, "1.1.0")
    assert "# Added on main after 1.0.0." in (project.path / ".gitignore").read_text()


def rewrite_history_without(template: Path, commit: str) -> None:
    """The template's main rewritten (a force push), so that commit exists nowhere."""
    git(template, "reset", "--quiet", "--hard", "1.0.0")
    release_improvements(template, "1.1.0")
    git(template, "reflog", "expire", "--expire=now", "--all")
    git(template, "gc", "--quiet", "--prune=now")
    assert run("git", "cat-file", "-e", commit, cwd=template, check=False).returncode != 0


def test_update_when_the_recorded_commit_is_gone(tmp_path: Path) -> None:
    """The README's fix: set _commit to the release the project came from, commit, update;
    or recopy."""
    template = template_repository(tmp_path / "template")
    commit_after_the_release(template)
    project = copy_as_user(tmp_path, str(template), "project", "--vcs-ref", "HEAD")
    recorded = git(template, "rev-parse", "HEAD").strip()
    git(tmp_path, "clone", "--quiet", str(project.path), "recopied")
    rewrite_history_without(template, recorded)

    refused = copier(project.path, "update", "--defaults", check=False)
    assert_refused(project, refused, GONE)
    answers = project.path / ".copier-answers.yml"
    answers.write_text(re.sub(r"^_commit: .*$", "_commit: 1.0.0", answers.read_text(), flags=re.M))
    commit_all(project.path, "the recorded commit is gone: start from 1.0.0")
    copier(project.path, "update", "--defaults")
    assert_updated_to(project, "1.1.0")
    assert "# Added on main after 1.0.0." in (project.path / ".gitignore").read_text()

    recopied = Project(tmp_path / "recopied")
    copier(recopied.path, "recopy", "--defaults", "--overwrite")
    assert (recopied.path / "src/my_project/models.py").read_text().endswith("# Our models.\n")
    assert "_commit: 1.1.0\n" in (recopied.path / ".copier-answers.yml").read_text()
    assert "Template 1.1.0 says hello." in (recopied.path / "README.md").read_text()
    assert "Our heroes." in git(recopied.path, "diff")  # the edit to bring back by hand


# Across real releases ---------------------------------------------------------------------


def release_with_the_script(template: Path, version: str, action: str) -> None:
    """Commit the template's changes with a CHANGELOG entry for version on top, check the
    CHANGELOG as CI does, and let the release script make the tag."""
    changelog = template / "CHANGELOG.md"
    text = re.sub(r"## Unreleased\n.*?(?=^## )", "", changelog.read_text(), flags=re.S | re.M)
    entry = f"## {version} (2026-12-01)\n\n- What {version} brings.\n\nAction: {action}\n\n"
    changelog.write_text(text.replace("\n## ", f"\n{entry}## ", 1))
    commit_all(template, f"release {version}")
    run(sys.executable, "scripts/check_changelog.py", cwd=template)
    released = run(sys.executable, "scripts/release_tag.py", cwd=template)
    assert f"Tagged {version}" in released.stdout


@pytest.fixture
def released_template(tmp_path: Path) -> Path:
    """Releases 1.0.0; 1.1.0 (env.py, README, pyproject changes); 2.0.0 (a _migrations step
    that renames migration_hooks.py, so it needs --trust)."""
    template = template_repository(tmp_path / "template")
    copier_yml = template / "copier.yml"
    copier_yml.write_text(without_migration_steps(copier_yml.read_text()))
    release_improvements(template, None)
    release_with_the_script(template, "1.1.0", "none.")
    rename_the_hooks_module(template, "2.0.0")
    release_with_the_script(
        template, "2.0.0", "run `copier update --trust` (needs --trust): it renames the file."
    )
    return template


def make_all_user_changes(project: Project) -> None:
    """Models and their revision, a README edit (make_user_changes), an edit in env.py
    (template-owned) and in migration_hooks.py (user-owned, renamed by 2.0.0)."""
    make_user_changes(project)
    env_py = project.path / "migrations/env.py"
    env_py.write_text(env_py.read_text() + "# Our note at the end of env.py.\n")
    edit(
        project.path / "src/my_project/migration_hooks.py",
        "    return True\n",
        '    return name != "legacy_table"\n',
    )
    commit_all(project.path, "our edits")


def db(project: Project, *args: str, database: Path) -> str:
    env = {"DATABASE_URL": f"sqlite:///{database}"}
    return project.run("my-project", "db", *args, env=env).stdout


def assert_at_the_newest_release(
    project: Project, user_files: dict[str, str], tmp_path: Path
) -> None:
    """User changes kept, both releases' changes in, one head, db check clean, up to date."""
    assert leftovers(project.path) == []
    for name, text in user_files.items():
        assert (project.path / name).read_text() == text, name
    env_py = (project.path / "migrations/env.py").read_text()
    assert "# Improved in template release 1.1.0." in env_py
    assert env_py.endswith("# Our note at the end of env.py.\n")
    assert "from my_project import (\n    migration_settings,\n)" in env_py
    readme = (project.path / "README.md").read_text()
    assert "Template 1.1.0 says hello." in readme and "Our heroes." in readme
    assert "xfail_strict = true" in (project.path / "pyproject.toml").read_text()
    assert not (project.path / "src/my_project/migration_hooks.py").exists()
    settings = (project.path / "src/my_project/migration_settings.py").read_text()
    assert 'return name != "legacy_table"' in settings
    assert "_commit: 2.0.0\n" in (project.path / ".copier-answers.yml").read_text()

    project.sync()
    commit_all(project.path, "updated")
    database = tmp_path / f"{project.path.name}.db"
    assert len(db(project, "heads", database=database).strip().splitlines()) == 1
    db(project, "upgrade", database=database)
    assert "No new upgrade operations detected" in db(project, "check", database=database)
    check = copier(project.path, "check-update", "--output-format", "json")
    assert json.loads(check.stdout)["update_available"] is False


def test_update_release_by_release_and_in_one_jump(
    released_template: Path, tmp_path: Path
) -> None:
    project = new_project(released_template, tmp_path / "step", "--vcs-ref", "1.0.0")
    make_all_user_changes(project)
    user_files = {
        name: (project.path / name).read_text()
        for name in [
            "src/my_project/models.py",
            *(f"migrations/versions/{r}" for r in project.revisions()),
        ]
    }
    git(tmp_path, "clone", "--quiet", str(project.path), "jump")
    jump = Project(tmp_path / "jump")

    copier(project.path, "update", "--defaults", "--vcs-ref", "1.1.0")  # no step: no --trust
    assert "_commit: 1.1.0\n" in (project.path / ".copier-answers.yml").read_text()
    commit_all(project.path, "update to 1.1.0")
    refused = copier(project.path, "update", "--defaults", check=False)
    assert refused.returncode == 4 and "--trust" in refused.stderr
    copier(project.path, "update", "--defaults", "--trust")
    assert_at_the_newest_release(project, user_files, tmp_path)

    copier(jump.path, "update", "--defaults", "--trust")
    assert_at_the_newest_release(jump, user_files, tmp_path)

    tracked = git(project.path, "ls-files").split()
    assert tracked == git(jump.path, "ls-files").split()
    different = [
        n for n in tracked if (project.path / n).read_text() != (jump.path / n).read_text()
    ]
    assert different == []  # both paths end with the same project
