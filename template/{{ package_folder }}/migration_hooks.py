"""Your migration settings: env.py calls these, and `copier update` never touches this file."""

from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.sql.schema import SchemaItem

# Tables that are not SQLModel classes (plain SQLAlchemy Table objects, another library's).
EXTRA_METADATA: list[MetaData] = []

# More keyword arguments for context.configure, e.g. {"version_table_schema": "app"}.
CONFIGURE_OPTIONS: dict[str, Any] = {}


def include_object(
    obj: SchemaItem, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """False makes autogenerate ignore an object, e.g. a table that another tool manages."""
    return True
