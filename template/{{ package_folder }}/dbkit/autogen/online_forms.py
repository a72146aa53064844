"""PostgreSQL's online forms, written by autogenerate on tables that exist already: indexes
built and dropped CONCURRENTLY outside the revision's transaction, and foreign keys added
NOT VALID, then validated in a transaction of their own."""

from alembic.autogenerate import render, renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import Operations, ops

from .ordering import table_name_of
from .review_notes import ReviewNote


@Operations.register_operation("validate_constraint")
class ValidateConstraintOp(ops.MigrateOperation):
    """VALIDATE CONSTRAINT, for a constraint added NOT VALID, on PostgreSQL; nothing elsewhere
    (MySQL and SQLite check a constraint's rows when it is added)."""

    def __init__(self, table_name: str, constraint_name: str, schema: str | None = None):
        self.table_name, self.constraint_name, self.schema = table_name, constraint_name, schema

    @classmethod
    def validate_constraint(
        cls,
        operations: Operations,
        table_name: str,
        constraint_name: str,
        schema: str | None = None,
    ) -> None:
        operations.invoke(cls(table_name, constraint_name, schema=schema))

    def to_diff_tuple(self) -> tuple[()]:
        return ()


@Operations.implementation_for(ValidateConstraintOp)
def _validate_constraint(operations: Operations, op: ValidateConstraintOp) -> None:
    context = operations.get_context()
    if context.dialect.name != "postgresql":
        return
    quote = context.dialect.identifier_preparer.quote
    table = f"{quote(op.schema)}.{quote(op.table_name)}" if op.schema else quote(op.table_name)
    operations.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {quote(op.constraint_name)}")


@renderers.dispatch_for(ValidateConstraintOp)
def _render_validate(_context: AutogenContext, op: ValidateConstraintOp) -> str:
    return f"op.validate_constraint({_arguments(op)})"


class AutocommitBlock(ops.MigrateOperation):
    """Operations that must run outside a transaction, written inside
    `with op.get_context().autocommit_block():` (the migration lock is held meanwhile)."""

    def __init__(self, operations: list[ops.MigrateOperation]) -> None:
        self.ops = operations

    def to_diff_tuple(self) -> tuple[()]:
        return ()


@renderers.dispatch_for(AutocommitBlock)
def _render_autocommit_block(context: AutogenContext, block: AutocommitBlock) -> list[str]:
    inner = [line for op in block.ops for line in render.render_op(context, op)]
    return ["with op.get_context().autocommit_block():", *inner, ""]  # "" ends the block


def write_online_forms(container: ops.OpContainer) -> None:
    """On tables that exist already: indexes built and dropped CONCURRENTLY, outside the
    revision's transaction; foreign keys added NOT VALID, then validated in a transaction of
    their own, so that neither blocks writes while it reads the whole table."""
    created = {table_name_of(op) for op in container.ops if isinstance(op, ops.CreateTableOp)}
    written: list[ops.MigrateOperation] = []
    for op in container.ops:
        if not isinstance(op, ops.ModifyTableOps) or table_name_of(op) in created:
            written.append(op)
            continue
        drops, rest, creates = _split_index_changes(op.ops)
        keys = [key for key in rest if isinstance(key, ops.CreateForeignKeyOp)]
        for key in keys:
            key.kw["postgresql_not_valid"] = True
        for index in (*drops, *creates):
            if not isinstance(index, ReviewNote):
                index.kw["postgresql_concurrently"] = True
        if drops:
            written.append(AutocommitBlock([_changes(op, drops)]))
        if rest:
            written.append(_changes(op, rest))
        if creates:
            written.append(AutocommitBlock([_changes(op, creates)]))
        if keys:
            written.append(AutocommitBlock([_validation(op, key) for key in keys]))
    container.ops = written


def _changes(table: ops.ModifyTableOps, changes: list[ops.MigrateOperation]) -> ops.ModifyTableOps:
    return ops.ModifyTableOps(table.table_name, changes, schema=table.schema)


def _validation(table: ops.ModifyTableOps, key: ops.CreateForeignKeyOp) -> ValidateConstraintOp:
    return ValidateConstraintOp(table.table_name, str(key.constraint_name), schema=table.schema)


def _split_index_changes(
    table_ops: list[ops.MigrateOperation],
) -> tuple[list[ops.MigrateOperation], list[ops.MigrateOperation], list[ops.MigrateOperation]]:
    """The index drops, the other changes and the index creations, each with the REVIEW notes
    written just before it."""
    drops: list[ops.MigrateOperation] = []
    rest: list[ops.MigrateOperation] = []
    creates: list[ops.MigrateOperation] = []
    notes: list[ops.MigrateOperation] = []
    for op in table_ops:
        if isinstance(op, ReviewNote):
            notes.append(op)
            continue
        group = (
            drops
            if isinstance(op, ops.DropIndexOp)
            else creates
            if isinstance(op, ops.CreateIndexOp)
            else rest
        )
        group.extend([*notes, op])
        notes = []
    rest.extend(notes)
    return drops, rest, creates


def _arguments(op: ValidateConstraintOp) -> str:
    schema = f", schema={op.schema!r}" if op.schema else ""
    return f"{op.table_name!r}, {op.constraint_name!r}{schema}"
