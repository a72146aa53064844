"""Render and migrate speed, each measured against its floor, side by side in one run.

    uv run python benchmarks/run.py [--quick]

Commands that are compared run in turn (ours, floor, ours, floor, ...; and every size of the
scaling series in one rotation) after one discarded warm-up run each, because machines are
noisy; the tables give medians and the ratios of the medians, of wall time (what a user waits:
the targets) and of CPU time (the command and the processes it waited for: less disk noise).

- copier: `copier copy --defaults --vcs-ref HEAD` of a snapshot of this work tree (a one-commit
  git repository, so that Copier's extra work for a dirty checkout is not counted) against a
  one-question, one-file template, also a one-commit git repository. Target: <= 1.25x.
- alembic: `alembic upgrade head` on a fresh SQLite file, in the default rendered project
  against a copy of it whose env.py is Alembic's generic env.py plus the models import,
  SQLModel.metadata and DATABASE_URL. Same revisions, same alembic.ini. Target: <= 1.10x.
- start-up (web_framework=fastapi): what a replica's start-up migrations cost on a SQLite file
  already at head (the revision files and one query; no env.py, no lock), against a bare
  `alembic current` on the same file, and against its imports alone (SQLModel and Alembic, which
  any process of the app pays); and a full `upgrade_to_head()` with one pending revision (env.py,
  the lock, the upgrade), against the same start-up at head. The app's side stops where a
  server would start serving (no interpreter teardown). No target: ratios only.
- scaling: copies of both projects with 10, 100 and 500 generated revisions (each creates a
  table or adds a column to the newest one, with the models to match): `upgrade head` on both,
  and the rendered project's guard tests (tests/migrations/test_migrations.py). Linear: the
  cost of one more revision over 100 -> 500 is at most 1.5x its cost over 10 -> 100 (a
  quadratic cost would give about 5.5x).
- db lint: the safety gate over the 500-revision copy (printed, no target).

Commands run the way a user runs them: the copier CLI of this environment, and `alembic` and
`pytest` from the rendered project's .venv directly; `uv run` would add the same overhead to
both sides and blur the ratios. Python caches bytecode, as it does for a user, even where
PYTHONDONTWRITEBYTECODE is set. Linux or macOS (CPU times come from getrusage). Not part of the
test suite: it asserts no timing.
"""

import argparse
import hashlib
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

REPOSITORY = Path(__file__).resolve().parents[1]
COPIER = Path(sys.executable).with_name("copier")
SIZES = (10, 100, 500)
CLOCKS = ("wall", "cpu")
COPIER_TARGET = 1.25
UPGRADE_TARGET = 1.10
LINEAR_GROWTH_LIMIT = 1.5
# This environment's variables must not leak into the rendered projects' commands.
LEAKY_VARIABLES = {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "DATABASE_URL"}
LEAKY_VARIABLES |= {"TEST_DATABASE_URL", "PYTEST_ADDOPTS", "PYTHONDONTWRITEBYTECODE"}
GIT_IDENTITY = ["-c", "user.name=benchmark", "-c", "user.email=benchmark@localhost"]

FLOOR_COPIER_YML = "name:\n  type: str\n  help: Who to greet\n  default: world\n"
FLOOR_TEMPLATE_FILE = "Hello, {{ name }}!\n"
# Alembic's generic env.py, wired the minimal way: each pair is (what it says, what we need).
MINIMAL_WIRING = [
    ("target_metadata = None", "target_metadata = SQLModel.metadata"),
    ('config.get_main_option("sqlalchemy.url")', 'os.environ["DATABASE_URL"]'),
    (
        "config.get_section(config.config_ini_section, {})",
        '{"sqlalchemy.url": os.environ["DATABASE_URL"]}',
    ),
]


@dataclass(frozen=True)
class Repetitions:
    pairs: int
    scaling: int


FULL = Repetitions(pairs=10, scaling=5)
QUICK = Repetitions(pairs=3, scaling=1)


# Running commands -------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Seconds of one command: on the clock, and of CPU in it and the processes it waited for."""

    wall: float
    cpu: float


def environment(**extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in LEAKY_VARIABLES}
    return {**clean, "NO_COLOR": "1", "UV_NO_PROGRESS": "1", **extra}


def isolate_caches(workdir: Path) -> None:
    """Cache bytecode as a user's Python does, but in workdir; give pytest its own temp root."""
    os.environ["PYTHONPYCACHEPREFIX"] = str(workdir / "bytecode")
    # pytest deletes old temp dirs of its root at start: those of other runs are not ours.
    (workdir / "pytest").mkdir()
    os.environ["PYTEST_DEBUG_TEMPROOT"] = str(workdir / "pytest")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(*args: str | Path, cwd: Path, **extra_environment: str) -> Timing:
    """Run a command to completion and time it. A failure stops the benchmark."""
    cpu, start = children_cpu(), time.perf_counter()
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=environment(**extra_environment),
        capture_output=True,
        text=True,
    )
    timing = Timing(time.perf_counter() - start, children_cpu() - cpu)
    if result.returncode != 0:
        sys.exit(
            f"{' '.join(map(str, args))} exited {result.returncode} in {cwd}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return timing


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Timing -----------------------------------------------------------------------------------


@dataclass
class Samples:
    runs: list[Timing] = field(default_factory=list)

    def median(self, clock: str) -> float:
        return statistics.median(getattr(timing, clock) for timing in self.runs)


@dataclass
class Pair:
    """Timings of our command and of its floor."""

    name: str
    ours: Samples = field(default_factory=Samples)
    floor: Samples = field(default_factory=Samples)

    def ratio(self, clock: str) -> float:
        return self.ours.median(clock) / self.floor.median(clock)


def round_robin(commands: dict[str, Callable[[], Timing]], runs: int) -> dict[str, Samples]:
    """Each command in turn, runs times, so that a slow moment of the machine hits all alike."""
    progress(f"timing {', '.join(commands)}: {runs} runs of each")
    for command in commands.values():
        command()  # warm-up: bytecode and the OS file cache, for every command alike
    samples = {name: Samples() for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].runs.append(command())
    return samples


def time_pair(
    name: str, ours: Callable[[], Timing], floor: Callable[[], Timing], runs: int
) -> Pair:
    samples = round_robin({f"{name} (ours)": ours, f"{name} (floor)": floor}, runs)
    return Pair(name, samples[f"{name} (ours)"], samples[f"{name} (floor)"])


# Copier: this template and the one-question, one-file floor -------------------------------


def commit_all(repository: Path) -> None:
    run("git", "init", "--quiet", cwd=repository)
    run("git", "add", "--all", cwd=repository)
    run("git", *GIT_IDENTITY, "commit", "--quiet", "--message", "snapshot", cwd=repository)


def snapshot_work_tree(destination: Path) -> Path:
    """This work tree, uncommitted changes included, as a clean one-commit repository."""
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    )
    for name in filter(None, listing.stdout.split("\0")):
        if (REPOSITORY / name).is_file():  # a deleted file is still listed as cached
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPOSITORY / name, destination / name)
    commit_all(destination)
    return destination


def make_floor_template(destination: Path) -> Path:
    destination.mkdir()
    (destination / "copier.yml").write_text(FLOOR_COPIER_YML)
    (destination / "greeting.txt.jinja").write_text(FLOOR_TEMPLATE_FILE)
    commit_all(destination)
    return destination


def copier_command(template: Path, destination: Path, *data: str) -> list[str | Path]:
    answers = [arg for answer in data for arg in ("--data", answer)]
    return [
        COPIER,
        "copy",
        "--defaults",
        "--quiet",
        "--vcs-ref",
        "HEAD",
        *answers,
        template,
        destination,
    ]


def copier_copy(template: Path, destination: Path) -> Timing:
    timing = run(*copier_command(template, destination), cwd=destination.parent)
    shutil.rmtree(destination)
    return timing


# The rendered project and its minimal-wiring floor ----------------------------------------


@dataclass
class Project:
    path: Path

    def tool(self, name: str) -> Path:
        return self.path / ".venv" / "bin" / name

    @property
    def package(self) -> str:
        return next(p.name for p in (self.path / "src").iterdir() if p.is_dir())

    @property
    def models(self) -> Path:
        return self.path / "src" / self.package / "models.py"

    @property
    def versions(self) -> Path:
        return self.path / "migrations" / "versions"

    def sync(self) -> None:
        run("uv", "sync", "--quiet", cwd=self.path)

    def upgrade_fresh_database(self) -> Timing:
        database = self.path / "benchmark.db"
        database.unlink(missing_ok=True)
        url = f"sqlite:///{database}"
        return run(self.tool("alembic"), "upgrade", "head", cwd=self.path, DATABASE_URL=url)

    def guard_tests(self) -> Timing:
        return run(self.tool("pytest"), "-q", "tests/migrations/test_migrations.py", cwd=self.path)

    def lint(self) -> Timing:
        return run(self.tool(self.package.replace("_", "-")), "db", "lint", cwd=self.path)


def render_project(template: Path, destination: Path, *data: str) -> Project:
    run(*copier_command(template, destination, *data), cwd=destination.parent)
    project = Project(destination)
    project.sync()
    return project


def copy_project(project: Project, destination: Path) -> Project:
    """An independent copy, with its own .venv synced from the same lock file."""
    ignore = shutil.ignore_patterns(".venv", "*.db", "__pycache__", ".pytest_cache")
    shutil.copytree(project.path, destination, ignore=ignore)
    copy = Project(destination)
    copy.sync()
    return copy


def make_floor_project(project: Project, destination: Path) -> Project:
    """A copy of the project whose env.py is Alembic's generic one, minimally wired."""
    floor = copy_project(project, destination)
    (destination / "migrations" / "env.py").write_text(minimal_env_py(floor))
    return floor


def minimal_env_py(project: Project) -> str:
    generic = Path(python_of(project, "import alembic; print(alembic.__file__)")).parent
    source = (generic / "templates" / "generic" / "env.py").read_text()
    for generic_line, wired_line in MINIMAL_WIRING:
        if generic_line not in source:
            sys.exit(f"Alembic's generic env.py has changed: no {generic_line!r} in it")
        source = source.replace(generic_line, wired_line)
    imports = f"import os\n\nfrom sqlmodel import SQLModel\n\nimport {project.package}.models\n"
    return imports + source


def python_of(project: Project, code: str) -> str:
    python = project.tool("python")
    return subprocess.check_output([python, "-c", code], text=True, env=environment()).strip()


# Generated revisions: odd ones create a table, even ones add a column to it ---------------


def revision_id(number: int) -> str:
    return hashlib.sha1(f"revision {number}".encode()).hexdigest()[:12]


def table_of(number: int) -> str:
    return f"item{(number + 1) // 2}"


def revision_file(number: int, down_revision: str, created: datetime) -> tuple[str, str]:
    """The file name and text that `alembic revision --autogenerate` would write."""
    table = table_of(number)
    creates = number % 2 == 1
    message = f"add {table}" if creates else f"add {table} note"
    previous = table_of(1) if number > 2 else None
    upgrade, downgrade = create_table_ops(table, previous) if creates else add_column_ops(table)
    name = f"{created:%Y_%m_%d_%H%M}-{revision_id(number)}_{message.replace(' ', '_')}.py"
    text = f'''"""{message}

Revision ID: {revision_id(number)}
Revises: {down_revision}
Create Date: {created:%Y-%m-%d %H:%M:%S.%f%z}

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "{revision_id(number)}"
down_revision: str | Sequence[str] | None = "{down_revision}"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''
    return name, text


def create_table_ops(table: str, previous: str | None) -> tuple[str, str]:
    """A table with an indexed name and, like most tables, a foreign key to a core table (a
    chain of hundreds of tables, each naming the one before, exceeds Python's recursion limit
    when SQLite batch mode reflects a table with everything it references)."""
    reference = ""
    if previous:
        reference = (
            '        sa.Column("previous_id", sa.Integer(), nullable=True),\n'
            f'        sa.ForeignKeyConstraint(["previous_id"], ["{previous}.id"],'
            f' name=op.f("fk_{table}_previous_id_{previous}")),\n'
        )
    upgrade = f"""    op.create_table(
        "{table}",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
{reference}        sa.PrimaryKeyConstraint("id", name=op.f("pk_{table}")),
    )
    with op.batch_alter_table("{table}", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_{table}_name"), ["name"], unique=False)"""
    return upgrade, f'    op.drop_table("{table}")'


def add_column_ops(table: str) -> tuple[str, str]:
    batch = f'    with op.batch_alter_table("{table}", schema=None) as batch_op:\n'
    column = 'sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=True)'
    return (
        f"{batch}        batch_op.add_column({column})",
        f'{batch}        batch_op.drop_column("note")',
    )


def model_classes(revisions: int) -> str:
    """The SQLModel classes that match the first `revisions` generated revisions."""
    classes = []
    for number in range(1, revisions + 1, 2):
        table = table_of(number)
        note = "    note: str | None = None\n" if number + 1 <= revisions else ""
        reference = ""
        if number > 2:
            previous = table_of(1)
            reference = (
                f'    previous_id: int | None = Field(default=None, foreign_key="{previous}.id")\n'
            )
        classes.append(
            f"\n\nclass {table.capitalize()}(SQLModel, table=True):\n"
            "    id: int | None = Field(default=None, primary_key=True)\n"
            "    name: str = Field(index=True)\n" + reference + note
        )
    return "".join(classes)


@dataclass
class GeneratedSchema:
    """Revisions and the models to match, on top of a rendered project's first revision."""

    first_revision: str
    base_models: str
    start: datetime

    @classmethod
    def of(cls, project: Project) -> "GeneratedSchema":
        answers = yaml.safe_load((project.path / ".copier-answers.yml").read_text())
        start = datetime.now(UTC).replace(second=0, microsecond=0)
        return cls(answers["initial_revision_id"], project.models.read_text(), start)

    def write(self, projects: list[Project], revisions: int) -> None:
        for number in range(1, revisions + 1):
            down = self.first_revision if number == 1 else revision_id(number - 1)
            created = self.start + timedelta(minutes=number)
            name, text = revision_file(number, down, created)
            for project in projects:
                (project.versions / name).write_text(text)
        for project in projects:
            project.models.write_text(self.base_models + model_classes(revisions))


# Start-up of the FastAPI app: nothing to migrate, and one pending revision ---------------

# What the app's lifespan runs before the first request, without the web server. Each script
# ends with os._exit(0): a server stays up, so tearing down the interpreter (0.1 s of garbage
# collection over everything imported) is no part of its start-up.
STARTUP = (
    "from {package}.dbkit.database import make_engine\n"
    "from {package}.dbkit.startup import Settings, prepare_database\n"
    "prepare_database(make_engine(), Settings(migrate_on_start='upgrade'))\n"
)
# The same imports, and nothing else: what any process of the app pays before it does anything.
STARTUP_IMPORTS = "import {package}.dbkit.database, {package}.dbkit.startup\n"
UPGRADE_TO_HEAD = "from {package}.dbkit.migrate import upgrade_to_head\nupgrade_to_head()\n"
STAY_UP = "import os\nos._exit(0)\n"


@dataclass
class Startup:
    """A FastAPI project with one generated revision on top of the first one, and two SQLite
    files: one at head, and one a revision behind, copied afresh for each upgrade."""

    project: Project

    @property
    def at_head(self) -> Path:
        return self.project.path / "at-head.db"

    @property
    def behind(self) -> Path:
        return self.project.path / "behind.db"

    def migrate(self, first_revision: str) -> None:
        for database, target in ((self.at_head, "head"), (self.behind, first_revision)):
            self.alembic("upgrade", target, database=database)

    def alembic(self, *args: str, database: Path) -> Timing:
        url = f"sqlite:///{database}"
        return run(self.project.tool("alembic"), *args, cwd=self.project.path, DATABASE_URL=url)

    def python(self, code: str, database: Path) -> Timing:
        script = code.format(package=self.project.package) + STAY_UP
        url = f"sqlite:///{database}"
        return run(
            self.project.tool("python"), "-c", script, cwd=self.project.path, DATABASE_URL=url
        )

    def start_at_head(self) -> Timing:
        return self.python(STARTUP, self.at_head)

    def import_only(self) -> Timing:
        return self.python(STARTUP_IMPORTS, self.at_head)

    def alembic_current(self) -> Timing:
        return self.alembic("current", database=self.at_head)

    def upgrade_one_pending(self) -> Timing:
        fresh = self.project.path / "upgraded.db"
        shutil.copyfile(self.behind, fresh)
        return self.python(UPGRADE_TO_HEAD, fresh)


def startup(template: Path, workdir: Path, runs: int) -> dict[str, Samples]:
    progress("rendering a FastAPI project, syncing it and migrating its two databases")
    project = render_project(template, workdir / "fastapi-project", "web_framework=fastapi")
    schema = GeneratedSchema.of(project)
    schema.write([project], 1)
    setup = Startup(project)
    setup.migrate(schema.first_revision)
    commands = {
        "start-up, at head": setup.start_at_head,
        "alembic current": setup.alembic_current,
        "its imports alone": setup.import_only,
        "upgrade_to_head(), one pending": setup.upgrade_one_pending,
    }
    return round_robin(commands, runs)


def startup_rows(samples: dict[str, Samples]) -> list[str]:
    at_head = samples["start-up, at head"]
    compared = [
        ("start-up, at head / alembic current", at_head, samples["alembic current"]),
        ("start-up, at head / its imports alone", at_head, samples["its imports alone"]),
        (
            "upgrade_to_head(), one pending / start-up, at head",
            samples["upgrade_to_head(), one pending"],
            at_head,
        ),
    ]
    rows = [
        f"{'':<52} {'':>4} {'wall seconds':^22} {'cpu seconds':^22}",
        f"{'ratio':<52} {'runs':>4}" + f" {'this':>7} {'that':>7} {'ratio':>6}" * 2,
    ]
    for name, this, that in compared:
        cells = "".join(
            f" {this.median(clock):>7.3f} {that.median(clock):>7.3f}"
            f" {this.median(clock) / that.median(clock):>6.2f}"
            for clock in CLOCKS
        )
        rows.append(f"{name:<52} {len(this.runs):>4}{cells}")
    return rows


# The report -------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        models = [
            line for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
        ]
        cpu = models[0].partition(":")[2].strip() if models else cpu
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def versions(project: Project) -> str:
    code = (
        "import platform; from importlib.metadata import version as v;"
        "print(platform.python_version(), *(f'{n} {v(n)}' for n in"
        " ('alembic', 'sqlalchemy', 'sqlmodel', 'pytest')), sep=', ')"
    )
    copier = subprocess.check_output([COPIER, "--version"], text=True).strip()
    return f"Python {platform.python_version()} ({copier}); rendered project: Python " + (
        python_of(project, code)
    )


def verdict(value: float, limit: float) -> str:
    return "met" if value <= limit else "MISSED"


def pair_rows(pairs: list[tuple[Pair, float]]) -> list[str]:
    rows = [
        f"{'':<42} {'':>4} {'wall seconds':^22} {'cpu seconds':^22}",
        f"{'pair':<42} {'runs':>4}"
        + f" {'ours':>7} {'floor':>7} {'ratio':>6}" * 2
        + "  target (wall ratio)",
    ]
    for pair, target in pairs:
        cells = "".join(
            f" {pair.ours.median(clock):>7.3f} {pair.floor.median(clock):>7.3f}"
            f" {pair.ratio(clock):>6.2f}"
            for clock in CLOCKS
        )
        rows.append(
            f"{pair.name:<42} {len(pair.ours.runs):>4}{cells}"
            f"  <= {target:.2f} {verdict(pair.ratio('wall'), target)}"
        )
    return rows


def scaling_rows(upgrades: dict[int, Pair], guards: dict[int, Samples]) -> list[str]:
    rows = [
        f"{'':>9} {'':>4} {'upgrade, ours':^15} {'upgrade, floor':^15}"
        f" {'upgrade ratio':^13} {'guard tests':^15}",
        f"{'revisions':>9} {'runs':>4}"
        + f" {'wall s':>7} {'cpu s':>7}" * 2
        + f" {'wall':>6} {'cpu':>6}"
        + f" {'wall s':>7} {'cpu s':>7}",
    ]
    for size, pair in upgrades.items():
        sides = [pair.ours, pair.floor]
        cells = "".join(f" {side.median(clock):>7.3f}" for side in sides for clock in CLOCKS)
        ratios = "".join(f" {pair.ratio(clock):>6.2f}" for clock in CLOCKS)
        guard = "".join(f" {guards[size].median(clock):>7.3f}" for clock in CLOCKS)
        rows.append(f"{size:>9} {len(pair.ours.runs):>4}{cells}{ratios}{guard}")
    return rows


def linearity_rows(series: dict[str, dict[int, Samples]]) -> list[str]:
    """Milliseconds per added revision over each interval of SIZES, and how much that grows."""
    intervals = list(zip(SIZES, SIZES[1:], strict=False))
    heading = "".join(f" {f'{a} -> {b}':>10}" for a, b in intervals)
    rows = [f"{'ms per added revision':<32}{heading} {'growth':>7}  linear (growth <= 1.5)"]
    for name, by_size in series.items():
        for clock in CLOCKS:
            medians = {size: samples.median(clock) for size, samples in by_size.items()}
            costs = [(medians[b] - medians[a]) * 1000 / (b - a) for a, b in intervals]
            growth = costs[-1] / costs[0]
            cells = "".join(f" {cost:>10.2f}" for cost in costs)
            rows.append(
                f"{f'{name}, {clock}':<32}{cells} {growth:>7.2f}"
                f"  {verdict(growth, LINEAR_GROWTH_LIMIT)}"
            )
    return rows


# The benchmark ----------------------------------------------------------------------------


def benchmark(workdir: Path, repetitions: Repetitions) -> list[str]:
    template = snapshot_work_tree(workdir / "template")
    floor_template = make_floor_template(workdir / "floor-template")
    copier = time_pair(
        "copier copy --defaults",
        lambda: copier_copy(template, workdir / "copy"),
        lambda: copier_copy(floor_template, workdir / "copy"),
        repetitions.pairs,
    )
    progress("rendering the project and its floor, and syncing both")
    project = render_project(template, workdir / "project")
    floor = make_floor_project(project, workdir / "floor-project")
    upgrade = time_pair(
        "alembic upgrade head (the first revision)",
        project.upgrade_fresh_database,
        floor.upgrade_fresh_database,
        repetitions.pairs,
    )
    started = startup(template, workdir, repetitions.pairs)
    upgrades, guards = scaling(project, floor, workdir, repetitions.scaling)
    lint = lint_rows(project, repetitions.scaling)
    return [
        f"Machine: {machine()}",
        versions(project),
        "Commands: the copier CLI of this environment; alembic and pytest from the project's"
        " .venv/bin (no `uv run`); bytecode cached (PYTHONPYCACHEPREFIX in the temp dir)",
        "",
        *pair_rows([(copier, COPIER_TARGET), (upgrade, UPGRADE_TARGET)]),
        "",
        "Start-up migrations of a FastAPI app (web_framework=fastapi), on a SQLite file",
        *startup_rows(started),
        "",
        "Scaling: generated revisions on top of the first one; a fresh SQLite file per upgrade",
        *scaling_rows(upgrades, guards),
        "",
        *linearity_rows(
            {
                "upgrade head": {n: pair.ours for n, pair in upgrades.items()},
                "guard tests": guards,
            }
        ),
        "",
        *lint,
    ]


def lint_rows(project: Project, runs: int) -> list[str]:
    """`db lint` over the largest copy of the scaling series: printed, not asserted."""
    size = SIZES[-1]
    largest = Project(project.path.with_name(f"{project.path.name}-{size}"))
    samples = round_robin({f"db lint {size}": largest.lint}, runs)[f"db lint {size}"]
    return [
        f"db lint over {size} revisions ({len(samples.runs)} runs, medians):"
        f" {samples.median('wall'):.3f} s wall, {samples.median('cpu'):.3f} s cpu"
    ]


def scaling(
    project: Project, floor: Project, workdir: Path, runs: int
) -> tuple[dict[int, Pair], dict[int, Samples]]:
    """Copies of both projects for each of SIZES, all timed in turn: the sizes are compared
    with each other too, and minutes apart a shared machine is not the same machine."""
    progress("writing the generated revisions into a copy of both projects for each size")
    schema = GeneratedSchema.of(project)
    commands: dict[str, Callable[[], Timing]] = {}
    for size in SIZES:
        ours, their = (
            copy_project(p, workdir / f"{p.path.name}-{size}") for p in (project, floor)
        )
        schema.write([ours, their], size)
        commands[f"upgrade {size} (ours)"] = ours.upgrade_fresh_database
        commands[f"upgrade {size} (floor)"] = their.upgrade_fresh_database
        commands[f"guard tests {size}"] = ours.guard_tests
    samples = round_robin(commands, runs)
    upgrades = {
        size: Pair(
            f"upgrade {size}",
            samples[f"upgrade {size} (ours)"],
            samples[f"upgrade {size} (floor)"],
        )
        for size in SIZES
    }
    return upgrades, {size: samples[f"guard tests {size}"] for size in SIZES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    repetitions = QUICK if parser.parse_args().quick else FULL
    with tempfile.TemporaryDirectory(prefix="template-benchmark-") as workdir:
        isolate_caches(Path(workdir))
        report = benchmark(Path(workdir), repetitions)
    print("\n".join(report))


if __name__ == "__main__":
    main()
