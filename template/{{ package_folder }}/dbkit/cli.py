"""The `db` command: Alembic's verbs, set up for this project, from any directory."""

import re
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from alembic import command
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from .database import project_root
from .migrate import RETRY_HINT, alembic_config
from .squash import SquashError, squash

HELP = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(no_args_is_help=True, add_completion=False, context_settings=HELP)
db = typer.Typer(no_args_is_help=True, context_settings=HELP)
app.add_typer(db, name="db")
DB_RETRY_HINT = "(Run `db --raiseerr <command> ...` for the traceback.)"
RELATIVE_REVISION = re.compile(r"-\d+")
# The options of `db` itself, for its commands (Typer's "state" idiom).
state = {"raiseerr": False}


@db.callback()
def options(
    raiseerr: Annotated[
        bool, typer.Option("--raiseerr", help="Show the full traceback of a failure.")
    ] = False,
) -> None:
    """Migrate the database (Alembic, set up for you)."""
    state["raiseerr"] = raiseerr


def revision_argument(value: str | None) -> str | None:
    """Let -1 through as a revision, and refuse anything else that starts with - as an option."""
    if value and value.startswith("-") and not RELATIVE_REVISION.fullmatch(value):
        raise typer.BadParameter(
            f"no such option: {value} (see --help); a revision that starts with - is a number"
            " of steps back, like -1"
        )
    return value


# Revisions such as -1 look like options: let them through as arguments, checked as above.
REVISION_ARGUMENTS = {"ignore_unknown_options": True}
Sql = Annotated[bool, typer.Option("--sql", help="Print the SQL instead of running it.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show more detail.")]


def run(alembic_command: Callable[..., Any], *args: Any, **options: Any) -> Any:
    """Run an Alembic command; its failure is one line and exit status 1, as with `alembic`."""
    config = alembic_config()
    # As `alembic revision --autogenerate` sets it: env.py then writes no empty revision.
    config.cmd_opts = Namespace(autogenerate=options.get("autogenerate", False))
    try:
        return alembic_command(config, *args, **options)
    except CommandError as error:
        if state["raiseerr"]:
            raise
        typer.echo(f"FAILED: {str(error).replace(RETRY_HINT, DB_RETRY_HINT)}", err=True)
        raise typer.Exit(1) from None


@db.command(context_settings=REVISION_ARGUMENTS)
def upgrade(
    revision: Annotated[
        str, typer.Argument(help="Target revision, or +N.", callback=revision_argument)
    ] = "head",
    sql: Sql = False,
) -> None:
    """Upgrade the database to REVISION (default: the newest)."""
    run(command.upgrade, revision, sql=sql)


@db.command(context_settings=REVISION_ARGUMENTS)
def downgrade(
    revision: Annotated[
        str, typer.Argument(help="Target revision, -N, or base.", callback=revision_argument)
    ] = "-1",
    sql: Sql = False,
) -> None:
    """Downgrade the database to REVISION (default: one step back)."""
    run(command.downgrade, revision, sql=sql)


@db.command()
def revision(
    message: Annotated[str | None, typer.Argument(help="What the revision does.")] = None,
    message_option: Annotated[
        str | None, typer.Option("--message", "-m", help="The same, as alembic takes it.")
    ] = None,
    empty: Annotated[
        bool, typer.Option("--empty", help="Write an empty revision to fill in by hand.")
    ] = False,
    _autogenerate: Annotated[
        bool, typer.Option("--autogenerate", help="What it does anyway, as alembic spells it.")
    ] = False,
) -> None:
    """Write a revision from the changes in the models (or an empty one)."""
    if not (message or message_option):
        raise typer.BadParameter('say what it does, e.g. db revision "add power"')
    run(command.revision, message=message or message_option, autogenerate=not empty)


@db.command()
def show(revision: Annotated[str, typer.Argument(help="Revision to show.")] = "head") -> None:
    """Show a revision (default: the newest)."""
    run(command.show, revision)


@db.command()
def current(verbose: Verbose = False) -> None:
    """Show the revision the database is at."""
    run(command.current, verbose=verbose)


@db.command()
def history(verbose: Verbose = False) -> None:
    """List the revisions, newest first."""
    run(command.history, verbose=verbose)


@db.command()
def heads(verbose: Verbose = False) -> None:
    """Show the newest revision of each branch (more than one: run `db merge`)."""
    run(command.heads, verbose=verbose)


@db.command()
def merge(
    revisions: Annotated[list[str] | None, typer.Argument(help="Revisions to join.")] = None,
    message: Annotated[str, typer.Option("--message", "-m", help="Message.")] = "merge heads",
) -> None:
    """Join two or more heads (after merging branches) into one."""
    if not revisions and len(ScriptDirectory.from_config(alembic_config()).get_heads()) < 2:
        typer.echo("There is one head: nothing to merge.")
        return
    run(command.merge, revisions or ["heads"], message=message)


@db.command(context_settings=REVISION_ARGUMENTS)
def stamp(
    revision: Annotated[
        str,
        typer.Argument(help="Revision the database already matches.", callback=revision_argument),
    ],
    sql: Sql = False,
) -> None:
    """Record REVISION as applied without running it (to adopt an existing database)."""
    run(command.stamp, revision, sql=sql)


@db.command(name="squash")
def squash_command(
    revision: Annotated[str, typer.Argument(help="The newest revision to replace.")],
) -> None:
    """Replace REVISION and every revision before it with one baseline revision (not committed)."""
    try:
        squashed = squash(revision)
    except (SquashError, CommandError) as error:
        typer.echo(f"FAILED: {error}", err=True)
        raise typer.Exit(1) from None
    for line in squashed.report():
        typer.echo(line)


@db.command()
def adopt() -> None:
    """Start the migrations of an app that existed before the template (see adopt.py)."""
    from .adopt import AdoptionError, adopt  # only this command pays for the squash machinery

    try:
        report = adopt()
    except (AdoptionError, CommandError) as error:
        typer.echo(f"FAILED: {error}", err=True)
        raise typer.Exit(1) from None
    for line in report:
        typer.echo(line)


@db.command()
def check() -> None:
    """Fail when the models and the migrations differ, or the database is behind."""
    run(command.check)


@db.command("lint", context_settings=REVISION_ARGUMENTS)
def lint_revisions(
    targets: Annotated[
        list[str] | None,
        typer.Argument(help="A range A:B (A: or :B), or revision files; default: every revision."),
    ] = None,
) -> None:
    """Review revisions for operations that hurt a live database: one line per finding, exit 1."""
    from . import lint  # only this command pays for loading every revision

    files = [Path(target) for target in targets or [] if Path(target).is_file()]
    ranges = [target for target in targets or [] if not Path(target).is_file()]
    if len(ranges) > 1 or any(":" not in target for target in ranges):
        raise typer.BadParameter(
            f"{' '.join(ranges)}: give one range A:B (A: or :B) or revision files that exist"
        )
    config = alembic_config()
    try:
        findings = lint.lint(config, ranges[0] if ranges else None, files)
    except CommandError as error:
        typer.echo(f"FAILED: {error}", err=True)
        raise typer.Exit(1) from None
    root = project_root()
    for finding in findings:
        typer.echo(finding.render(root))
    if findings:
        raise typer.Exit(1)


def main() -> None:
    app()
