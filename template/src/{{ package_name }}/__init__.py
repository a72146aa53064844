"""The application package: its tables, its database and its migrations."""

import importlib
import re
from pathlib import Path

from sqlmodel import SQLModel

from .naming import NAMING_CONVENTION

# Name every index and constraint: downgrades and SQLite batch migrations need the names.
# This module runs before any module of the package, so before any table class exists.
SQLModel.metadata.naming_convention = NAMING_CONVENTION

# What a module that defines tables has in its source: SQLModel, Table() or declarative.
_DEFINES_TABLES = re.compile(rb"table\s*=\s*True|\bTable\(|__tablename__")


def load_models() -> None:
    """Import every module of the package that defines tables, so that SQLModel.metadata holds
    every table wherever it is (env.py needs no edit for a new module).

    Only modules whose source defines a table are imported: importing an app module could
    start the app. The migrations that a wheel carries inside the package are left out.
    """
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not parts or parts[0] == "migrations" or not all(p.isidentifier() for p in parts):
            continue
        if _DEFINES_TABLES.search(path.read_bytes()):
            importlib.import_module(".".join((__name__, *parts)))
