"""Databases older than a squash: every alembic command says in one line what to do with one.

Apart from squash.py, so that env.py, which every command runs, does not import the squash.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from alembic.util import CommandError


@contextmanager
def older_databases_explained(script: ScriptDirectory) -> Iterator[None]:
    """A database still at a revision that a squash replaced: say in one line what to do."""
    try:
        yield
    except (CommandError, ResolutionError) as error:
        explanation = explain_older_database(script, error)
        if explanation is None:
            raise
        raise CommandError(explanation) from None


def explain_older_database(script: ScriptDirectory, error: BaseException) -> str | None:
    """One line for an unknown revision that a baseline replaced, else None."""
    missing = _unknown_revision(error)
    if missing is None:
        return None
    for base in script.get_bases():
        baseline = script.get_revision(base)
        if missing in getattr(baseline.module, "squashed_revisions", ()):
            commit = baseline.module.squashed_after_commit
            return (
                f"Revision {missing} is gone: `db squash` replaced it with the baseline"
                f" {baseline.revision} ({Path(baseline.path).name}). Upgrade a database at"
                f" {missing} to {baseline.revision} from commit {commit}, which has the old"
                f" revisions (e.g. `git worktree add ../before-squash {commit}`, then `alembic"
                f" upgrade {baseline.revision}` there), then upgrade it here."
            )
    return None


def _unknown_revision(error: BaseException | None) -> str | None:
    """The revision id that Alembic could not find, from the error or what caused it."""
    while error is not None:
        if isinstance(error, ResolutionError) and isinstance(error.argument, str):
            return error.argument
        error = error.__cause__ or error.__context__
    return None
