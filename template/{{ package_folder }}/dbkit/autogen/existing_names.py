"""A constraint or index that a database has under another name is the same one: the name
1.0.0 gave it, or the one the database gave it in an adopted app (create_all, an older
history)."""

from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy import (
    ForeignKeyConstraint,
    Index,
)
from sqlalchemy.engine import Connection


def keep_names_of_existing_constraints(container: ops.OpContainer) -> None:
    """A constraint or index that a database has under another name is the same one: leave
    it, rather than drop it and make it again under today's name (see naming.py)."""
    for table_ops in container.ops:
        if not isinstance(table_ops, ops.ModifyTableOps):
            continue
        drops = [op for op in table_ops.ops if _renameable(op) and _is_drop(op)]
        creates = [op for op in table_ops.ops if _renameable(op) and not _is_drop(op)]
        same: list[ops.MigrateOperation] = []
        for drop in drops:
            dropped = _schema_item(drop.reverse())
            for create in creates:
                created = _schema_item(create)
                if create not in same and _renamed_only(dropped, created):
                    same += [drop, create]
                    break
        table_ops.ops = [op for op in table_ops.ops if op not in same]
    container.ops = [op for op in container.ops if not _emptied(op)]


def _emptied(op: ops.MigrateOperation) -> bool:
    return isinstance(op, ops.ModifyTableOps) and not op.ops


_NAMED_OPS = (
    ops.CreateIndexOp,
    ops.DropIndexOp,
    ops.CreateUniqueConstraintOp,
    ops.CreateForeignKeyOp,
)


def _renameable(op: ops.MigrateOperation) -> bool:
    if isinstance(op, ops.DropConstraintOp):
        return op.constraint_type in ("unique", "foreignkey") and op._reverse is not None
    return isinstance(op, _NAMED_OPS)


def _is_drop(op: ops.MigrateOperation) -> bool:
    return isinstance(op, (ops.DropIndexOp, ops.DropConstraintOp))


def _schema_item(op: Any) -> Any:
    return op.to_index() if isinstance(op, ops.CreateIndexOp) else op.to_constraint()


def _renamed_only(old: Any, new: Any) -> bool:
    """old and new differ in their names only."""
    return _signature(old) == _signature(new) and old.name != new.name


def _signature(item: Any) -> tuple[Any, ...]:
    """What a constraint or index is, apart from its name."""
    if isinstance(item, ForeignKeyConstraint):
        referred = tuple(element.target_fullname for element in item.elements)
        columns = tuple(element.parent.name for element in item.elements)
        return ("fk", columns, referred, item.ondelete, item.onupdate, item.deferrable)
    columns = tuple(column.name for column in item.columns)
    if isinstance(item, Index):
        return ("ix", columns, bool(item.unique))
    return ("uq", columns)


def keep_unnamed_unique_constraints(
    upgrade: ops.UpgradeOps, downgrade: ops.DowngradeOps, connection: Connection
) -> None:
    """A unique constraint that the database has without a name (SQLite keeps none for
    create_all's or an older history's) is the one the models name: do not add it again.

    Alembic pairs a named constraint only with a named one, so it would add a second one."""
    inspector = sa.inspect(connection)
    kept_names: set[tuple[str | None, str, str | None]] = set()
    for table_ops in upgrade.ops:
        if not isinstance(table_ops, ops.ModifyTableOps):
            continue
        key = (table_ops.schema, table_ops.table_name)
        for op in table_ops.ops:
            if isinstance(op, ops.CreateUniqueConstraintOp) and _has_unique(
                inspector, key, op.columns
            ):
                kept_names.add((*key, op.constraint_name))
        table_ops.ops = [op for op in table_ops.ops if not _named_in(op, key, kept_names)]
    for table_ops in downgrade.ops:
        if isinstance(table_ops, ops.ModifyTableOps):
            key = (table_ops.schema, table_ops.table_name)
            table_ops.ops = [op for op in table_ops.ops if not _named_in(op, key, kept_names)]
    upgrade.ops = [op for op in upgrade.ops if not _emptied(op)]
    downgrade.ops = [op for op in downgrade.ops if not _emptied(op)]


def _has_unique(inspector: Any, key: tuple[str | None, str], columns: Any) -> bool:
    schema, table = key
    try:
        found = inspector.get_unique_constraints(table, schema=schema)
    except sa.exc.NoSuchTableError:
        return False
    return any(set(unique["column_names"]) == set(columns) for unique in found)


def _named_in(
    op: ops.MigrateOperation,
    key: tuple[str | None, str],
    names: set[tuple[str | None, str, str | None]],
) -> bool:
    unique = isinstance(op, ops.CreateUniqueConstraintOp) or (
        isinstance(op, ops.DropConstraintOp) and op.constraint_type == "unique"
    )
    return unique and (*key, op.constraint_name) in names
