"""`db lint`: review revisions for what a live database cannot take, before they ship.

Each revision's upgrade() and downgrade() run against an offline Alembic context (as_sql, the
project's dialect, no server), whose operations are recorded instead of run, each with its
line in the revision file. Rules judge the operations, knowing which tables and columns the
reviewed revisions made themselves (new ones are safe to change). A finding is one line;
a `# decision: <rule> <target>: <reason>` comment at the operation silences that one finding.
"""

import ast
import inspect
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tokenize
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

from alembic.config import Config
from alembic.operations import BatchOperations, Operations, ops
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Enum, String, Text, TypeDecorator, make_url
from sqlalchemy.sql.elements import TextClause

from . import database, timeouts
from .autogen.online_forms import ValidateConstraintOp

with suppress(ImportError):  # PostgreSQL projects: registers op.sync_enum_values
    import alembic_postgresql_enum  # noqa: F401

LINT_SECTION = "lint"  # alembic.ini: [lint] baseline = <revision>
_DECISION = re.compile(r"^# decision:\s*(?P<rule>[\w-]+)\s+(?P<target>[^\s:]+)\s*:\s*(?P<why>.*)$")
_REVIEW = re.compile(r"^#\s*REVIEW:")
_PLACEHOLDERS = {"", "<why>", "<reason>", "..."}
_DATA_CHANGE = re.compile(r"^\s*(UPDATE|DELETE\s+FROM)\s+[`\"\[]?(\w+)", re.IGNORECASE)
_BATCHED = re.compile(r"\b(LIMIT|BETWEEN)\b|\bIN\s*\(\s*SELECT\b", re.IGNORECASE)
_VALIDATE = re.compile(r"\bVALIDATE\s+CONSTRAINT\s+[\"`]?(\w+)", re.IGNORECASE)
_MYSQL = ("mysql", "mariadb")


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    rule: str
    target: str
    why: str
    instead: str

    def render(self, root: Path) -> str:
        path = self.path.relative_to(root) if self.path.is_relative_to(root) else self.path
        decision = f"# decision: {self.rule} {self.target}: <reason>"
        record = f"(or, if it is safe here, record `{decision}`)"
        return f"{path}:{self.line}: {self.rule}: {self.why}; {self.instead} {record}"


@dataclass
class Recorded:
    """One operation a revision asked for, where it asked, and in which transaction."""

    operation: Any
    line: int
    segment: int  # the transaction it runs in: autocommit_block() starts a new one
    autocommit: bool


# Recording ---------------------------------------------------------------------------------


class _Recorder:
    """The operations of one run of upgrade() or downgrade(), and the transaction they are in."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.recorded: list[Recorded] = []
        self.segment = 0
        self.autocommit = False

    def record(self, operation: Any) -> Any:
        self.recorded.append(Recorded(operation, self.line(), self.segment, self.autocommit))
        # create_table() returns the table, for a bulk_insert() that follows it.
        return operation.to_table() if isinstance(operation, ops.CreateTableOp) else None

    def line(self) -> int:
        """The line of the revision file that is running now (the innermost such frame)."""
        frame = inspect.currentframe()
        while frame is not None and frame.f_code.co_filename != self.path:
            frame = frame.f_back
        return frame.f_lineno if frame is not None else 0

    @contextmanager
    def autocommit_block(self) -> Iterator[None]:
        self.segment, self.autocommit = self.segment + 1, True
        try:
            yield
        finally:
            self.segment, self.autocommit = self.segment + 1, False


class _RecordingContext:
    """op.get_context(): the offline MigrationContext, whose autocommit_block is recorded."""

    def __init__(self, context: MigrationContext, recorder: _Recorder) -> None:
        self._context, self._recorder = context, recorder

    def autocommit_block(self) -> Any:
        return self._recorder.autocommit_block()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


class _Batch(BatchOperations):
    """batch_op: hands each operation, with the batch's table, to invoke."""

    def __init__(self, context: MigrationContext, table: str, schema: str | None, invoke: Any):
        super().__init__(context, impl=SimpleNamespace(table_name=table, schema=schema))
        self._invoke = invoke

    def invoke(self, operation: Any) -> Any:
        return self._invoke(operation)


class _RecordingOperations(Operations):
    """op: records each operation and runs none, so that no database is needed."""

    def __init__(self, context: MigrationContext, recorder: _Recorder) -> None:
        super().__init__(context)
        self._recorder = recorder

    def invoke(self, operation: Any) -> Any:
        return self._recorder.record(operation)

    def get_context(self) -> Any:
        return _RecordingContext(self.migration_context, self._recorder)

    @contextmanager
    def batch_alter_table(self, table_name: str, schema: str | None = None, **_: Any) -> Any:
        yield _Batch(self.migration_context, table_name, schema, self._recorder.record)

    def sync_enum_values(
        self, enum_schema: str, enum_name: str, new_values: list[str], *_: Any, **options: Any
    ) -> None:
        """alembic-postgresql-enum runs this one itself (no invoke): record it as it is."""
        renames = list(options.get("enum_values_to_rename", ()) or ())
        self._recorder.record(EnumValues(enum_name, list(new_values), renames))


# alembic.op's functions are set up for the Operations class: bind them to the recorder too.
_RecordingOperations._setups[_RecordingOperations] = Operations._setups[Operations]


@dataclass
class EnumValues:
    """op.sync_enum_values(): the members an enum type has after it, and those renamed."""

    name: str
    values: list[str]
    renames: list[tuple[str, str]]


def record(module: ModuleType, function: str, dialect: str) -> tuple[list[Recorded], str | None]:
    """The operations that module's upgrade or downgrade asks for on dialect, and the error
    that stopped it early, if any (a revision that reads the database cannot run offline)."""
    output = io.StringIO()
    opts = {"as_sql": True, "output_buffer": output, "literal_binds": True}
    context = MigrationContext.configure(dialect_name=dialect, opts=opts)
    recorder = _Recorder(str(module.__file__))
    operations = _RecordingOperations(context, recorder)
    operations._install_proxy()
    try:
        getattr(module, function)()
    except Exception as error:  # the revision's own code: its error is a finding, not a crash
        return recorder.recorded, f"{type(error).__name__}: {error}".splitlines()[0]
    finally:
        operations._remove_proxy()
    return recorder.recorded, None


# The revision file: statements, decisions and REVIEW notes --------------------------------


@dataclass(frozen=True)
class Decision:
    rule: str
    target: str


class RevisionSource:
    """A revision file's statements and comments, to find the decisions at an operation."""

    def __init__(self, path: Path) -> None:
        text = path.read_text()
        self.lines = text.splitlines()
        self.statements = [
            (node.lineno, node.end_lineno or node.lineno)
            for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.stmt)
        ]
        self.comments: dict[int, tuple[str, bool]] = {}  # line -> (comment, alone on its line)
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                row, column = token.start
                alone = not self.lines[row - 1][:column].strip()
                self.comments[row] = (token.string, alone)

    def statement_at(self, line: int) -> tuple[int, int]:
        """The innermost statement that holds line."""
        holding = [(start, end) for start, end in self.statements if start <= line <= end]
        return min(holding, key=lambda span: span[1] - span[0], default=(line, line))

    def comment_block_above(self, line: int) -> list[int]:
        """The lines of the comment-only lines directly above line."""
        block = []
        row = line - 1
        while row in self.comments and self.comments[row][1]:
            block.append(row)
            row -= 1
        return block

    def decisions_at(self, line: int) -> set[Decision]:
        start, end = self.statement_at(line)
        rows = [*self.comment_block_above(start), *range(start, end + 1)]
        return {d for row in rows if (d := self._decision(row)) is not None}

    def _decision(self, row: int) -> Decision | None:
        comment = self.comments.get(row)
        match = _DECISION.match(comment[0]) if comment else None
        if match is None or match["why"].strip() in _PLACEHOLDERS:
            return None
        return Decision(match["rule"], match["target"])

    def open_review_notes(self) -> Iterator[int]:
        """The lines of `# REVIEW:` notes that no decision next to them answers."""
        for row, (comment, alone) in sorted(self.comments.items()):
            if not (alone and _REVIEW.match(comment)):
                continue
            block = set(self.comment_block_above(row + 1))
            below = row + 1
            while below in self.comments and self.comments[below][1]:
                block.add(below)
                below += 1
            if not any(self._decision(line) for line in block):
                yield row


# Rules --------------------------------------------------------------------------------------


@dataclass
class Schema:
    """What the reviewed revisions made so far: changing those cannot hurt a live database."""

    new_tables: set[str] = field(default_factory=set)
    new_columns: set[str] = field(default_factory=set)
    enums: dict[str, list[str]] = field(default_factory=dict)
    new_enums: set[str] = field(default_factory=set)
    empty_columns: set[str] = field(default_factory=set)  # added nullable, without a default
    unvalidated: dict[str, tuple[str, int, Finding]] = field(default_factory=dict)

    def is_new(self, table: str, column: str | None = None) -> bool:
        return table in self.new_tables or (
            column is not None and f"{table}.{column}" in self.new_columns
        )


class Review:
    """The rules, over one revision's recorded operations."""

    def __init__(self, dialect: str, schema: Schema, path: Path, revision: str) -> None:
        self.dialect, self.schema, self.path, self.revision = dialect, schema, path, revision
        self.findings: list[Finding] = []
        self.created_tables: set[str] = set()
        self.created_columns: set[str] = set()

    def finding(self, line: int, rule: str, target: str, why: str, instead: str) -> None:
        self.findings.append(Finding(self.path, line, rule, target, why, instead))

    @property
    def postgresql(self) -> bool:
        return self.dialect == "postgresql"

    def upgrade(self, recorded: list[Recorded], judged: bool) -> None:
        for item in recorded:
            if judged:
                self.judge(item)
                self.schema.new_enums |= _enums_made_by(item.operation)
            self.remember(item.operation)

    def remember(self, op: Any) -> None:
        """Keep track of the enum members on every revision (before the baseline too)."""
        for column in _columns_of(op):
            enum = _underlying(column.type)
            if isinstance(enum, Enum) and enum.name:
                self.schema.enums[enum.name] = list(enum.enums)
        if isinstance(op, ops.AlterColumnOp) and isinstance(_underlying(op.modify_type), Enum):
            enum = _underlying(op.modify_type)
            if enum.name:
                self.schema.enums[enum.name] = list(enum.enums)
        if isinstance(op, EnumValues):
            self.schema.enums[op.name] = list(op.values)

    def judge(self, item: Recorded) -> None:
        op, line = item.operation, item.line
        if isinstance(op, ops.CreateTableOp):
            self.schema.new_tables.add(op.table_name)
            self.created_tables.add(op.table_name)
        elif isinstance(op, ops.DropTableOp):
            if not self.schema.is_new(op.table_name):
                self.data_loss(line, op.table_name)
        elif isinstance(op, ops.RenameTableOp):
            self.rename_table(line, op)
        elif isinstance(op, ops.AddColumnOp):
            self.add_column(line, op)
        elif isinstance(op, ops.DropColumnOp):
            if not self.schema.is_new(op.table_name, op.column_name):
                self.data_loss(line, f"{op.table_name}.{op.column_name}")
        elif isinstance(op, ops.AlterColumnOp):
            self.alter_column(line, op)
        elif isinstance(op, (ops.CreateIndexOp, ops.DropIndexOp)):
            self.index(item, op)
        elif isinstance(op, ops.CreateUniqueConstraintOp):
            if not self.only_empty_columns(op.table_name, op.columns):
                self.unique(line, op.table_name, op.constraint_name)
        elif isinstance(op, (ops.CreateForeignKeyOp, ops.CreateCheckConstraintOp)):
            self.constraint(item, op)
        elif isinstance(op, ops.ExecuteSQLOp):
            self.execute(item, op)
        elif isinstance(op, ValidateConstraintOp):
            self.validated(item, op.constraint_name)
        elif isinstance(op, EnumValues):
            self.enum_values(line, op)

    # One rule each --------------------------------------------------------------------------

    def data_loss(self, line: int, target: str) -> None:
        self.finding(
            line,
            "data-loss",
            target,
            f"{target} is dropped with its data, while the running app version may still read it",
            "expand and contract: release an app that no longer uses it, then drop it in a later"
            " revision (see the README: renames and drops in two deploys)",
        )

    def rename_table(self, line: int, op: ops.RenameTableOp) -> None:
        if self.schema.is_new(op.table_name):
            self.schema.new_tables.add(op.new_table_name)
            if op.table_name in self.created_tables:
                self.created_tables.add(op.new_table_name)
            return
        self.finding(
            line,
            "rename-table",
            op.table_name,
            f"renaming {op.table_name} to {op.new_table_name} breaks the running app, which"
            " still queries the old name",
            "create the new table, write to both, backfill, move reads, drop the old one in a"
            " later deploy (expand and contract)",
        )

    def add_column(self, line: int, op: ops.AddColumnOp) -> None:
        table, column = op.table_name, op.column
        self.schema.new_columns.add(f"{table}.{column.name}")
        self.created_columns.add(f"{table}.{column.name}")
        if column.nullable and column.server_default is None:
            self.schema.empty_columns.add(f"{table}.{column.name}")
        if self.schema.is_new(table):
            return
        if not column.nullable and column.server_default is None:
            self.finding(
                line,
                "not-null",
                f"{table}.{column.name}",
                f"{table}.{column.name} is added NOT NULL without a server default: it fails on"
                " a table with rows",
                "give it a server_default, or add it nullable, fill it in batches, then make it"
                " NOT NULL in a later revision",
            )

    def alter_column(self, line: int, op: ops.AlterColumnOp) -> None:
        table, column = op.table_name, op.column_name
        target = f"{table}.{column}"
        if self.schema.is_new(table, column):
            if op.modify_name:
                self.schema.new_columns.add(f"{table}.{op.modify_name}")
                if target in self.created_columns:
                    self.created_columns.add(f"{table}.{op.modify_name}")
            return
        if op.modify_name:
            self.finding(
                line,
                "rename-column",
                target,
                f"renaming {target} to {op.modify_name} breaks the running app, which still"
                " reads and writes the old name",
                "add the new column, write to both, backfill, move reads, drop the old one in a"
                " later deploy (expand and contract)",
            )
        if op.modify_type is not None:
            self.type_change(line, target, op)
        if op.modify_nullable is False:
            self.finding(
                line,
                "not-null",
                target,
                f"{target} becomes NOT NULL: it fails while a row holds NULL, and the table is"
                " scanned under an exclusive lock",
                "fill the NULLs in batches first; on PostgreSQL add CHECK (... IS NOT NULL) NOT"
                " VALID, VALIDATE it, then SET NOT NULL",
            )

    def type_change(self, line: int, target: str, op: ops.AlterColumnOp) -> None:
        old, new = _underlying(op.existing_type), _underlying(op.modify_type)
        if isinstance(old, Enum) and isinstance(new, Enum):
            if lost := [m for m in old.enums if m not in new.enums]:
                self.enum_lost(line, target, lost)
            return
        if self.postgresql and _widens_text(old, new):
            return  # PostgreSQL changes only the catalog for a longer VARCHAR or TEXT
        self.finding(
            line,
            "type-change",
            target,
            f"changing the type of {target} rewrites the table under an exclusive lock and may"
            " break the running app",
            "add a column of the new type, write to both, backfill in batches, switch reads,"
            " drop the old column in a later deploy",
        )

    def enum_values(self, line: int, op: EnumValues) -> None:
        if op.name in self.schema.new_enums:
            return
        old = self.schema.enums.get(op.name, [])
        renamed = [old_name for old_name, _new in op.renames]
        lost = [m for m in old if m not in op.values and m not in renamed]
        if renamed:
            self.finding(
                line,
                "enum-members",
                op.name,
                f"enum {op.name} renames {', '.join(map(repr, renamed))}: the running app still"
                " writes the old names, and they fail",
                "add the new member, move the rows in batches, release the app, then remove the"
                " old member in a later revision",
            )
        if lost:
            self.enum_lost(line, op.name, lost)

    def enum_lost(self, line: int, target: str, lost: list[str]) -> None:
        self.finding(
            line,
            "enum-members",
            target,
            f"{target} loses {', '.join(map(repr, lost))}: it fails while rows hold them, and"
            " the running app may still write them",
            "move those rows to another member in batches and release an app that no longer"
            " writes them, then remove the members",
        )

    def index(self, item: Recorded, op: ops.CreateIndexOp | ops.DropIndexOp) -> None:
        table = op.table_name
        if table is None or self.schema.is_new(table):
            return
        name = str(op.index_name)
        creating = isinstance(op, ops.CreateIndexOp)
        if creating and op.unique and not self.only_empty_columns(table, op.columns):
            self.unique(item.line, table, name)
        if not self.postgresql:
            return
        concurrently = op.kw.get("postgresql_concurrently")
        verb = "creating" if creating else "dropping"
        if not concurrently:
            self.finding(
                item.line,
                "index-concurrently",
                name,
                f"{verb} index {name} without CONCURRENTLY blocks writes to {table} until it"
                " is done",
                f"{'create' if creating else 'drop'}_index(..., postgresql_concurrently=True)"
                " inside `with op.get_context().autocommit_block():`",
            )
        elif not item.autocommit:
            self.finding(
                item.line,
                "index-concurrently",
                name,
                f"{verb} index {name} CONCURRENTLY inside a transaction fails on PostgreSQL",
                "put it inside `with op.get_context().autocommit_block():`",
            )

    def only_empty_columns(self, table: str, columns: Iterable[Any]) -> bool:
        """The table is new, or every column was added empty: NULLs there, never a value twice."""
        names = [getattr(column, "name", column) for column in columns]
        return self.schema.is_new(table) or all(
            f"{table}.{name}" in self.schema.empty_columns for name in names
        )

    def unique(self, line: int, table: str, name: str | None) -> None:
        self.finding(
            line,
            "unique",
            name or table,
            f"a unique constraint on {table} fails while rows share a value, and blocks writes"
            " while it is built",
            "remove the duplicates first; on PostgreSQL create the unique index CONCURRENTLY,"
            " then ADD CONSTRAINT ... UNIQUE USING INDEX",
        )

    def constraint(self, item: Recorded, op: Any) -> None:
        table = op.source_table if isinstance(op, ops.CreateForeignKeyOp) else op.table_name
        if self.schema.is_new(table):
            return
        rule = "foreign-key" if isinstance(op, ops.CreateForeignKeyOp) else "check-constraint"
        name = str(op.constraint_name)
        kind = "foreign key" if rule == "foreign-key" else "check constraint"
        if self.dialect in _MYSQL:
            self.finding(
                item.line,
                rule,
                name,
                f"MySQL copies {table} to add the {kind} {name}, blocking writes meanwhile",
                "add it when writes can wait, or with an online schema tool (gh-ost,"
                " pt-online-schema-change)",
            )
        elif self.dialect == "sqlite":
            self.finding(
                item.line,
                rule,
                name,
                f"SQLite copies {table} to add the {kind} {name} (batch mode), holding the"
                " database's write lock meanwhile, and fails on the first row that breaks it",
                "fix the rows that would break it first, and run it when writes can wait",
            )
        if not self.postgresql:
            return
        if not op.kw.get("postgresql_not_valid"):
            self.finding(
                item.line,
                rule,
                name,
                f"adding the {kind} {name} scans all of {table} under a lock that blocks writes",
                "add it with postgresql_not_valid=True, then op.validate_constraint(...) inside"
                " `with op.get_context().autocommit_block():`",
            )
            return
        pending = Finding(
            self.path,
            item.line,
            rule,
            name,
            f"the {kind} {name} is added NOT VALID but never validated in a later transaction",
            "op.validate_constraint(...) inside `with op.get_context().autocommit_block():`"
            " or in a later revision",
        )
        self.schema.unvalidated[name] = (self.revision, item.segment, pending)

    def validated(self, item: Recorded, name: str) -> None:
        pending = self.schema.unvalidated.get(name)
        if pending and (pending[0] != self.revision or pending[1] != item.segment):
            del self.schema.unvalidated[name]

    def execute(self, item: Recorded, op: ops.ExecuteSQLOp) -> None:
        sql, table = _statement(op.sqltext)
        for name in _VALIDATE.findall(sql):
            self.validated(item, name)
        if table is None or self.schema.is_new(table) or _BATCHED.search(sql):
            return
        self.finding(
            item.line,
            "data-change",
            table,
            f"one UPDATE/DELETE over all of {table} locks its rows until the revision commits"
            " and can time out",
            "change the rows in batches (WHERE id BETWEEN ... or LIMIT, one batch per"
            " statement), or from a background job",
        )

    def downgrade(self, recorded: list[Recorded]) -> None:
        """A downgrade may undo what the upgrade made, but drops nothing that was there before."""
        for item in recorded:
            op = item.operation
            if isinstance(op, ops.DropTableOp) and op.table_name not in self.created_tables:
                self.downgrade_loss(item.line, op.table_name)
            elif isinstance(op, ops.DropColumnOp):
                target = f"{op.table_name}.{op.column_name}"
                if op.table_name not in self.created_tables and target not in self.created_columns:
                    self.downgrade_loss(item.line, target)

    def downgrade_loss(self, line: int, target: str) -> None:
        self.finding(
            line,
            "data-loss",
            target,
            f"the downgrade drops {target}, which existed before this revision: its data is lost",
            "let the downgrade leave it in place, or keep its data elsewhere first",
        )


def _columns_of(op: Any) -> list[Any]:
    if isinstance(op, ops.CreateTableOp):
        return [c for c in op.columns if hasattr(c, "type")]
    if isinstance(op, ops.AddColumnOp):
        return [op.column]
    return []


def _enums_made_by(op: Any) -> set[str]:
    enums = (_underlying(column.type) for column in _columns_of(op))
    return {enum.name for enum in enums if isinstance(enum, Enum) and enum.name}


def _underlying(type_: Any) -> Any:
    return type_.impl_instance if isinstance(type_, TypeDecorator) else type_


def _widens_text(old: Any, new: Any) -> bool:
    if not (isinstance(old, String) and isinstance(new, String)):
        return False
    if isinstance(old, Enum) or isinstance(new, Enum):
        return False
    if isinstance(new, Text) or new.length is None:
        return True
    return old.length is not None and new.length >= old.length and not isinstance(old, Text)


def _statement(sqltext: Any) -> tuple[str, str | None]:
    """The SQL of an op.execute() and the table it updates or deletes from, if it does."""
    table = getattr(sqltext, "table", None)
    if (
        table is not None
        and getattr(sqltext, "is_dml", False)
        and not getattr(sqltext, "is_insert", False)
    ):
        return str(sqltext), getattr(table, "name", None)
    sql = sqltext.text if isinstance(sqltext, TextClause) else str(sqltext)
    match = _DATA_CHANGE.match(sql)
    return sql, match.group(2) if match else None


# The whole review ---------------------------------------------------------------------------


def project_dialect() -> str:
    """The backend of DATABASE_URL, or the one the project was made for when it is unset."""
    try:
        backend = database.database_url().get_backend_name()
    except database.DatabaseURLError:
        backend = make_url(database.EXAMPLE_URL).get_backend_name()
    return "mysql" if backend == "mariadb" else backend


def lint(
    config: Config, revision_range: str | None = None, files: Iterable[Path] = ()
) -> list[Finding]:
    """The findings in the revisions of revision_range ("A:B", default: all of them), or only
    in those files; the first revision and those before the baseline are not judged."""
    script = ScriptDirectory.from_config(config)
    dialect = project_dialect()
    ordered = [s for s in reversed(list(script.walk_revisions()))]
    judged = _judged(script, ordered, config, revision_range)
    wanted = {Path(f).resolve() for f in files}
    schema = Schema()
    findings: list[Finding] = []
    for revision in ordered:
        path = Path(str(revision.path)).resolve()
        in_view = revision.revision in judged and (not wanted or path in wanted)
        findings += _review(revision, dialect, schema, in_view)
    pending = [p for _revision, _segment, p in schema.unvalidated.values()]
    if dialect == "postgresql":
        reviewed = [r for r in ordered if r.revision in judged]
        pending += squawk([r for r in reviewed if not wanted or _path(r) in wanted])
    findings += _undecided([p for p in pending if not wanted or p.path in wanted])
    return sorted(findings, key=lambda f: (str(f.path), f.line, f.rule))


def _path(revision: Script) -> Path:
    return Path(str(revision.path)).resolve()


def _undecided(findings: list[Finding]) -> list[Finding]:
    sources: dict[Path, RevisionSource] = {}
    undecided = []
    for finding in findings:
        source = sources.setdefault(finding.path, RevisionSource(finding.path))
        if Decision(finding.rule, finding.target) not in source.decisions_at(finding.line):
            undecided.append(finding)
    return undecided


def _judged(
    script: ScriptDirectory, ordered: list[Script], config: Config, revision_range: str | None
) -> set[str]:
    ids = [s.revision for s in ordered]
    first = {s.revision for s in ordered if not s.down_revision}
    section = config.get_section(LINT_SECTION, {})
    baseline = section.get("baseline", "").strip()
    adopted = section.get("adopted", "").strip()  # the app's own history, before the template
    start = 0
    if baseline:
        start = ids.index(_resolve(script, baseline, "[lint] baseline in alembic.ini"))
    if adopted:
        last_adopted = _resolve(script, adopted, "[lint] adopted in alembic.ini")
        start = max(start, ids.index(last_adopted) + 1)
    judged = set(ids[start:]) - first
    if revision_range:
        lower, _, upper = revision_range.partition(":")
        if not _:
            raise CommandError(
                f"{revision_range!r} is not a range: write A:B, A: or :B (revision ids, head, -1)"
            )
        upper_id = _resolve(script, upper or "head", "the range's end")
        in_range = {s.revision for s in script.iterate_revisions(upper_id, "base")}
        if lower:
            lower_id = _resolve(script, lower, "the range's start")
            in_range -= {s.revision for s in script.iterate_revisions(lower_id, "base")}
        judged &= in_range
    return judged


def _resolve(script: ScriptDirectory, name: str, what: str) -> str:
    try:
        found = script.get_revision(name)
    except Exception:  # Alembic raises several kinds for an unknown or ambiguous name
        found = None
    if found is None:
        raise CommandError(
            f"{what} is {name!r}, which names no revision: use a revision id from `db history`"
        )
    return found.revision


def _review(revision: Script, dialect: str, schema: Schema, judged: bool) -> list[Finding]:
    path = Path(str(revision.path)).resolve()
    review = Review(dialect, schema, path, revision.revision)
    upgrade, error = record(revision.module, "upgrade", dialect)
    review.upgrade(upgrade, judged)
    if not judged:
        return []
    errors = [("upgrade", error)]
    downgrade, error = record(revision.module, "downgrade", dialect)
    review.downgrade(downgrade)
    errors.append(("downgrade", error))
    source = RevisionSource(path)
    findings = [
        f for f in review.findings if Decision(f.rule, f.target) not in source.decisions_at(f.line)
    ]
    findings += [
        Finding(
            path,
            line,
            "review",
            revision.revision,
            "autogenerate left a REVIEW note here that nobody answered",
            "do what it says and delete it, or record a decision next to it",
        )
        for line in source.open_review_notes()
    ]
    for function, message in errors:
        if message is not None:
            line = _function_line(source, function)
            finding = Finding(
                path,
                line,
                "offline",
                revision.revision,
                f"{function}() cannot run without a database ({message}), so it was not reviewed",
                "review it by hand",
            )
            if Decision(finding.rule, finding.target) not in source.decisions_at(line):
                findings.append(finding)
    return findings


def _function_line(source: RevisionSource, function: str) -> int:
    return next(
        (n for n, text in enumerate(source.lines, 1) if text.startswith(f"def {function}(")), 1
    )


# squawk: PostgreSQL's own linter, over the SQL of each revision ------------------------------


class _MarkingOperations(Operations):
    """op that runs each operation into the SQL output, after a comment with its line."""

    def __init__(self, context: MigrationContext, path: str) -> None:
        super().__init__(context)
        self._recorder = _Recorder(path)

    def invoke(self, operation: Any) -> Any:
        self.migration_context.impl.static_output(f"-- revision line {self._recorder.line()}")
        return super().invoke(operation)

    @contextmanager
    def batch_alter_table(self, table_name: str, schema: str | None = None, **_: Any) -> Any:
        """PostgreSQL alters a table in place: each batch operation runs on its own line."""
        yield _Batch(self.migration_context, table_name, schema, self.invoke)

    def sync_enum_values(self, *_: Any, **__: Any) -> None:
        """Left out: it reads the database to write its SQL, and db lint's enum rule has it."""


_MarkingOperations._setups[_MarkingOperations] = Operations._setups[Operations]
_MARK = re.compile(r"^-- revision line (\d+)$")


def upgrade_sql(module: ModuleType) -> str | None:
    """What `alembic upgrade --sql` prints for this revision on PostgreSQL, timeouts first, with
    the line of each operation as a comment; None when it cannot run without a database."""
    output = io.StringIO()
    opts = {"as_sql": True, "output_buffer": output, "literal_binds": True}
    context = MigrationContext.configure(dialect_name="postgresql", opts=opts)
    operations = _MarkingOperations(context, str(module.__file__))
    operations._install_proxy()
    try:
        with context.begin_transaction():
            for statement in timeouts.statements("postgresql", mariadb=False):
                context.execute(statement)
            module.upgrade()
    except Exception:  # reported as an "offline" finding by the review of its operations
        return None
    finally:
        operations._remove_proxy()
    return output.getvalue()


def squawk(revisions: list[Script]) -> list[Finding]:
    """squawk's findings in these revisions' SQL (its rules that db lint has are turned off in
    .squawk.toml). Without squawk installed (a deployed app), this layer is left out."""
    executable = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which(
        "squawk"
    )
    if executable is None or not revisions:
        return []
    with tempfile.TemporaryDirectory(prefix="db-lint-") as folder:
        files: dict[str, Script] = {}
        for revision in revisions:
            sql = upgrade_sql(revision.module)
            if sql is not None:
                path = Path(folder) / f"{revision.revision}.sql"
                path.write_text(sql)
                files[str(path)] = revision
        if not files:
            return []
        command = [executable, "--reporter", "json", *files]
        settings = database.project_root() / ".squawk.toml"
        if settings.is_file():
            command[1:1] = ["--config", str(settings)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode not in (0, 1):
            raise CommandError(f"squawk failed: {(result.stderr or result.stdout).strip()[:300]}")
        return [_squawk_finding(item, files) for item in json.loads(result.stdout or "[]")]


def _squawk_finding(item: dict[str, Any], files: dict[str, Script]) -> Finding:
    revision = files[item["file"]]
    lines = Path(item["file"]).read_text().splitlines()[: item["line"]]
    marks = [int(m[1]) for line in lines if (m := _MARK.match(line))]
    path = _path(revision)
    line = marks[-1] if marks else _function_line(RevisionSource(path), "upgrade")
    why = item["message"].rstrip(".")
    instead = (item.get("help") or "see https://squawkhq.com/docs/rules").rstrip(".")
    return Finding(path, line, f"squawk-{item['rule_name']}", revision.revision, why, instead)
