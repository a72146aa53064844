"""What the READMEs tell a newcomer to run, runs."""

import re
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .support import TEMPLATE, Project, project_environment


def try_it_commands() -> list[str]:
    """The two commands under "## Try it" in the template's README."""
    section = (TEMPLATE / "README.md").read_text().split("## Try it", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, "no command block under '## Try it'"
    return block[1].strip().splitlines()


def test_the_demo_command_renders_and_applies_the_first_migration(tmp_path: Path) -> None:
    demo, _ = try_it_commands()
    assert "--vcs-ref HEAD" in demo  # the work tree, not the latest release tag
    command = demo.replace("../demo", str(tmp_path / "demo"))
    subprocess.run(command, shell=True, cwd=TEMPLATE, check=True, env=project_environment())
    with sqlite3.connect(tmp_path / "demo" / "my_project.db") as connection:
        (version,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version in "".join(p.name for p in (tmp_path / "demo/migrations/versions").iterdir())


def test_ci_runs_the_readme_test_command() -> None:
    _, test_command = try_it_commands()
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
