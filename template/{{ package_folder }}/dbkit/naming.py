"""The names of constraints and indexes: every column in the name, at most 63 characters.

Downgrades and SQLite batch migrations need every constraint named. A name built from all
of its columns keeps two composite constraints that start with the same column apart; a
name longer than PostgreSQL's limit (63; MySQL's is 64) ends in a hash of the whole name, so
that two long names that share a beginning stay apart too.
"""

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Constraint, ForeignKeyConstraint, Index, MetaData, Table
from sqlalchemy.exc import InvalidRequestError

MAX_NAME_LENGTH = 63
_HASH_LENGTH = 8


def shortened(name: str, limit: int = MAX_NAME_LENGTH) -> str:
    """name, or its beginning and a hash of all of it when it is longer than limit."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:_HASH_LENGTH]
    return f"{name[: limit - _HASH_LENGTH - 1]}_{digest}"


def _column_names(item: Constraint | Index) -> list[str]:
    if isinstance(item, ForeignKeyConstraint):
        return [element.parent.name for element in item.elements]
    return [column.name for column in item.columns]


def _referred_table(key: ForeignKeyConstraint) -> str:
    return key.elements[0].target_fullname.split(".")[-2]


def _table_label(table: Table) -> str:
    return f"{table.schema}_{table.name}" if table.schema else table.name


def full_name(kind: str, item: Constraint | Index, table: Table) -> str:
    """The name, before shortening, of a constraint or index of this kind ("ix", "uq", "ck",
    "fk" or "pk"): ix_hero_name, uq_hero_team_id_name, fk_hero_team_id_team, ck_hero_<given>."""
    columns = "_".join(_column_names(item))
    if kind == "ix":
        return f"ix_{_table_label(table)}_{columns}"
    if kind == "uq":
        return f"uq_{table.name}_{columns}"
    if kind == "fk":
        assert isinstance(item, ForeignKeyConstraint)
        return f"fk_{table.name}_{columns}_{_referred_table(item)}"
    if kind == "ck":
        if not isinstance(item.name, str) or not item.name:
            raise InvalidRequestError(
                f"A check constraint on {table.name} has no name: give it one"
                ' (CheckConstraint(..., name="positive_age")); the database name is'
                f" ck_{table.name}_<name>."
            )
        return f"ck_{table.name}_{item.name}"
    return f"pk_{table.name}"


def name_of(kind: str, item: Constraint | Index, table: Table) -> str:
    return shortened(full_name(kind, item, table))


def _token(kind: str) -> Callable[[Any, Table], str]:
    def token(item: Any, table: Table) -> str:
        return name_of(kind, item, table)

    return token


# SQLAlchemy applies a convention to a constraint that was given a name (a check constraint
# always is) only when the convention mentions "constraint_name": hence the ck token's name.
NAMING_CONVENTION: dict[str, Any] = {
    "ix_name": _token("ix"),
    "uq_name": _token("uq"),
    "ck_constraint_name": _token("ck"),
    "fk_name": _token("fk"),
    "pk_name": _token("pk"),
    "ix": "%(ix_name)s",
    "uq": "%(uq_name)s",
    "ck": "%(ck_constraint_name)s",
    "fk": "%(fk_name)s",
    "pk": "%(pk_name)s",
}


class DuplicateNameError(ValueError):
    """Two constraints or indexes of the models have one name: a database keeps only one."""


def check_unique_names(metadatas: Iterable[MetaData]) -> None:
    """Refuse two distinct constraints or indexes with the same name in the models."""
    seen: dict[str, str] = {}
    for metadata in metadatas:
        for table in metadata.tables.values():
            items: list[Any] = [*table.constraints, *table.indexes]
            for item in items:
                if not isinstance(item.name, str):
                    continue
                where = f"{type(item).__name__} on {table.fullname}"
                where += f" ({', '.join(_column_names(item))})"
                if item.name in seen and seen[item.name] != where:
                    raise DuplicateNameError(
                        f"Two constraints or indexes are named {item.name!r}: the"
                        f" {seen[item.name]} and the {where}. A database keeps only one of"
                        " them: give one of them another name (name=...)."
                    )
                seen[item.name] = where
