"""A downgrade that brings back a dropped NOT NULL column: a placeholder for the rows."""

from typing import Any

from alembic.operations import ops
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    Numeric,
    String,
    Time,
    Uuid,
    text,
)
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import TypeEngine

from .columns import not_null_without_default, underlying
from .review_notes import ReviewNote


def refill_restored_not_null_columns(container: ops.OpContainer) -> None:
    """A downgrade that brings back a dropped NOT NULL column fails on a table with rows: the
    upgrade dropped the values. Add it with a placeholder default, then drop the default."""
    restored: list[ops.MigrateOperation] = []
    for op in container.ops:
        restored.append(op)
        if isinstance(op, ops.ModifyTableOps):
            adds = [add for add in op.ops if isinstance(add, ops.AddColumnOp)]
            if drop_defaults := [alter for add in adds if (alter := _refill(op, add))]:
                restored.append(ops.ModifyTableOps(op.table_name, drop_defaults, schema=op.schema))
    container.ops = restored


def _refill(table_ops: ops.ModifyTableOps, add: ops.AddColumnOp) -> ops.AlterColumnOp | None:
    """Give a restored NOT NULL column a placeholder default; the operation that drops it."""
    column = add.column
    placeholder = _placeholder(column.type)
    if placeholder is None or not not_null_without_default(column):
        return None
    add.column = Column(column.name, column.type, nullable=False, server_default=placeholder)
    table_ops.ops.insert(
        table_ops.ops.index(add),
        ReviewNote(
            f"{table_ops.table_name}.{column.name} comes back NOT NULL, but the upgrade dropped"
            f" its values: rows get {placeholder.text}, and the default goes again below.",
            label="NOTE",
        ),
    )
    return ops.AlterColumnOp(
        table_ops.table_name,
        column.name,
        schema=table_ops.schema,
        existing_type=column.type,
        existing_nullable=False,
        existing_server_default=placeholder,
        modify_server_default=None,
    )


def _placeholder(type_: TypeEngine[Any]) -> TextClause | None:
    """A value that every backend accepts as the default of a column of this type."""
    type_ = underlying(type_)
    if isinstance(type_, Boolean):
        return text("false")
    if isinstance(type_, Enum) and type_.enums:
        return text("'{}'".format(type_.enums[0].replace("'", "''")))
    if isinstance(type_, (Integer, Numeric, Float)):  # Float is no Numeric in SQLAlchemy 2.1
        return text("0")
    if isinstance(type_, Uuid):
        return text("'00000000000000000000000000000000'")  # a uuid, and a CHAR(32) one too
    if isinstance(type_, JSON):
        return text("'{}'")
    if isinstance(type_, String):
        return text("''")
    if isinstance(type_, DateTime):
        return text("'2000-01-01 00:00:00'")  # within MySQL's TIMESTAMP range too
    if isinstance(type_, Date):
        return text("'2000-01-01'")
    if isinstance(type_, Time):
        return text("'00:00:00'")
    return None
