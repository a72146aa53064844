"""What the fixes need to know of a column: the type it stores values as, and whether it is
a plain string or NOT NULL without a default."""

from typing import Any

from sqlalchemy import Column, Enum, String, TypeDecorator


def underlying(type_: Any) -> Any:
    """The type a TypeDecorator (SQLModel's AutoString, say) stores values as."""
    return type_.impl_instance if isinstance(type_, TypeDecorator) else type_


def plain_string(type_: Any) -> bool:
    return isinstance(type_, String) and not isinstance(type_, Enum)


def not_null_without_default(column: Column[Any]) -> bool:
    return not column.nullable and column.server_default is None
