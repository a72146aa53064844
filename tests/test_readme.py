"""What the READMEs tell a newcomer to run, runs."""

import re
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .support import GIT_IDENTITY, TEMPLATE, Project, project_environment
from .test_update import copier, release_improvements, work_tree_clone


def try_it_commands() -> list[str]:
    """The commands under "## Try it" in the template's README: the demo's, then the tests'."""
    section = (TEMPLATE / "README.md").read_text().split("## Try it", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, "no command block under '## Try it'"
    return block[1].strip().splitlines()


def next_release(checkout: Path) -> str:
    """A version above every release tag of checkout."""
    tags = subprocess.run(["git", "tag"], cwd=checkout, capture_output=True, text=True).stdout
    majors = [int(tag.split(".")[0]) for tag in tags.split() if re.fullmatch(r"\d+(\.\d+)*", tag)]
    return f"{max(majors, default=0) + 1}.0.0"


@pytest.mark.slow
def test_the_try_it_demo_migrates_and_updates(tmp_path: Path) -> None:
    """The demo commands, run as written in a clone of this checkout, leave a demo with its
    first migration applied that `copier update` updates, now and after the next release."""
    checkout = work_tree_clone(tmp_path / "checkout")
    *demo_commands, _ = try_it_commands()
    environment = project_environment(**GIT_IDENTITY)
    script = "\n".join(demo_commands)
    subprocess.run(["bash", "-e", "-c", script], cwd=checkout, check=True, env=environment)
    demo = tmp_path / "demo"
    with sqlite3.connect(demo / "my_project.db") as connection:
        (version,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version in "".join(p.name for p in (demo / "migrations/versions").iterdir())
    assert f"_src_path: {checkout}\n" in (demo / ".copier-answers.yml").read_text()

    copier(demo, "update", "--defaults")
    release_improvements(checkout, next_release(checkout))
    copier(demo, "update", "--defaults")
    assert "Template 1.1.0 says hello." in (demo / "README.md").read_text()


def test_ci_runs_the_readme_test_command() -> None:
    *_, test_command = try_it_commands()
    ci = (TEMPLATE / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == test_command


@pytest.mark.slow
def test_plain_pip_installs_the_dev_tools(
    rendered: Callable[..., Project], tmp_path: Path
) -> None:
    """The project README's way without uv: a venv, pip 25.1 or newer, `--group dev`."""
    project = rendered().copy(tmp_path / "project")  # its own copy: pip installs it editable
    readme = (project.path / "README.md").read_text()
    assert (
        'pip install --upgrade "pip>=25.1"' in readme and "pip install -e . --group dev" in readme
    )
    venv = tmp_path / "pip-venv"
    python = str(venv / "bin" / "python")
    project.command("python3", "-m", "venv", str(venv))
    project.command(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip>=25.1")
    project.command(python, "-m", "pip", "install", "--quiet", "-e", ".", "--group", "dev")
    result = project.command(str(venv / "bin" / "pytest"), "-p", "no:cacheprovider")
    assert " passed" in result.stdout
    project.command(str(venv / "bin" / "alembic"), "upgrade", "head")
    assert (project.path / "my_project.db").exists()
