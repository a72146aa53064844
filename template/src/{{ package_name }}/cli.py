"""The `db` command: Alembic's verbs, set up for this project, from any directory."""

from argparse import Namespace
from collections.abc import Callable
from typing import Annotated, Any

import typer
from alembic import command
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from .migrate import alembic_config
from .squash import SquashError, squash

HELP = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(no_args_is_help=True, add_completion=False, context_settings=HELP)
db = typer.Typer(
    no_args_is_help=True,
    help="Migrate the database (Alembic, set up for you).",
    context_settings=HELP,
)
app.add_typer(db, name="db")

# Revisions such as -1 look like options: let them through as arguments.
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
        typer.echo(f"FAILED: {error}", err=True)
        raise typer.Exit(1) from None


@db.command(context_settings=REVISION_ARGUMENTS)
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, or +N.")] = "head",
    sql: Sql = False,
) -> None:
    """Upgrade the database to REVISION (default: the newest)."""
    run(command.upgrade, revision, sql=sql)


@db.command(context_settings=REVISION_ARGUMENTS)
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, -N, or base.")] = "-1",
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
    revision: Annotated[str, typer.Argument(help="Revision the database already matches.")],
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
def check() -> None:
    """Fail when the models and the migrations differ, or the database is behind."""
    run(command.check)


def main() -> None:
    app()
