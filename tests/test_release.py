"""Releases: the release workflow's tagging step, run as it is written in a temporary clone,
makes the PEP 440 tag of the CHANGELOG's newest release once, and Copier releases that tag."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .support import GIT_IDENTITY, TEMPLATE, project_environment
from .test_update import commit_all, copier, git, work_tree_clone

HEADER = "# Changelog\n\n"
RELEASE_1_0 = "## 1.0.0 (2026-11-24)\n\nThe first release.\n\nAction: none (new projects).\n"
RELEASE_1_1 = "## 1.1.0 (2026-12-01)\n\n- Better.\n\nAction: none.\n\n"


def tagging_step() -> dict:
    """The release workflow's step that runs scripts/release_tag.py."""
    workflow = yaml.safe_load((TEMPLATE / ".github/workflows/release.yml").read_text())
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    (step,) = [step for step in steps if "scripts/release_tag.py" in step.get("run", "")]
    return step


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone of the work tree whose origin is a bare repository, as on GitHub."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", str(origin))
    clone = work_tree_clone(tmp_path / "clone")
    git(clone, "remote", "set-url", "origin", str(origin))
    git(clone, "push", "--quiet", "origin", "HEAD:refs/heads/main")
    return clone


def run_tagging_step(clone: Path) -> subprocess.CompletedProcess[str]:
    """The workflow's step as written, with `python` this Python and the step's environment."""
    step = tagging_step()
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    environment = project_environment(**GIT_IDENTITY, PATH=path)
    environment.update(step.get("env", {}))
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=clone,
        env=environment,
        capture_output=True,
        text=True,
    )


def release(clone: Path, changelog: str) -> subprocess.CompletedProcess[str]:
    """Commit this CHANGELOG on main and run the workflow's tagging step on that commit."""
    (clone / "CHANGELOG.md").write_text(HEADER + changelog)
    commit_all(clone, "CHANGELOG")
    return run_tagging_step(clone)


def tags(repository: Path) -> dict[str, str]:
    """Each tag and the commit it names."""
    listing = git(
        repository, "for-each-ref", "--format=%(refname:short) %(*objectname)", "refs/tags"
    )
    return dict(line.split() for line in listing.splitlines())


def head(repository: Path) -> str:
    return git(repository, "rev-parse", "HEAD").strip()


def test_the_newest_release_is_tagged_once_and_pushed(clone: Path) -> None:
    made = release(clone, RELEASE_1_0)
    assert made.returncode == 0, made.stderr
    assert "Tagged 1.0.0" in made.stdout
    assert tags(clone) == {"1.0.0": head(clone)}
    assert tags(clone.parent / "origin.git") == {"1.0.0": head(clone)}

    again = run_tagging_step(clone)
    assert again.returncode == 0, again.stderr
    assert "1.0.0 is already tagged: no tag." in again.stdout
    assert list(tags(clone)) == ["1.0.0"]


@pytest.mark.parametrize(
    "newest",
    [
        "## Unreleased\n\n- Coming.\n\nAction: none.\n\n",
        "## 1.1.0 (unreleased)\n\n- Coming.\n\nAction: none.\n\n",
        "",  # the 1.0.0 entry edited: no new version
    ],
    ids=["Unreleased", "a version marked unreleased", "no new entry"],
)
def test_an_entry_without_a_new_release_makes_no_tag(clone: Path, newest: str) -> None:
    assert release(clone, RELEASE_1_0).returncode == 0
    first = tags(clone)
    made = release(clone, newest + RELEASE_1_0.replace("first", "very first"))
    assert made.returncode == 0, made.stderr
    assert "no tag." in made.stdout
    assert tags(clone) == first
    assert tags(clone.parent / "origin.git") == first


def test_the_next_release_is_tagged_on_its_commit_and_copier_renders_it(
    clone: Path, tmp_path: Path
) -> None:
    assert release(clone, RELEASE_1_0).returncode == 0
    made = release(clone, "## Unreleased\n\nAction: none.\n\n" + RELEASE_1_1 + RELEASE_1_0)
    assert "no tag." in made.stdout
    made = release(clone, RELEASE_1_1 + RELEASE_1_0)
    assert made.returncode == 0, made.stderr
    assert tags(clone)["1.1.0"] == head(clone)
    assert set(tags(clone.parent / "origin.git")) == {"1.0.0", "1.1.0"}

    commit_all(clone, "after the release")  # main moves on; users still get the release
    copier(tmp_path, "copy", "--defaults", str(clone), "project")
    assert "_commit: 1.1.0\n" in (tmp_path / "project/.copier-answers.yml").read_text()


def test_a_tag_that_cannot_be_pushed_is_not_kept(clone: Path) -> None:
    """So that the next run, once the remote is back, makes and pushes it."""
    origin = clone.parent / "origin.git"
    origin.rename(clone.parent / "away.git")
    made = release(clone, RELEASE_1_0)
    assert made.returncode == 1
    (line,) = made.stderr.splitlines()
    assert line.startswith("git push origin refs/tags/1.0.0: ") and "origin.git" in line
    assert tags(clone) == {}

    (clone.parent / "away.git").rename(origin)
    assert run_tagging_step(clone).returncode == 0
    assert tags(origin) == {"1.0.0": head(clone)}


def test_a_version_below_the_latest_tag_is_an_error(clone: Path) -> None:
    assert release(clone, RELEASE_1_1 + RELEASE_1_0).returncode == 0
    made = release(clone, "## 1.0.5 (2026-12-02)\n\nAction: none.\n\n")
    assert made.returncode == 1
    assert made.stderr.strip() == (
        "CHANGELOG.md: the newest entry, 1.0.5, is not above the latest tag, 1.1.0:"
        " give the new entry a higher version"
    )
    assert set(tags(clone)) == {"1.1.0"}


def test_the_release_workflow_tags_only_after_ci_passed_on_main() -> None:
    workflow = yaml.safe_load((TEMPLATE / ".github/workflows/release.yml").read_text())
    trigger = workflow[True]["workflow_run"]  # YAML 1.1 reads the key `on` as True
    assert trigger == {"workflows": ["CI"], "types": ["completed"], "branches": ["main"]}
    (job,) = workflow["jobs"].values()
    assert "conclusion == 'success'" in job["if"] and "event == 'push'" in job["if"]
    assert workflow["permissions"] == {"contents": "read"}
    assert job["permissions"] == {"contents": "write"}  # only the job that pushes the tag
    checkout = job["steps"][0]
    assert checkout["with"]["ref"] == "${{ github.event.workflow_run.head_sha }}"
    assert checkout["with"]["fetch-depth"] == 0
