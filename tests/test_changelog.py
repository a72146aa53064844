"""The CHANGELOG check: versions increase, every entry has its Action: line, and a release
with a Copier migration step says it needs --trust. It runs on the real CHANGELOG, and on
crafted bad ones in a temporary clone, where each must fail and say what to fix."""

import subprocess
import sys
from pathlib import Path

import pytest

from .support import TEMPLATE, without_migration_steps
from .test_update import git, work_tree_clone

HEADER = "# Changelog\n\nReleases are PEP 440 tags of this repository.\n\n"
RELEASE_1_0 = "## 1.0.0 (2026-11-24)\n\nThe first release.\n\nAction: none (new projects).\n"
MIGRATION_STEP = (
    '\n_migrations:\n  - version: "{version}"\n    command: [git, mv, old.py, new.py]\n'
)


def check_changelog(repository: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/check_changelog.py"],
        cwd=repository,
        capture_output=True,
        text=True,
    )


def test_the_changelog_follows_its_rules() -> None:
    result = check_changelog(TEMPLATE)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return work_tree_clone(tmp_path_factory.mktemp("changelog") / "template")


@pytest.fixture
def repository(clone: Path, tmp_path: Path) -> Path:
    """A temporary clone of this repository, whose CHANGELOG.md and copier.yml a test changes;
    its copier.yml starts without the real release's migration steps."""
    git(tmp_path, "clone", "--quiet", str(clone), "repository")
    copier_yml = tmp_path / "repository" / "copier.yml"
    copier_yml.write_text(without_migration_steps(copier_yml.read_text()))
    return tmp_path / "repository"


def write(repository: Path, changelog: str, migration_version: str | None = None) -> None:
    (repository / "CHANGELOG.md").write_text(HEADER + changelog)
    if migration_version:
        with (repository / "copier.yml").open("a") as copier_yml:
            copier_yml.write(MIGRATION_STEP.format(version=migration_version))


GOOD = {
    "released": RELEASE_1_0,
    "unreleased on top": "## Unreleased\n\n- More.\n\nAction: none.\n\n" + RELEASE_1_0,
    "a version not released yet": "## 1.1.0 (unreleased)\n\nAction: none.\n\n" + RELEASE_1_0,
    "a release above its candidate": "## 1.1.0 (2026-12-02)\n\nAction: none.\n\n"
    "## 1.1.0rc1 (2026-12-01)\n\nAction: none.\n\n" + RELEASE_1_0,
    "several Action lines": "## Unreleased\n\nAction: none.\n\n**B**\n\nAction: none.\n\n"
    + RELEASE_1_0,
}


@pytest.mark.parametrize("changelog", GOOD.values(), ids=GOOD.keys())
def test_a_good_changelog_passes(repository: Path, changelog: str) -> None:
    write(repository, changelog)
    result = check_changelog(repository)
    assert result.returncode == 0, result.stderr


def test_a_release_with_a_migration_step_that_says_trust_passes(repository: Path) -> None:
    write(
        repository,
        "## 2.0.0 (2026-12-01)\n\nAction: run `copier update --trust` (needs --trust).\n\n"
        + RELEASE_1_0,
        migration_version="2.0.0",
    )
    result = check_changelog(repository)
    assert result.returncode == 0, result.stderr


BAD = {
    "an older version on top": (
        "## 0.9.0 (2026-12-01)\n\nAction: none.\n\n" + RELEASE_1_0,
        None,
        "line 5: 0.9.0 is above 1.0.0 (line 9): versions must increase, newest entry first",
    ),
    "the same version twice": (
        RELEASE_1_0 + "\n" + RELEASE_1_0,
        None,
        "1.0.0 is above 1.0.0",
    ),
    "a candidate above its release": (
        "## 1.1.0rc1 (2026-12-02)\n\nAction: none.\n\n## 1.1.0 (2026-12-01)\n\nAction: none.\n\n"
        + RELEASE_1_0,
        None,
        "line 5: 1.1.0rc1 is above 1.1.0 (line 9)",
    ),
    "1.0 above 1.0.0": (
        "## 1.0 (2026-12-01)\n\nAction: none.\n\n" + RELEASE_1_0,
        None,
        "line 5: 1.0 is above 1.0.0 (line 9)",
    ),
    "a date that goes back": (
        "## 1.1.0 (2026-01-01)\n\nAction: none.\n\n" + RELEASE_1_0,
        None,
        "1.1.0 is dated 2026-01-01, before 1.0.0 (2026-11-24): dates must not go back",
    ),
    "no Action line": (
        "## 1.1.0 (2026-12-01)\n\n- A change.\n\n" + RELEASE_1_0,
        None,
        "line 5: '## 1.1.0 (2026-12-01)' has no 'Action:' line",
    ),
    "an Action line in a bullet only": (
        "## Unreleased\n\n- Action: none.\n\n" + RELEASE_1_0,
        None,
        "'## Unreleased' has no 'Action:' line",
    ),
    "a migration step and no --trust": (
        "## 2.0.0 (2026-12-01)\n\nAction: none.\n\n" + RELEASE_1_0,
        "2.0.0",
        "'## 2.0.0 (2026-12-01)' ships a _migrations step (copier.yml), so its Action: line"
        " must say it needs `copier update --trust`",
    ),
    "an unreleased migration step and no --trust": (
        "## Unreleased\n\nAction: none.\n\n" + RELEASE_1_0,
        "1.1.0",
        "'## Unreleased' ships a _migrations step",
    ),
    "a migration step for a version without an entry": (
        "## 1.1.0 (2026-12-01)\n\nAction: none.\n\n" + RELEASE_1_0,
        "1.0.5",
        "copier.yml has a _migrations step for 1.0.5, but CHANGELOG.md has no 1.0.5 entry",
    ),
    "unreleased below a release": (
        "## 1.1.0 (2026-12-01)\n\nAction: none.\n\n## Unreleased\n\nAction: none.\n\n"
        + RELEASE_1_0,
        None,
        "line 9: '## Unreleased' is not released, so it must be the first entry",
    ),
    "a version marked unreleased below a release": (
        "## 1.2.0 (2026-12-01)\n\nAction: none.\n\n## 1.1.0 (unreleased)\n\nAction: none.\n\n"
        + RELEASE_1_0,
        None,
        "line 9: '## 1.1.0 (unreleased)' is not released, so it must be the first entry",
    ),
    "a v prefix": (
        "## v1.1.0 (2026-12-01)\n\nAction: none.\n\n" + RELEASE_1_0,
        None,
        'line 5: "v1.1.0" is not a PEP 440 release: write it like 1.2.0 (or 1.2.0rc1)',
    ),
    "a heading without its date": (
        "## 1.1.0\n\nAction: none.\n\n" + RELEASE_1_0,
        None,
        "line 5: '## 1.1.0' is not '## <version> (<YYYY-MM-DD>)'",
    ),
    "an impossible date": (
        "## 1.1.0 (2026-13-01)\n\nAction: none.\n\n" + RELEASE_1_0,
        None,
        "line 5: '2026-13-01' is not a date",
    ),
    "no entry at all": ("Nothing yet.\n", None, "CHANGELOG.md has no entry"),
}


@pytest.mark.parametrize(("changelog", "migration_version", "message"), BAD.values(), ids=BAD)
def test_a_bad_changelog_fails_with_what_to_fix(
    repository: Path, changelog: str, migration_version: str | None, message: str
) -> None:
    write(repository, changelog, migration_version)
    result = check_changelog(repository)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()  # one line per problem
    assert line.startswith("CHANGELOG.md: ") and message in line, line
    assert result.stdout == ""


def test_a_migration_step_without_a_version_fails(repository: Path) -> None:
    write(repository, RELEASE_1_0)
    with (repository / "copier.yml").open("a") as copier_yml:
        copier_yml.write("\n_migrations:\n  - [git, mv, old.py, new.py]\n")
    result = check_changelog(repository)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "CHANGELOG.md: copier.yml has a _migrations step without a version: Copier runs it on"
        " every update, so every update would need --trust; give it the version of the release"
        " that needs it"
    ]
