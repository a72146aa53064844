"""copier.yml: the questions are a public interface; bad answers fail and write nothing."""

import datetime
import keyword
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from .support import TEMPLATE, project_environment, render

RESERVED = {
    kind: names.split()
    for kind, names in yaml.safe_load(
        (TEMPLATE / "includes" / "reserved-package-names.yml").read_text()
    )["reserved_package_names"]["default"].items()
}


def copier_copy(destination: Path, *answers: str, **env: str) -> subprocess.CompletedProcess:
    """`copier copy --defaults` from the command line, without --trust."""
    data = [arg for answer in answers for arg in ("-d", answer)]
    command = [sys.executable, "-m", "copier", "copy", "--defaults", "--vcs-ref", "HEAD"]
    return subprocess.run(
        [*command, *data, str(TEMPLATE), str(destination)],
        capture_output=True,
        text=True,
        env=project_environment(**env),
    )


def answers_of(project: Path) -> dict:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


def test_defaults_never_stop_to_ask(tmp_path: Path) -> None:
    result = copier_copy(tmp_path / "p")
    assert result.returncode == 0, result.stderr
    answers = answers_of(tmp_path / "p")
    assert answers["project_name"] == "My Project"
    assert answers["package_name"] == "my_project"
    assert answers["database"] == "sqlite"
    assert answers["async_engine"] is False
    assert answers["sample_models"] is True
    assert answers["author_email"] == "you@example.com"
    assert "cd " in result.stdout + result.stderr and "alembic upgrade head" in result.stderr


@pytest.mark.parametrize(
    ("project_name", "package_name"),
    [
        ("Hero Registry", "hero_registry"),
        ("  Déjà Vu -- 2 ", "d_j_vu_2"),
        ("42 Heroes", "heroes"),
        ("Alembic", "alembic_app"),
        ("JSON", "json_app"),
        ("Tests", "tests_app"),
        ("???", "app"),
    ],
)
def test_package_name_default_is_always_valid(
    tmp_path: Path, project_name: str, package_name: str
) -> None:
    render(tmp_path / "p", project_name=project_name)
    assert answers_of(tmp_path / "p")["package_name"] == package_name
    assert (tmp_path / "p" / "src" / package_name / "models.py").is_file()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("package_name=Hero", "is not a lowercase Python identifier"),
        ("package_name=hero-registry", "is not a lowercase Python identifier"),
        ("package_name=2heroes", "is not a lowercase Python identifier"),
        ("package_name=hero_", "is not a lowercase Python identifier"),
        ("package_name=héros", "is not a lowercase Python identifier"),
        ("package_name=class", "is a Python keyword"),
        ("package_name=migrations", "is a folder of the project itself"),
        ("package_name=tests", "is a folder of the project itself"),
        ("package_name=json", "is a standard-library module"),
        ("package_name=asyncio", "is a standard-library module"),
        ("package_name=sqlmodel", "is the import name of a package this project installs"),
        ("package_name=alembic", "is the import name of a package this project installs"),
        ("package_name=pydantic", "is the import name of a package this project installs"),
        ("package_name=typer", "is the import name of a package this project installs"),
        ("package_name=psycopg", "is the import name of a package this project installs"),
        ("package_name=hero__registry", "is not a lowercase Python identifier"),
        ("package_name=match", "is a Python keyword (or soft keyword)"),
        ("package_name=test", "is a standard-library module"),
        ("author_email=someone", "is not an email address"),
        ("author_email=a@b", "is not an email address"),
        # Addresses that packaging tools refuse in pyproject.toml's authors.
        ("author_email=a..b@example.com", "is not an email address"),
        ("author_email=.a@example.com", "is not an email address"),
        ("author_email=a,b@example.com", "is not an email address"),
        ("author_email=<a@example.com>", "is not an email address"),
        ("author_email=a@example.com;x", "is not an email address"),
        ("project_name=   ", "Give the project a name"),
        ("database=oracle", "Invalid choice"),
        ("initial_revision_id=1234", "is not a revision id"),
        ("initial_revision_id=ABCDEFABCDEF", "is not a revision id"),
        ("initial_revision_date=yesterday", "is not a UTC date"),
        ("initial_revision_date=2026-13-45 99:99:99", "is not a UTC date"),
    ],
)
def test_bad_answer_fails_and_writes_nothing(tmp_path: Path, answer: str, message: str) -> None:
    result = copier_copy(tmp_path / "p", answer)
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "p").exists()


def test_validator_messages_say_what_would_be_accepted(tmp_path: Path) -> None:
    result = copier_copy(tmp_path / "p", "package_name=json")
    assert "choose another name, e.g. json_app" in result.stderr


def test_first_revision_id_and_date_are_made_once_in_utc(tmp_path: Path) -> None:
    before = datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)
    # UTC+14: a local clock would put the date on another day.
    result = copier_copy(tmp_path / "p", TZ="Pacific/Kiritimati")
    after = datetime.datetime.now(datetime.UTC)
    assert result.returncode == 0, result.stderr
    answers = answers_of(tmp_path / "p")
    revision_id, date = answers["initial_revision_id"], answers["initial_revision_date"]
    assert re.fullmatch("[0-9a-f]{12}", revision_id)
    made = datetime.datetime.strptime(date, "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.UTC)
    assert before <= made <= after
    name = f"{made:%Y_%m_%d_%H%M}-{revision_id}_initial_schema.py"
    assert [p.name for p in (tmp_path / "p" / "migrations" / "versions").iterdir()] == [name]


def test_first_revision_ids_differ_between_projects(tmp_path: Path) -> None:
    ids = {answers_of(render(tmp_path / str(n)))["initial_revision_id"] for n in range(3)}
    assert len(ids) == 3


def test_copier_requirements() -> None:
    settings = yaml.safe_load((TEMPLATE / "copier.yml").read_text().split("\n---")[0])
    assert settings["_min_copier_version"] == "9.19.0"  # `ask: false` answers are stored
    assert settings["_subdirectory"] == "template"
    # No tasks, Jinja extensions or migrations in the copy path: `copier copy` needs no --trust.
    assert not {"_tasks", "_jinja_extensions"} & settings.keys()


def test_unusual_but_valid_answers_make_a_project_that_builds(tmp_path: Path) -> None:
    """Quotes, backslashes and a plus-addressed email survive into pyproject.toml and its
    metadata: the wheel builds."""
    answers = [
        "project_name=Héros & Villains",
        "description=Heroes \\ \"villains\" and 'sidekicks'",
        'author_name=Seán O\'Brien "Ed"',
        "author_email=first.last+heroes@mail.example.co.uk",
    ]
    result = copier_copy(tmp_path / "p", *answers)
    assert result.returncode == 0, result.stderr
    built = subprocess.run(
        ["uv", "build", "--wheel", "--quiet", "--out-dir", str(tmp_path / "dist")],
        cwd=tmp_path / "p",
        capture_output=True,
        text=True,
        env=project_environment(),
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("h_ros_villains-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith("METADATA")))
    assert "first.last+heroes@mail.example.co.uk" in metadata.decode()


def test_reserved_names_cover_keywords_and_the_standard_library() -> None:
    lowercase_keywords = {word for word in keyword.kwlist if word.islower()}
    assert lowercase_keywords <= set(RESERVED["keywords"])
    soft_keywords = {word for word in keyword.softkwlist if re.fullmatch("[a-z]+", word)}
    assert soft_keywords <= set(RESERVED["keywords"])
    assert set(sys.stdlib_module_names) <= set(RESERVED["stdlib"])
    assert {"migrations", "tests"} <= set(RESERVED["folders"])
