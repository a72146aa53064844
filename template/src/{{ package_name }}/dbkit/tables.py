"""Every table of the package, for autogenerate: the modules that define them, imported."""

import importlib
import re
from pathlib import Path

# What a module that defines tables has in its source: SQLModel, Table() or declarative.
_DEFINES_TABLES = re.compile(rb"table\s*=\s*True|\bTable\(|__tablename__")
# The kit itself, and the migrations that a wheel carries inside the package.
_NOT_MODELS = {"dbkit", "migrations"}
PACKAGE = __package__.rpartition(".")[0]  # the package that holds the kit


def load_models() -> None:
    """Import every module of the package that defines tables, so that SQLModel.metadata holds
    every table wherever it is (env.py needs no edit for a new module).

    Only modules whose source defines a table are imported: importing an app module could
    start the app.
    """
    package = Path(__file__).parents[1]
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not parts or parts[0] in _NOT_MODELS or not all(p.isidentifier() for p in parts):
            continue
        if _DEFINES_TABLES.search(path.read_bytes()):
            importlib.import_module(".".join((PACKAGE, *parts)))
