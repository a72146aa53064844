"""Template repositories with real releases: 1.0.0 as it was released, then this work tree."""

import shutil
import subprocess
import sys
from pathlib import Path

from .support import GIT_IDENTITY, TEMPLATE, project_environment

RELEASE_1_0_0 = "22d07866d7e799cc03adf606ab168d15b6582f04"  # the commit tagged 1.0.0


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env=project_environment(**GIT_IDENTITY),
    )
    return result.stdout


def commit_all(repository: Path, message: str) -> None:
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "--allow-empty", "-m", message)


def two_releases(path: Path) -> Path:
    """A template repository with 1.0.0 as released, then this work tree as 2.0.0."""
    path.mkdir()
    git(path, "init", "--quiet")
    archive = subprocess.run(
        ["git", "archive", RELEASE_1_0_0], cwd=TEMPLATE, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x"], input=archive.stdout, cwd=path, check=True)
    commit_all(path, "release 1.0.0")
    git(path, "tag", "1.0.0")
    for child in path.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    listing = git(TEMPLATE, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for name in filter(None, listing.split("\0")):
        if (TEMPLATE / name).is_file():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE / name, path / name)
    commit_all(path, "release 2.0.0")
    git(path, "tag", "2.0.0")
    return path


def copier(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Copier's command line, as a user runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "copier", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=project_environment(**GIT_IDENTITY),
    )
    assert not check or result.returncode == 0, result.stdout + result.stderr
    return result
