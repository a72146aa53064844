"""Operations in an order that every backend accepts: tables created before what refers to
them and dropped after, and within a table the order that MySQL needs."""

from typing import Any

from alembic.operations import ops

_TABLE_OPS = (ops.CreateTableOp, ops.DropTableOp, ops.ModifyTableOps)


def keep_indexes_of_dropped_tables(container: ops.OpContainer) -> None:
    """Dropping a table drops its indexes: dropping them first fails on MySQL/MariaDB when an
    index serves a foreign key ("needed in a foreign key constraint")."""
    dropped = {table_name_of(op) for op in container.ops if isinstance(op, ops.DropTableOp)}

    def kept(op: ops.MigrateOperation) -> bool:
        if isinstance(op, ops.DropIndexOp):
            return table_name_of(op) not in dropped
        if isinstance(op, ops.ModifyTableOps):
            op.ops = [inner for inner in op.ops if kept(inner)]
            return bool(op.ops)
        return True

    container.ops = [op for op in container.ops if kept(op)]


def order_table_operations(container: ops.OpContainer) -> None:
    """Create tables before the changes that refer to them, and drop tables after the changes
    that stop referring to them, each in foreign-key order.

    Alembic writes table drops before the changes to the tables that stay, and in no fixed
    order among themselves: PostgreSQL and MySQL refuse to drop a table that a foreign key
    still points at, and SQLite's batch mode cannot copy a table whose parent is gone. Other
    operations (enum types, for one) keep their places around the table operations.
    """
    slots = [index for index, op in enumerate(container.ops) if isinstance(op, _TABLE_OPS)]
    created: list[list[ops.MigrateOperation]] = []
    changed: list[list[ops.MigrateOperation]] = []
    dropped: list[list[ops.MigrateOperation]] = []
    for unit in _table_units([container.ops[index] for index in slots]):
        if isinstance(unit[0], ops.CreateTableOp):
            created.append(unit)
        elif isinstance(unit[-1], ops.DropTableOp):
            dropped.append(unit)
        else:
            changed.append(unit)
    ordered = [*_referred_first(created), *changed, *reversed(_referred_first(dropped))]
    for index, op in zip(slots, (op for unit in ordered for op in unit), strict=True):
        container.ops[index] = op


def order_changes_within_tables(container: ops.OpContainer) -> None:
    """In each table: foreign keys go first and come last, indexes go before their columns
    and come after them. MySQL refuses to drop an index that a foreign key still needs, and
    uses an index made before a foreign key instead of adding one of its own."""
    for table_ops in container.ops:
        if isinstance(table_ops, ops.ModifyTableOps):
            table_ops.ops.sort(key=_change_rank)


def _change_rank(op: ops.MigrateOperation) -> int:
    if isinstance(op, ops.DropConstraintOp):
        return 0 if op.constraint_type == "foreignkey" else 1
    if isinstance(op, ops.CreateForeignKeyOp):
        return 6
    ranks = {
        ops.DropIndexOp: 1,
        ops.DropColumnOp: 2,
        ops.AddColumnOp: 3,
        ops.AlterColumnOp: 4,
        ops.CreateIndexOp: 5,
        ops.AddConstraintOp: 5,
    }
    return next((rank for kind, rank in ranks.items() if isinstance(op, kind)), 4)


def _table_units(table_ops: list[ops.MigrateOperation]) -> list[list[ops.MigrateOperation]]:
    """The table operations, each with the index changes that Alembic writes beside it: a
    create with the ModifyTableOps after it, a drop with the one before it."""
    units: list[list[ops.MigrateOperation]] = []
    for op in table_ops:
        if units and _belongs_to(units[-1], op):
            units[-1].append(op)
        else:
            units.append([op])
    return units


def _belongs_to(unit: list[ops.MigrateOperation], op: ops.MigrateOperation) -> bool:
    """op is the index change after unit's create, or the drop after its index change."""
    if table_name_of(unit[-1]) != table_name_of(op):
        return False
    if isinstance(unit[-1], ops.CreateTableOp):
        return isinstance(op, ops.ModifyTableOps)
    lone_change = len(unit) == 1 and isinstance(unit[0], ops.ModifyTableOps)
    return lone_change and isinstance(op, ops.DropTableOp)


def _referred_first(
    units: list[list[ops.MigrateOperation]],
) -> list[list[ops.MigrateOperation]]:
    """units in an order where each table comes after the tables of units it refers to by
    foreign key; a cycle of foreign keys keeps Alembic's order."""
    names = {id(unit): table_name_of(_table_op(unit)) for unit in units}
    refers_to = {
        id(unit): (_referred_tables(_table_op(unit)) & set(names.values())) - {names[id(unit)]}
        for unit in units
    }
    pending, ordered, placed = list(units), [], set()
    while pending:
        ready = next((u for u in pending if refers_to[id(u)] <= placed), pending[0])
        pending.remove(ready)
        ordered.append(ready)
        placed.add(names[id(ready)])
    return ordered


def _table_op(unit: list[ops.MigrateOperation]) -> Any:
    return next(op for op in unit if isinstance(op, (ops.CreateTableOp, ops.DropTableOp)))


def _referred_tables(op: ops.CreateTableOp | ops.DropTableOp) -> set[str]:
    return {fk.target_fullname.rpartition(".")[0] for fk in op.to_table().foreign_keys}


def table_name_of(op: Any) -> str:
    """schema.table, or table in the default schema."""
    return f"{op.schema}.{op.table_name}" if op.schema else op.table_name
