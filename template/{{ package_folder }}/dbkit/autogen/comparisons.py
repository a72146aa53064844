"""Types and server defaults, compared by what they mean rather than how they are spelled."""

import re
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Boolean,
    Column,
    String,
    TypeDecorator,
)
from sqlalchemy.types import TypeEngine

from .columns import plain_string

# How backends reflect func.now(): now(), CURRENT_TIMESTAMP, current_timestamp().
_CURRENT_TIME = re.compile(r"^(now\(\)|current_timestamp(\(\))?)$", re.IGNORECASE)
# PostgreSQL spells a default with its type: 'x'::character varying, 0::numeric(10,2).
_CAST = re.compile(r'::"?[\w ]+"?(\(\d+(,\s*\d+)?\))?(\[\])?$')
# MySQL and MariaDB store booleans as TINYINT(1): false() comes back as 0.
_BOOLEAN_SPELLINGS = {"false": "0", "true": "1"}


def compare_type(
    context: MigrationContext,
    inspected_column: Column[Any],
    metadata_column: Column[Any],
    inspected_type: TypeEngine[Any],
    metadata_type: TypeEngine[Any],
) -> bool | None:
    """Also catch a str column that gains or loses max_length.

    Alembic compares string lengths only when both sides have one, so VARCHAR(50) in the
    database and a str field without max_length look the same to it on PostgreSQL.
    True: they differ; None: let Alembic's own comparison decide.
    """
    declared = metadata_type
    if isinstance(declared, TypeDecorator):  # AutoString is VARCHAR(255) on MySQL
        declared = declared.load_dialect_impl(context.dialect)
    if plain_string(declared) and plain_string(inspected_type):
        if getattr(declared, "length", None) != getattr(inspected_type, "length", None):
            return True
    return None


def compare_server_default(
    context: MigrationContext,
    inspected_column: Column[Any],
    metadata_column: Column[Any],
    inspected_default: str | None,
    metadata_default: Any,
    rendered_metadata_default: str | None,
) -> bool | None:
    """Compare server defaults, but not their spelling.

    Comparing them catches a changed default. Backends spell a default back differently from
    how the model renders it (func.now() comes back as current_timestamp() from MariaDB, ''
    as '' or ('') from SQLite, false() as 0 from MySQL, 'x' as 'x'::character varying from
    PostgreSQL): those would be reported as changes right after an upgrade. The defaults of
    a text column are compared here: PostgreSQL's own comparison fails on a quote in them.
    False: the same; True: changed; None: let Alembic's comparison for the backend decide.
    """
    if inspected_default is None or rendered_metadata_default is None:
        return None
    boolean = isinstance(metadata_column.type, Boolean)
    inspected, inspected_quoted = _normalized(inspected_default, boolean)
    declared, declared_quoted = _normalized(rendered_metadata_default, boolean)
    if inspected == declared:
        return False
    # Text is compared as it is; a date or a number the database may spell another way.
    text_column = isinstance(metadata_column.type, String)
    return True if text_column and inspected_quoted and declared_quoted else None


def _normalized(default: str, boolean: bool) -> tuple[str, bool]:
    """A default without outer parentheses, type casts or quotes, with now() in one spelling,
    and false and true as 0 and 1 in a boolean column; and whether it was a quoted string."""
    default, previous = default.strip(), None
    while default != previous:
        previous = default
        default = _CAST.sub("", default).strip()
        if default.startswith("(") and default.endswith(")"):
            default = default[1:-1].strip()
    quoted = len(default) >= 2 and default[0] == default[-1] == "'"
    if quoted:
        default = default[1:-1].replace("''", "'")
    if boolean:
        default = _BOOLEAN_SPELLINGS.get(default.lower(), default)
    return ("now()" if _CURRENT_TIME.match(default) else default), quoted
