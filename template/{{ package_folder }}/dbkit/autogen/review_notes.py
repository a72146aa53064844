"""REVIEW comments in a revision, at the operations that need a person's decision."""

import re
import textwrap
from collections.abc import Iterator
from typing import Any

from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops
from sqlalchemy import (
    Enum,
)

from .columns import not_null_without_default, plain_string, underlying
from .ordering import table_name_of

_NOTE_WIDTH = 76  # with "# REVIEW: " and two indents, a note stays within 99 columns
_NO_BREAK = "\x00"


class ReviewNote(ops.MigrateOperation):
    """A comment in the revision, at an operation that needs a person's decision (REVIEW,
    which db lint counts until it is answered), or that says what the revision does (NOTE)."""

    def __init__(self, message: str, label: str = "REVIEW") -> None:
        self.message, self.label = message, label

    def to_diff_tuple(self) -> tuple[()]:
        return ()


@renderers.dispatch_for(ReviewNote)
def _render_review_note(_context: AutogenContext, note: ReviewNote) -> list[str]:
    # A `quoted` span stays on one line: a decision line to copy must not be cut in two.
    unbroken = re.sub(r"`[^`]*`", lambda span: span[0].replace(" ", _NO_BREAK), note.message)
    first, *rest = (line.replace(_NO_BREAK, " ") for line in textwrap.wrap(unbroken, _NOTE_WIDTH))
    return [f"# {note.label}: {first}", *(f"#   {line}" for line in rest)]


def add_review_notes(container: ops.OpContainer, undoing: bool = False) -> None:
    """Put a REVIEW comment before each operation that is unsafe as written. undoing: the
    container is a downgrade, whose removal of enum members the upgrade added is no loss."""
    created = {table_name_of(op): op for op in container.ops if isinstance(op, ops.CreateTableOp)}
    dropped = {table_name_of(op): op for op in container.ops if isinstance(op, ops.DropTableOp)}
    noted: list[ops.MigrateOperation] = []
    for op in container.ops:
        if isinstance(op, ops.CreateTableOp):
            columns = _data_columns(op)
            renamed = [name for name, drop in dropped.items() if columns & _data_columns(drop)]
            if renamed:
                noted.append(_table_rename_note(op.table_name, renamed))
        elif isinstance(op, ops.ModifyTableOps) and table_name_of(op) not in created:
            _add_column_notes(op, undoing)
        elif not undoing and (
            lost := _lost_members(getattr(op, "old_values", []), getattr(op, "new_values", []))
        ):
            noted.append(_lost_members_note(f"The enum type {op.name}", lost))  # PostgreSQL
        noted.append(op)
    container.ops = noted


def add_data_loss_notes(container: ops.OpContainer) -> None:
    """Put a REVIEW comment before each table or column that the upgrade drops."""
    noted: list[ops.MigrateOperation] = []
    for op in container.ops:
        if isinstance(op, ops.DropTableOp):
            noted.append(_data_loss_note(op.table_name))
        elif isinstance(op, ops.ModifyTableOps):
            op.ops = [
                note_or_op
                for inner in op.ops
                for note_or_op in (
                    [_data_loss_note(f"{op.table_name}.{inner.column_name}"), inner]
                    if isinstance(inner, ops.DropColumnOp)
                    else [inner]
                )
            ]
        noted.append(op)
    container.ops = noted


def _data_loss_note(target: str) -> ReviewNote:
    return ReviewNote(
        f"{target} is dropped with its values, which no downgrade brings back. If that is"
        " what you want, record it in a comment line above the drop, and the guard tests"
        f" accept the loss: `# decision: data-loss {target}: <why>`"
    )


def _add_column_notes(table_ops: ops.ModifyTableOps, undoing: bool) -> None:
    table = table_ops.table_name
    removed = [op.column_name for op in table_ops.ops if isinstance(op, ops.DropColumnOp)]
    noted: list[ops.MigrateOperation] = []
    for op in table_ops.ops:
        if isinstance(op, ops.AddColumnOp):
            if removed:
                noted.append(_column_rename_note(op.column.name, removed))
            if not_null_without_default(op.column):
                noted.append(_not_null_column_note(table, op.column.name))
        elif isinstance(op, ops.AlterColumnOp):
            noted.extend(_alter_column_notes(table, op, undoing))
        elif isinstance(op, ops.CreateIndexOp) and op.unique:
            noted.append(_unique_note(table, op.columns))
        elif isinstance(op, ops.CreateUniqueConstraintOp):
            noted.append(_unique_note(table, op.columns))
        noted.append(op)
    table_ops.ops = noted


def _alter_column_notes(table: str, op: ops.AlterColumnOp, undoing: bool) -> Iterator[ReviewNote]:
    column = f"{table}.{op.column_name}"
    if op.modify_nullable is False:
        yield _not_null_alter_note(column)
    old, new = underlying(op.existing_type), underlying(op.modify_type)
    if isinstance(old, Enum) and isinstance(new, Enum):
        if not undoing and (lost := _lost_members(old.enums, new.enums)):
            yield _lost_members_note(column, lost)
    elif plain_string(old) and plain_string(new) and _shorter(old.length, new.length):
        if undoing:  # the downgrade of a longer column: values longer than before are new
            return
        yield ReviewNote(
            f"{column} gets shorter ({new.length} characters): longer values make this"
            " fail, or get cut. Shorten them first, e.g. op.execute(sa.text('UPDATE ...')).",
        )


def _shorter(old: int | None, new: int | None) -> bool:
    return new is not None and (old is None or new < old)


def _lost_members(old: Any, new: Any) -> list[str]:
    return [member for member in old or [] if member not in (new or [])]


def _data_columns(op: ops.CreateTableOp | ops.DropTableOp) -> set[str]:
    """The names of the table's columns outside its primary key: what a renamed table keeps."""
    return {column.name for column in op.to_table().columns if not column.primary_key}


def _table_rename_note(table: str, dropped: list[str]) -> ReviewNote:
    return ReviewNote(
        f"is {table!r} a renamed {' or '.join(map(repr, sorted(dropped)))}? Autogenerate writes"
        " a rename as drop + create, which loses the rows: put"
        " op.rename_table(old, new) in place of this create_table and delete the drop_table,"
        " here and in the other direction."
    )


def _column_rename_note(column: str, removed: list[str]) -> ReviewNote:
    return ReviewNote(
        f"is {column!r} a renamed {' or '.join(map(repr, removed))}? Autogenerate writes a"
        " rename as drop + add, which loses the data: use"
        " batch_op.alter_column(old, new_column_name=new) instead, in both directions."
    )


def _not_null_column_note(table: str, column: str) -> ReviewNote:
    return ReviewNote(
        f"{table}.{column} is NOT NULL with no server default: adding it fails on a table"
        " that has rows. Give it a server_default (sa.text('0'), sa.false(), ...), or add it"
        " nullable, fill it with op.execute(...), then alter_column(..., nullable=False)."
    )


def _not_null_alter_note(column: str) -> ReviewNote:
    return ReviewNote(
        f"{column} becomes NOT NULL: this fails while any row holds NULL there. Fill those"
        " rows first, e.g. op.execute(sa.text('UPDATE ... SET ... WHERE ... IS NULL'))."
    )


def _lost_members_note(what: str, lost: list[str]) -> ReviewNote:
    return ReviewNote(
        f"{what} loses {', '.join(map(repr, lost))}: this fails while any row holds"
        " them. Move those rows to another value first, e.g."
        " op.execute(sa.text(\"UPDATE ... SET ... = '...' WHERE ... = '...'\"))."
    )


def _unique_note(table: str, columns: Any) -> ReviewNote:
    names = ", ".join(str(getattr(column, "name", column)) for column in columns)
    return ReviewNote(
        f"{table} ({names}) becomes unique: this fails while rows share a value there."
        " Remove or change the duplicates first."
    )
