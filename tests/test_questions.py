"""copier.yml: the questions are a public interface; bad answers fail and write nothing."""

import ast
import configparser
import datetime
import keyword
import re
import subprocess
import sys
import tomllib
import uuid
import zipfile
from pathlib import Path

import pytest
import yaml

from .support import TEMPLATE, Project, Server, project_environment, render

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


# The longest answers the validators accept: 63 characters name the database in .env.example.
LONGEST_PACKAGE_NAME = "hero_" * 12 + "abc"
LONGEST_PROJECT_NAME = "Héroïque " * 11 + "X"
assert (len(LONGEST_PACKAGE_NAME), len(LONGEST_PROJECT_NAME)) == (63, 100)


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
        ("Café Manager", "cafe_manager"),
        ("  Déjà Vu -- 2 ", "deja_vu_2"),
        ("é è ê ë à â ä ô ö û ü ç ñ ß ø å æ œ", "e_e_e_e_a_a_a_o_o_u_u_c_n_ss_o_a_ae_oe"),
        ("É È Ê Ë À Â Ä Ô Ö Û Ü Ç Ñ ẞ Ø Å Æ Œ", "e_e_e_e_a_a_a_o_o_u_u_c_n_ss_o_a_ae_oe"),
        ("Łódź Straße Þór Ðað", "lodz_strasse_thor_dad"),
        ("Cafe\u0301 Cre\u0300me", "cafe_creme"),  # decomposed accents: the marks are dropped
        ("Rocket 🚀 Launch", "rocket_launch"),
        # Cut at 63 characters, and never at an underscore.
        (LONGEST_PROJECT_NAME, "_".join(["heroique"] * 7)),
        ("x" * 100, "x" * 63),
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
    # Copier does not validate a default: this one must pass the validator on its own.
    assert re.fullmatch("[a-z](_?[a-z0-9])*", package_name) and len(package_name) <= 63


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
        # `$` would match before a final newline: every regex is anchored at the very end.
        ("package_name=abc\n", '"abc\\n" is not a lowercase Python identifier'),
        ("initial_revision_id=1a2b3c4d5e6f\n", "is not a revision id"),
        ("initial_revision_date=2026-11-22 14:30:00\n", "is not a UTC date"),
        ("author_email=someone@example.com\n", "is not an email address"),
        # Free text is one line: no line breaks, no control characters.
        ("project_name=Hero\nRegistry", "The project name must be one line"),
        ("project_name=Hero Registry\n", "The project name must be one line"),
        ("description=First line.\nSecond line.", "The description must be one line"),
        ("description=Ring \x07 the bell", "The description must be one line"),
        ("description=Deleted \x7f", "The description must be one line"),
        ("description=Next line \x85 here", "The description must be one line"),
        ("description=Line \u2028 separator", "The description must be one line"),
        ("author_name=Ed\rO'Brien", "The author name must be one line"),
        ("author_name=Ed\n", "The author name must be one line"),
        # Past these lengths a name breaks a path or a database name (File name too long).
        (f"package_name={'a' * 64}", "The package name has 64 characters: keep it to 63"),
        (f"package_name={'a' * 300}", "The package name has 300 characters: keep it to 63"),
        (f"project_name={'A' * 101}", "The project name has 101 characters: keep it to 100"),
        (f"project_name={'A' * 300}", "The project name has 300 characters: keep it to 100"),
    ],
)
def test_bad_answer_fails_and_writes_nothing(tmp_path: Path, answer: str, message: str) -> None:
    result = copier_copy(tmp_path / "p", answer)
    assert result.returncode == 1
    # Copier prints a traceback for a refused -d answer; the README says the message comes last.
    assert message in result.stderr.rstrip().splitlines()[-1]
    assert not (tmp_path / "p").exists()


def test_validator_messages_say_what_would_be_accepted(tmp_path: Path) -> None:
    result = copier_copy(tmp_path / "p", "package_name=json")
    assert "choose another name, e.g. json_app" in result.stderr


def test_a_refused_answer_prints_what_the_readme_says(tmp_path: Path) -> None:
    """Copier's traceback, then the message: the README must not promise less noise."""
    readme = (TEMPLATE / "README.md").read_text().split("A bad answer writes nothing.", 1)[1]
    shown = readme.split("```\n", 2)[1].strip()
    result = copier_copy(tmp_path / "p", "package_name=json")
    assert result.returncode == 1
    assert "Traceback (most recent call last):" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1] == shown


def test_a_misspelt_boolean_reads_as_true_as_the_readme_says(tmp_path: Path) -> None:
    """Copier casts a bool answer before any validator sees it: the README warns about it."""
    readme = " ".join((TEMPLATE / "README.md").read_text().split())
    assert "and any other word as true" in readme
    result = copier_copy(tmp_path / "p", "async_engine=flase")
    assert result.returncode == 0, result.stderr
    assert answers_of(tmp_path / "p")["async_engine"] is True


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


HOSTILE_ANSWERS = {
    "quotes, backslashes, emoji and tabs": {
        "project_name": 'Rocket 🚀 "Q" \'s\' \\ """ \t Café',
        "description": 'Émoji 🚀🎉 "double" \'single\' back\\slash """ \t {{ 7*7 }} %(here)s %',
        "author_name": 'Zoë 🚀 O\'Brien "Ed" \\ \t <x>, y',
        "author_email": "first.last+heroes@mail.example.co.uk",
    },
    "very long strings": {
        "project_name": "🚀" * 100,
        "description": "A very long description, " * 400,
        "author_name": "Seán Ó Briain-" * 100,
        "author_email": "a" * 64 + "@" + "b" * 63 + ".example.com",
    },
}


# Files of each kind that every project has: the parser below cannot pass by reading none.
STRUCTURED_FILES = {"pyproject.toml", ".copier-answers.yml", ".pre-commit-config.yaml"}
STRUCTURED_FILES |= {".github/workflows/ci.yml", "alembic.ini", "migrations/env.py"}


def parse_structured_files(project: Path) -> set[str]:
    """Read every TOML, YAML, INI and Python file as its tool does; the files read."""
    read = set()
    for path in project.rglob("*"):
        if ".venv" in path.parts or not path.is_file():
            continue
        name = path.relative_to(project).as_posix()
        if path.suffix == ".toml":
            tomllib.loads(path.read_text(encoding="utf-8"))
        elif path.suffix in {".yml", ".yaml"}:
            yaml.safe_load(path.read_text(encoding="utf-8"))
        elif path.suffix == ".ini":
            read_ini_as_alembic_does(path)
        elif path.suffix == ".py":
            ast.parse(path.read_text(encoding="utf-8"), filename=name)
        else:
            continue
        read.add(name)
    return read


def read_ini_as_alembic_does(path: Path) -> None:
    """Alembic's Config: a ConfigParser with %(here)s, interpolating every value but the
    formats, which logging's fileConfig reads raw."""
    parser = configparser.ConfigParser({"here": str(path.parent)})
    parser.read(path, encoding="utf-8")
    for section in parser.sections():
        for option in parser.options(section):
            raw = section.startswith("formatter_") and option in {"format", "datefmt"}
            parser.get(section, option, raw=raw)


@pytest.mark.parametrize("answers", HOSTILE_ANSWERS.values(), ids=HOSTILE_ANSWERS.keys())
def test_hostile_answers_make_a_project_whose_files_parse_and_pass_its_linters(
    tmp_path: Path, answers: dict[str, str]
) -> None:
    result = copier_copy(tmp_path / "p", *(f"{key}={value}" for key, value in answers.items()))
    assert result.returncode == 0, result.stderr
    project = Project(tmp_path / "p")
    assert STRUCTURED_FILES <= parse_structured_files(project.path)
    # Each answer arrives as it was typed, in every file that carries it.
    assert {key: answers_of(project.path)[key] for key in answers} == answers
    pyproject = tomllib.loads((project.path / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["description"] == answers["description"]
    author = {"name": answers["author_name"], "email": answers["author_email"]}
    assert pyproject["project"]["authors"] == [author]
    readme = (project.path / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(f"# {answers['project_name']}\n\n{answers['description']}\n")
    project.run("ruff", "check", ".")
    project.run("ruff", "format", "--check", ".")
    project.command("uv", "build", "--wheel", "--quiet", "--out-dir", str(tmp_path / "dist"))
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith("METADATA"))
        metadata = archive.read(name).decode()
    assert f"Summary: {answers['description']}\n" in metadata
    assert f"<{answers['author_email']}>" in metadata


@pytest.mark.parametrize("async_engine", [False, True])
@pytest.mark.parametrize("database", ["sqlite", "postgresql", "mysql"])
def test_longest_names_pass_the_projects_linters(
    tmp_path: Path, database: str, async_engine: bool
) -> None:
    project = render_longest_names(tmp_path, database=database, async_engine=async_engine)
    assert STRUCTURED_FILES <= parse_structured_files(project.path)
    project.run("ruff", "check", ".")
    project.run("ruff", "format", "--check", ".")


@pytest.mark.servers
@pytest.mark.parametrize("database", ["postgresql", "mysql"])
def test_longest_package_name_fits_a_database_name(
    request: pytest.FixtureRequest, tmp_path: Path, database: str
) -> None:
    """.env.example names the database after the package: the servers take 63 characters
    (PostgreSQL would cut a longer name short, silently)."""
    server: Server = request.getfixturevalue(database)
    project = render_longest_names(tmp_path, database=database, async_engine=False)
    assert f"/{LONGEST_PACKAGE_NAME}\n" in (project.path / ".env.example").read_text()
    name = f"{LONGEST_PACKAGE_NAME[:51]}{uuid.uuid4().hex[:12]}"  # as long, unique per run
    server.execute(f"CREATE DATABASE {name}")
    try:
        url = server.url(name).render_as_string(hide_password=False)
        project.alembic("upgrade", "head", env={"DATABASE_URL": url})
        assert "(head)" in project.alembic("current", env={"DATABASE_URL": url}).stdout
    finally:
        force = " WITH (FORCE)" if database == "postgresql" else ""
        server.execute(f"DROP DATABASE IF EXISTS {name}{force}")


def render_longest_names(tmp_path: Path, **answers: object) -> Project:
    path = render(
        tmp_path / "p",
        project_name=LONGEST_PROJECT_NAME,
        package_name=LONGEST_PACKAGE_NAME,
        **answers,
    )
    return Project(path)


def test_reserved_names_cover_keywords_and_the_standard_library() -> None:
    lowercase_keywords = {word for word in keyword.kwlist if word.islower()}
    assert lowercase_keywords <= set(RESERVED["keywords"])
    soft_keywords = {word for word in keyword.softkwlist if re.fullmatch("[a-z]+", word)}
    assert soft_keywords <= set(RESERVED["keywords"])
    assert set(sys.stdlib_module_names) <= set(RESERVED["stdlib"])
    assert {"migrations", "tests"} <= set(RESERVED["folders"])
